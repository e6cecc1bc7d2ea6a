import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import test, { describe } from 'node:test';
import { signPeerRequest } from '../../src/a2a/peer-signature.js';
import { ephemeralKey, type SigningKey } from '../../src/a2a/signing-key.js';
import { startServer, useServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/temp.js';

/** A JSON-RPC SendMessage body carrying `parts`. */
function sendBody(parts: unknown[], id: number | string = 1, method = 'SendMessage'): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method, params: { message: { messageId: `m-${id}-${Math.random()}`, role: 'ROLE_USER', parts } } });
}

interface Reply {
  status: number;
  json: any;
}

/** POST `body` to the peer listener, signed by `key` (or not at all), optionally changing what was signed. */
async function post(bound: string, body: string, key: SigningKey | null, opts: { headers?: (h: Record<string, string>) => Record<string, string>; sent?: string; now?: number } = {}): Promise<Reply> {
  let headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers = { ...headers, ...signPeerRequest(key, { method: 'POST', host: bound, path: '/', body: Buffer.from(body) }, opts.now) };
  if (opts.headers) headers = opts.headers(headers);
  const res = await fetch(`http://${bound}/`, { method: 'POST', headers, body: opts.sent ?? body });
  return { status: res.status, json: await res.json() };
}

/** A signed POST with another `Host` header than the listener's (fetch cannot set one). */
function postWithHost(bound: string, host: string, body: string, key: SigningKey): Promise<Reply> {
  const [hostname, port] = [bound.slice(0, bound.lastIndexOf(':')), Number(bound.slice(bound.lastIndexOf(':') + 1))];
  const headers = { 'content-type': 'application/json', host, ...signPeerRequest(key, { method: 'POST', host, path: '/', body: Buffer.from(body) }) };
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method: 'POST', path: '/', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function logLines(path: string): any[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

async function peerServer(home: string, overrides: Record<string, unknown> = {}): Promise<{ server: TestServer; bound: string; log: string }> {
  const log = join(home, 'peer-messages.jsonl');
  const server = await startServer({ a2aPeerBind: '127.0.0.1:0', a2aPeerLogPath: log, a2aPeersPath: join(home, 'a2a-peers.json'), a2aKeyPath: join(home, 'a2a', 'agent-key.pem'), ...overrides });
  const { bound } = await server.state.a2a.listenPeers();
  return { server, bound, log };
}

describe('the peer-authenticated A2A listener', () => {
  const home = tempDir('car-a2a-peer-');
  const friend = ephemeralKey();
  let bound = '';
  let log = '';
  let server: TestServer;

  test.before(async () => {
    ({ server, bound, log } = await peerServer(home, { a2aPeerEventTextChars: 8 }));
    const c = await server.authed();
    await c.result('a2a.peers.add', { url: 'http://127.0.0.1:1/', label: 'friend', publicKey: friend.publicKeyBase64 });
  });
  test.after(() => server.close());

  test('a2a.identity: the daemon key, its car-peer subject and where the peer listener is', async () => {
    const c = await server.authed();
    const id = await c.result('a2a.identity', {});
    assert.equal(id.peer_listener, bound);
    assert.equal(id.subject, `car-peer:${id.fingerprint}`);
    assert.equal(Buffer.from(id.public_key, 'base64').length, 32);
  });

  test('the card advertises no skills, no streaming, push or extended card', async () => {
    const res = await fetch(`http://${bound}/.well-known/agent-card.json`);
    const card: any = await res.json();
    assert.deepEqual(card.skills, []);
    assert.equal(card.capabilities.streaming, false);
    assert.equal(card.capabilities.pushNotifications, false);
    assert.equal(card.capabilities.extendedAgentCard, false);
    assert.equal(card.signatures.length, 1);
  });

  test('refused before anything runs: unsigned 401, bad signature 401, unknown key 403, stale 401, replay 401, another Host 403', async () => {
    const before = logLines(log).length;
    const body = sendBody([{ text: 'hi' }]);
    const unsigned = await post(bound, body, null);
    assert.equal(unsigned.status, 401);
    assert.equal(unsigned.json.error.code, -32600);
    const tampered = await post(bound, body, friend, { sent: sendBody([{ text: 'changed' }]) });
    assert.equal(tampered.status, 401);
    assert.match(tampered.json.error.message, /does not verify/);
    const stranger = await post(bound, body, ephemeralKey());
    assert.equal(stranger.status, 403);
    assert.equal(stranger.json.error.code, -32600);
    const stale = await post(bound, body, friend, { now: Date.now() - 61_000 });
    assert.equal(stale.status, 401);
    assert.match(stale.json.error.message, /clock/);
    const once = await post(bound, body, friend);
    assert.equal(once.status, 200);
    const headers = { 'content-type': 'application/json', ...signPeerRequest(friend, { method: 'POST', host: bound, path: '/', body: Buffer.from(body) }) };
    assert.equal((await fetch(`http://${bound}/`, { method: 'POST', headers, body })).status, 200);
    const replayed = await fetch(`http://${bound}/`, { method: 'POST', headers, body });
    assert.equal(replayed.status, 401);
    assert.match(((await replayed.json()) as any).error.message, /replayed/);
    const elsewhere = await postWithHost(bound, 'other.example:8731', body, friend);
    assert.equal(elsewhere.status, 403);
    assert.match(elsewhere.json.error.message, /does not answer for host/);
    assert.equal(logLines(log).length, before + 2, 'only the two accepted messages were logged');
  });

  test('a trusted peer\'s text: "Acknowledged.", logged durably (0600) with its verified identity, and a host event', async () => {
    const c = await server.authed();
    const reply = await post(bound, sendBody([{ text: 'hello there' }], 'txt'), friend);
    assert.equal(reply.status, 200);
    assert.equal(reply.json.id, 'txt');
    const task = reply.json.result.task;
    assert.equal(task.status.state, 'TASK_STATE_COMPLETED', 'answered blocking');
    assert.equal(task.status.message.parts[0].text, 'Acknowledged.');
    const line = logLines(log).at(-1);
    assert.equal(line.text, 'hello there');
    assert.equal(line.subject, `car-peer:${friend.kid}`);
    assert.deepEqual(line.a2a_caller_verified, { subject: `car-peer:${friend.kid}`, claims: { car_peer_key: friend.publicKeyBase64 } });
    assert.equal(line.peer, '127-0-0-1-1');
    assert.equal(statSync(log).mode & 0o777, 0o600);
    const { events } = await c.result('host.events', { limit: 500 });
    const ev = events.filter((e: { kind: string }) => e.kind === 'a2a.peer_message').at(-1);
    assert.equal(ev.payload.subject, `car-peer:${friend.kid}`);
    assert.match(ev.message, /friend/);
  });

  test('a2aPeerEventTextChars: text of exactly the bound is shown whole, one more is cut to it', async () => {
    const c = await server.authed();
    await post(bound, sendBody([{ text: '12345678' }], 'b8'), friend);
    await post(bound, sendBody([{ text: '123456789' }], 'b9'), friend);
    const { events } = await c.result('host.events', { limit: 500 });
    const [at, over] = events.filter((e: { kind: string }) => e.kind === 'a2a.peer_message').slice(-2);
    assert.deepEqual([at.payload.text, at.payload.truncated], ['12345678', false]);
    assert.deepEqual([over.payload.text, over.payload.truncated], ['12345678', true]);
    assert.equal(logLines(log).at(-1).text, '123456789', 'the log keeps it whole');
  });

  test('a tool data part is refused with -32600 and no tool runs; other methods are not served', async () => {
    const c = await server.authed();
    await c.result('tools.register', [{ name: 'echo' }]);
    let executed = false;
    c.ws.on('message', (d: Buffer) => {
      if (JSON.parse(d.toString('utf8'))?.method === 'tools.execute') executed = true;
    });
    const before = logLines(log).length;
    const tool = await post(bound, sendBody([{ text: 'run it' }, { data: { tool: 'echo', parameters: {} } }], 't'), friend);
    assert.equal(tool.status, 200);
    assert.equal(tool.json.error.code, -32600);
    assert.match(tool.json.error.message, /not tool calls/);
    const legacy = await post(bound, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'message/send', params: { message: { kind: 'message', messageId: 'l', role: 'user', parts: [{ kind: 'data', data: { tool: 'echo' } }] } } }), friend);
    assert.equal(legacy.json.error.code, -32600);
    const get = await post(bound, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ListTasks', params: {} }), friend);
    assert.equal(get.json.error.code, -32601);
    assert.equal(logLines(log).length, before, 'nothing refused was logged');
    assert.equal(executed, false);
    // v0.3 text still works, answered blocking.
    const text = await post(bound, JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'message/send', params: { message: { kind: 'message', messageId: 'l2', role: 'user', parts: [{ kind: 'text', text: 'old dialect' }] } } }), friend);
    assert.equal(text.json.result.status.state, 'completed');
    assert.equal(text.json.result.status.message.parts[0].text, 'Acknowledged.');
  });

  test('signed but malformed requests get JSON-RPC errors, the body bound holds before any check, and the listener stays up', async () => {
    const before = logLines(log).length;
    assert.equal((await post(bound, 'not json', friend)).json.error.code, -32700);
    assert.equal((await post(bound, JSON.stringify([JSON.parse(sendBody([{ text: 'a' }]))]), friend)).json.error.code, -32600);
    assert.equal((await post(bound, JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'SendMessage', params: {} }), friend)).json.error.code, -32602);
    assert.equal((await post(bound, JSON.stringify({ jsonrpc: '2.0', id: 10, method: 'SendMessage', params: { message: { parts: 'x' } } }), friend)).json.error.code, -32602);
    const dup = await fetch(`http://${bound}/`, { method: 'POST', headers: [['x-car-peer-key', friend.publicKeyBase64], ['x-car-peer-key', friend.publicKeyBase64]], body: '{}' });
    assert.equal(dup.status, 401);
    const big = await fetch(`http://${bound}/`, { method: 'POST', body: 'x'.repeat(4 * 1024 * 1024 + 1) });
    assert.equal(big.status, 413);
    assert.equal(logLines(log).length, before);
    const ok = await post(bound, sendBody([{ text: 'still here' }]), friend);
    assert.equal(ok.json.result.task.status.message.parts[0].text, 'Acknowledged.');
  });

  test('the operator listener (a2a.start) is unaffected: no peer identity there, and its card still lists tools', async () => {
    const c = await server.authed();
    const { bound: open } = await c.result('a2a.start', { bind: '127.0.0.1:0' });
    try {
      const card: any = await (await fetch(`http://${open}/.well-known/agent-card.json`)).json();
      assert.ok(card.skills.length > 0);
      assert.notEqual(open, bound);
    } finally {
      await c.result('a2a.stop', {});
    }
  });
});

describe('peer listener bounds', () => {
  test('a2aPeerMaxNonces: with the bound taken a new signed request is 503; a2aPeerLogMaxBytes: a message too big for the log is -32603 with data.limit', async (t) => {
    const home = tempDir(t, 'car-a2a-peer-');
    const { server, bound, log } = await peerServer(home, { a2aPeerMaxNonces: 2, a2aPeerLogMaxBytes: 2048 });
    t.after(() => server.close());
    const friend = ephemeralKey();
    const c = await server.authed();
    await c.result('a2a.peers.add', { url: 'http://127.0.0.1:1/', publicKey: friend.publicKeyBase64 });
    const big = await post(bound, sendBody([{ text: 'x'.repeat(2048) }]), friend);
    assert.equal(big.json.error.code, -32603);
    assert.equal(big.json.error.data.limit, 2048);
    assert.equal(logLines(log).length, 0);
    assert.equal((await post(bound, sendBody([{ text: 'a' }]), friend)).status, 200);
    const full = await post(bound, sendBody([{ text: 'b' }]), friend);
    assert.equal(full.status, 503);
    assert.match(full.json.error.message, /2 signed requests/);
  });
});

describe('peer listener trust follows the configuration and the peer list', () => {
  test('a2aPeerSignatureMaxAgeMs is the window the listener uses; a2a.peers.remove withdraws a key at once (403)', async (t) => {
    const home = tempDir(t, 'car-a2a-peer-');
    const { server, bound } = await peerServer(home, { a2aPeerSignatureMaxAgeMs: 5_000 });
    t.after(() => server.close());
    const friend = ephemeralKey();
    const c = await server.authed();
    const { slug } = await c.result('a2a.peers.add', { url: 'http://127.0.0.1:1/', publicKey: friend.publicKeyBase64 });
    const old = await post(bound, sendBody([{ text: 'ten seconds ago' }]), friend, { now: Date.now() - 10_000 });
    assert.equal(old.status, 401, 'inside the default 60 s window, outside the configured 5 s');
    assert.equal((await post(bound, sendBody([{ text: 'now' }]), friend)).status, 200);
    assert.deepEqual(await c.result('a2a.peers.remove', { slug }), { removed: true });
    const gone = await post(bound, sendBody([{ text: 'still there?' }]), friend);
    assert.equal(gone.status, 403);
  });
});

describe('off by default', () => {
  const server = useServer();

  test('a daemon with no a2aPeerBind serves no peer listener', async () => {
    const c = await server.authed();
    assert.equal((await c.result('a2a.identity', {})).peer_listener, null);
    await assert.rejects(server.state.a2a.listenPeers(), /no peer listener address/);
  });

  test('a non-loopback peer bind needs a2aPeerAllowNonLoopbackBind; a wildcard is always refused', async () => {
    for (const bind of ['0.0.0.0:0', '192.0.2.1:0']) {
      const s = await startServer({ a2aPeerBind: bind });
      try {
        await assert.rejects(s.state.a2a.listenPeers(), /wildcard|not a loopback/);
      } finally {
        await s.close();
      }
    }
  });
});

describe('two daemons message each other through a2a.send', () => {
  test('each trusts the other\'s key; a2a.send to a peer signs with the daemon key; both logs hold the other\'s message', async (t) => {
    const a = await peerServer(tempDir(t, 'car-a2a-a-'));
    t.after(() => a.server.close());
    const b = await peerServer(tempDir(t, 'car-a2a-b-'));
    t.after(() => b.server.close());
    const ca = await a.server.authed();
    const cb = await b.server.authed();
    const ida = await ca.result('a2a.identity', {});
    const idb = await cb.result('a2a.identity', {});
    // Before B trusts A, A's signed message is refused with 403.
    await ca.result('a2a.peers.add', { url: `http://${b.bound}`, label: 'B', publicKey: idb.public_key });
    const early = await ca.error('a2a.send', { endpoint: `http://${b.bound}`, message: 'too early', blocking: true });
    assert.match(early.message, /403|not a trusted peer/);
    await cb.result('a2a.peers.add', { url: `http://${a.bound}`, label: 'A', public_key: ida.public_key });

    const ab = await ca.result('a2a.send', { endpoint: `http://${b.bound}`, message: 'hello B' });
    assert.equal(ab.result.status.state, 'TASK_STATE_COMPLETED');
    assert.equal(ab.result.status.message.parts[0].text, 'Acknowledged.');
    const ba = await cb.result('a2a.send', { endpoint: `http://${a.bound}/`, message: 'hello A', blocking: true });
    assert.equal(ba.result.status.message.parts[0].text, 'Acknowledged.');

    const [atB] = logLines(b.log);
    assert.equal(atB.text, 'hello B');
    assert.equal(atB.subject, `car-peer:${ida.fingerprint}`);
    const [atA] = logLines(a.log);
    assert.equal(atA.text, 'hello A');
    assert.equal(atA.subject, `car-peer:${idb.fingerprint}`);

    // A tool call through a2a.send to a peer is refused by the peer listener.
    const tool = await ca.error('a2a.send', { endpoint: `http://${b.bound}`, message: { parts: [{ data: { tool: 'read_file', parameters: { path: 'x' } } }] } });
    assert.match(tool.message, /not tool calls/);
    assert.equal(logLines(b.log).length, 1);
  });

  test('a2a.send to an endpoint that is no peer sends no signature headers', async (t) => {
    const { createServer } = await import('node:http');
    const seen: string[] = [];
    const http = createServer((req, res) => {
      seen.push(...Object.keys(req.headers).filter((h) => h.startsWith('x-car-peer')));
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    t.after(() => http.close());
    const s = await startServer();
    t.after(() => s.close());
    const c = await s.authed();
    const port = (http.address() as { port: number }).port;
    await c.error('a2a.send', { endpoint: `http://127.0.0.1:${port}`, message: 'x' });
    assert.deepEqual(seen, []);
  });
});
