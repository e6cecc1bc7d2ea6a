import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import test, { after, before, describe } from 'node:test';
import { upgradeStatus, waitFor, withTimeout } from '../helpers/raw-client.js';
import { startServer, type TestServer, useServer } from '../helpers/server.js';

describe('Origin check at upgrade', () => {
  const server = useServer();

  test('no Origin header is accepted', async () => {
    assert.equal(await upgradeStatus(server.url), 101);
  });

  for (const origin of ['http://localhost:3000', 'http://127.0.0.1', 'http://[::1]:8080']) {
    test(`loopback origin ${origin} is accepted`, async () => {
      assert.equal(await upgradeStatus(server.url, { origin }), 101);
    });
  }

  for (const origin of ['https://evil.example', 'null', 'http://localhost.evil.example', 'file://']) {
    test(`origin ${origin} is refused with HTTP 403`, async () => {
      assert.equal(await upgradeStatus(server.url, { origin }), 403);
    });
  }

  test('a plain HTTP request (no upgrade) gets 426', async () => {
    const res = await fetch(`http://${server.listener.address}/`);
    assert.equal(res.status, 426);
    await res.text();
  });

  test('after refusals the daemon still serves', async () => {
    await upgradeStatus(server.url, { origin: 'https://evil.example' });
    const c = await server.authed();
    assert.equal(await c.result('state.exists', { key: 'k' }), false);
  });
});

/** Write one masked client frame by hand (RFC 6455 §5.2), for payloads < 126 bytes. */
function clientFrame(opcode: number, payload: Buffer, fin: boolean): Buffer {
  assert.ok(payload.length < 126);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | payload.length]), mask, masked]);
}

/** Open a raw TCP socket and complete a WebSocket upgrade by hand. */
async function rawUpgrade(host: string, port: number): Promise<{ socket: Socket; data: Buffer[]; closed: Promise<void> }> {
  const socket = connect(port, host);
  const data: Buffer[] = [];
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {
    // 'close' follows.
  });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    'GET / HTTP/1.1\r\n' +
      `Host: ${host}:${port}\r\n` +
      'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('data', (chunk: Buffer) => {
      if (!chunk.toString('latin1').startsWith('HTTP/1.1 101')) reject(new Error(`no upgrade: ${chunk.toString('latin1')}`));
      else resolve();
    });
  });
  socket.on('data', (chunk: Buffer) => data.push(chunk));
  return { socket, data, closed };
}

/** The close code of a server close frame, if `bytes` holds one. */
function serverCloseCode(bytes: Buffer): number | undefined {
  let i = 0;
  while (i + 2 <= bytes.length) {
    const opcode = bytes[i]! & 0x0f;
    let len = bytes[i + 1]! & 0x7f;
    let off = i + 2;
    if (len === 126) {
      len = bytes.readUInt16BE(off);
      off += 2;
    } else if (len === 127) {
      len = Number(bytes.readBigUInt64BE(off));
      off += 8;
    }
    if (opcode === 0x8 && len >= 2) return bytes.readUInt16BE(off);
    i = off + len;
  }
  return undefined;
}

describe('frame limits and robustness', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      maxPayloadBytes: 32 * 1024,
      maxFragments: 16,
      maxJsonDepth: 64,
      // The params fuzz below calls every method; gated ones would otherwise park for the gate's timeout.
      approvalGate: { enabled: false, methods: [], timeoutMs: 1 },
    });
  });
  after(async () => {
    await server.close();
  });

  test('an oversize frame closes that connection with 1009; another connection keeps working', async () => {
    const bystander = await server.authed();
    const big = await server.authed();
    big.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'state.set', params: { key: 'k', value: 'x'.repeat(40_000) } }));
    const closed = await big.waitClosed();
    assert.equal(closed.code, 1009);
    assert.equal(await bystander.result('state.set', { key: 'k', value: 'small' }), 'ok');
    // A frame just under the limit is fine.
    assert.equal(await bystander.result('state.set', { key: 'k', value: 'y'.repeat(30_000) }), 'ok');
  });

  test('10k-deep nesting is -32600 and the connection keeps working', async () => {
    const c = await server.authed();
    c.send('['.repeat(10_000) + ']'.repeat(10_000));
    const reply = await c.next();
    assert.equal(reply.id, null);
    assert.equal(reply.error.code, -32600);
    assert.match(reply.error.message, /nesting deeper than 64 levels/);

    c.send(`{"jsonrpc":"2.0","id":5,"method":"state.set","params":{"key":"d","value":${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}}}`);
    const objReply = await c.next();
    assert.equal(objReply.error.code, -32600);
    assert.equal(objReply.id, null);

    assert.equal(await c.result('state.set', { key: 'd', value: [[[[1]]]] }), 'ok');
    assert.deepEqual(await c.result('state.get', { key: 'd' }), [[[[1]]]]);
  });

  test('brackets inside strings do not count as nesting', async () => {
    const c = await server.authed();
    const text = '['.repeat(3000);
    assert.equal(await c.result('state.set', { key: 's', value: text }), 'ok');
    assert.equal(await c.result('state.get', { key: 's' }), text);
  });

  test('a flood of tiny fragments (ws send with fin:false) beyond maxFragments closes that connection', async () => {
    const bystander = await server.authed();
    const c = await server.authed();
    for (let i = 0; i < 100 && c.isOpen; i++) c.ws.send('a', { fin: false });
    const closed = await c.waitClosed();
    assert.equal(closed.code, 1008);
    assert.equal(await bystander.result('state.exists', { key: 'k' }), false);
  });

  test('a flood of empty fragments over a hand-framed raw socket is cut off; the daemon is fine', async () => {
    const [host, port] = [server.listener.address.split(':')[0]!, server.listener.port!];
    const raw = await rawUpgrade(host, port);
    const frames: Buffer[] = [clientFrame(0x1, Buffer.alloc(0), false)];
    for (let i = 0; i < 200; i++) frames.push(clientFrame(0x0, Buffer.alloc(0), false));
    raw.socket.write(Buffer.concat(frames));
    await withTimeout(raw.closed, 2000, 'the server closing the raw socket');
    assert.equal(serverCloseCode(Buffer.concat(raw.data)), 1008);
    const c = await server.authed();
    assert.equal(await c.result('state.exists', { key: 'k' }), false);
  });

  test('a message split into a few fragments (within the limit) is served', async () => {
    const c = await server.authed();
    const text = JSON.stringify({ jsonrpc: '2.0', id: 'frag', method: 'state.exists', params: { key: 'k' } });
    const parts = [text.slice(0, 10), text.slice(10, 30), text.slice(30)];
    c.ws.send(parts[0]!, { fin: false });
    c.ws.send(parts[1]!, { fin: false });
    c.ws.send(parts[2]!, { fin: true });
    assert.deepEqual(await c.next(), { jsonrpc: '2.0', id: 'frag', result: false });
  });

  test('a binary frame gets a -32600 error reply; the connection is fine', async () => {
    const c = await server.authed();
    c.ws.send(Buffer.from([1, 2, 3, 4]), { binary: true });
    const reply = await c.next();
    assert.equal(reply.jsonrpc, '2.0');
    assert.equal(reply.id, null);
    assert.equal(reply.error.code, -32600);
    assert.match(reply.error.message, /^invalid request: binary frame: 4 bytes is shorter than the 26-byte header/);
    assert.equal(await c.result('state.exists', { key: 'k' }), false);
  });

  test('wrong-type params to every method never crash the connection or the daemon', async () => {
    const c = await server.authed();
    const caps = await c.result('capabilities.list', {});
    const methods: string[] = caps.methods.map((m: { method: string }) => m.method);
    methods.push('host.subscribe', 'auth.login', 'no.such');
    const badParams: unknown[] = [
      [],
      [1, 2, 3],
      ['a'],
      [null],
      [{}],
      {},
      { key: 1 },
      { key: null },
      { key: {}, value: () => 1, tenant_id: [] },
      { key: 'k', tenant_id: 5 },
      { name: 42 },
      { token: 7, host_token: false, agent_id: [] },
      { protocol_version: { v: 2 } },
      { ms: 'soon', message: 5, tool: [], count: -1, size: 'x' },
      JSON.parse('{"__proto__": {"polluted": true}, "key": "k"}'),
      { constructor: { prototype: { x: 1 } } },
      [{ name: null }],
      [{ name: 'x', parameters: 'not-a-schema', cache_ttl_secs: -5 }],
    ];
    let id = 0;
    for (const method of methods) {
      if (method === 'session.auth' || method === 'test.flood') continue;
      for (const params of badParams) {
        const reply = await c.call(method, params, { id: ++id });
        assert.equal(reply.id, id);
        assert.ok('result' in reply || 'error' in reply, `${method}: ${JSON.stringify(reply)}`);
        if ('error' in reply) {
          assert.equal(typeof reply.error.code, 'number');
          assert.equal(typeof reply.error.message, 'string');
        }
      }
    }
    // session.auth last: bad types are -32602, and the connection is still authenticated.
    for (const params of badParams) {
      const reply = await c.call('session.auth', params, { id: ++id });
      assert.ok('result' in reply || 'error' in reply);
    }
    assert.equal(c.isOpen, true);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    const other = await server.authed();
    assert.equal(await other.result('state.exists', { key: 'k' }), false);
  });
});

describe('slow consumers', () => {
  const server = useServer({ maxOutboundBufferedBytes: 256 * 1024 });

  test('a client that keeps reading stays connected through a burst of notifications', async () => {
    const c = await server.authed();
    let blobs = 0;
    c.ws.on('message', () => blobs++);
    const result = await c.result('test.flood', { count: 200, size: 16 * 1024 });
    assert.deepEqual(result, { sent: 200 });
    assert.equal(server.hooks.flood.refused, false);
    await waitFor(() => blobs >= 201);
    assert.equal(c.isOpen, true);
  });

  test('a client that stops reading is disconnected once it leaves too much unread; others keep working', async () => {
    const bystander = await server.authed();
    const slow = await server.authed();
    const sessionsBefore = server.state.sessions.size;
    server.hooks.flood = { sent: 0, refused: false, done: false };
    slow.ws.pause();
    slow.send({ jsonrpc: '2.0', id: 'flood', method: 'test.flood', params: { count: 20_000, size: 16 * 1024 } });
    await waitFor(() => server.hooks.flood.done, 10_000, 'the flood to stop');
    assert.equal(server.hooks.flood.refused, true, 'the transport refused a frame');
    assert.ok(server.hooks.flood.sent < 20_000);
    await waitFor(() => server.state.sessions.size === sessionsBefore - 1, 2000, 'the slow session to be dropped');

    assert.equal(await bystander.result('state.set', { key: 'k', value: 1 }), 'ok');

    slow.ws.resume();
    const closed = await slow.waitClosed(5000);
    assert.notEqual(closed.code, 1000);
  });
});

describe('heartbeat', () => {
  // Short enough to see several pings, long enough that a busy machine still answers each in time.
  const INTERVAL = 200;
  const server = useServer({ heartbeatIntervalMs: INTERVAL });

  test('a client that does not answer pings is terminated', async () => {
    const deaf = await server.connect({ autoPong: false });
    const sessionsBefore = server.state.sessions.size;
    const started = Date.now();
    const closed = await deaf.waitClosed();
    assert.equal(closed.code, 1006, 'terminated without a closing handshake');
    assert.ok(Date.now() - started >= INTERVAL, 'not before the first missed pong');
    await waitFor(() => server.state.sessions.size === sessionsBefore - 1, undefined, 'the dead session to be removed');
  });

  test('a normal client (auto pong) stays connected', async () => {
    const c = await server.authed();
    let pings = 0;
    c.ws.on('ping', () => pings++);
    await waitFor(() => pings >= 3, undefined, 'three pings');
    assert.equal(c.isOpen, true);
    assert.equal(await c.result('state.exists', { key: 'k' }), false);
  });
});
