import assert from 'node:assert/strict';
import { existsSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { join } from 'node:path';
import test, { after, afterEach, before, describe } from 'node:test';
import { WebSocketServer } from 'ws';
import {
  ServerState,
  ServerStateConfig,
  attachToHttpServer,
  handleConnection,
  listenTcp,
  listenUnix,
  runDispatch,
  type CloseInfo,
  type Listener,
} from '../../src/index.js';
import { rawClient, upgradeStatus, waitFor, withTimeout, type RawClient } from '../helpers/raw-client.js';
import { removeTempDir, tempDir } from '../helpers/temp.js';

function newState(overrides: ConstructorParameters<typeof ServerStateConfig>[0] = {}): ServerState {
  return ServerState.embedded(new ServerStateConfig({ authToken: 'tok', hostToken: 'host', ...overrides }));
}

function closeNet(server: NetServer | HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function listenNet<T extends NetServer | HttpServer>(server: T): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/** A Unix socket file with nothing listening on it (as a crashed daemon leaves behind). */
async function makeStaleSocket(path: string): Promise<void> {
  const side = `${path}.tmp`;
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(side, () => resolve()));
  renameSync(side, path);
  await closeNet(server); // unlinks `side` (already gone); `path` stays, with no listener
}

async function authedOn(url: string): Promise<RawClient> {
  const c = await rawClient(url);
  assert.deepEqual(await c.result('session.auth', { token: 'tok' }), { ok: true, auth_enabled: true });
  return c;
}

describe('listenUnix', () => {
  let dir: string;
  const cleanups: (() => Promise<void>)[] = [];
  before(() => {
    dir = tempDir('car-unix-');
  });
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  after(() => {
    removeTempDir(dir);
  });

  async function serve(state: ServerState, path: string): Promise<Listener> {
    const listener = await listenUnix(state, path);
    cleanups.push(async () => {
      await state.close();
      await listener.close();
    });
    return listener;
  }

  test('creates the socket with mode 0600 and serves WebSocket JSON-RPC over it', async () => {
    const path = join(dir, 'a.sock');
    const state = newState();
    const listener = await serve(state, path);
    assert.equal(listener.address, path);
    assert.equal(listener.port, undefined);
    const st = statSync(path);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);

    const c = await authedOn(`ws+unix://${path}:/`);
    cleanups.unshift(() => c.close());
    assert.equal(await c.result('state.set', { key: 'over', value: 'unix' }), 'ok');
    assert.equal(await c.result('state.get', { key: 'over' }), 'unix');
    const session = [...state.sessions.values()][0]!;
    assert.equal(session.transportKind, 'ws-unix');
    assert.deepEqual(await c.result('server.handshake', { protocol_version: 2 }), {
      protocol_version: 2,
      server_version: state.config.serverVersion,
      client_protocol_version: 2,
    });
  });

  test('a stale socket file at the path is replaced', async () => {
    const path = join(dir, 'stale.sock');
    await makeStaleSocket(path);
    assert.ok(statSync(path).isSocket());
    const state = newState();
    await serve(state, path);
    const c = await authedOn(`ws+unix://${path}:/`);
    cleanups.unshift(() => c.close());
    assert.equal(await c.result('state.exists', { key: 'k' }), false);
  });

  test('a live socket at the path is refused, and the live listener keeps working', async () => {
    const path = join(dir, 'live.sock');
    const first = newState();
    await serve(first, path);
    const second = newState();
    await assert.rejects(listenUnix(second, path), /in use by a live process/);
    const c = await authedOn(`ws+unix://${path}:/`);
    cleanups.unshift(() => c.close());
    assert.equal(await c.result('state.exists', { key: 'k' }), false);
  });

  test('a regular file at the path is never replaced', async () => {
    const path = join(dir, 'file.sock');
    writeFileSync(path, 'precious');
    await assert.rejects(listenUnix(newState(), path), /exists and is not a socket/);
    assert.ok(statSync(path).isFile());
  });

  test('closing the listener removes the socket file', async () => {
    const path = join(dir, 'gone.sock');
    const state = newState();
    const listener = await listenUnix(state, path);
    try {
      assert.ok(existsSync(path));
    } finally {
      await state.close();
      await listener.close();
    }
    assert.equal(existsSync(path), false);
  });

  test('the socket path can come from config.socketPath', async () => {
    const path = join(dir, 'cfg.sock');
    const state = newState({ socketPath: path });
    const listener = await serve(state, undefined as unknown as string);
    assert.equal(listener.address, path);
    assert.ok(statSync(path).isSocket());
  });
});

describe('listenTcp lifecycle', () => {
  test('listener.close() stops accepting at once; it resolves after state.close() ends open sessions', async () => {
    const state = newState();
    const listener = await listenTcp(state, { host: '127.0.0.1', port: 0 });
    let c: RawClient | undefined;
    try {
      assert.match(listener.address, /^127\.0\.0\.1:\d+$/);
      const url = `ws://${listener.address}/`;
      c = await authedOn(url);
      let listenerClosed = false;
      const closing = listener.close().then(() => {
        listenerClosed = true;
      });
      await assert.rejects(rawClient(url), /ECONNREFUSED/);
      assert.equal(await c.result('state.exists', { key: 'k' }), false, 'the open session still works');
      await state.close();
      const info = await c.waitClosed();
      assert.equal(info.code, 1001);
      await withTimeout(closing, 2000, 'listener.close()');
      assert.equal(listenerClosed, true);
      assert.equal(state.sessions.size, 0);
    } finally {
      await c?.close();
      await state.close();
      await listener.close();
    }
  });
});

describe('attachToHttpServer', () => {
  let state: ServerState;
  let http: HttpServer;
  let port: number;
  let detach: () => void;
  before(async () => {
    state = newState();
    http = createHttpServer((req, res) => {
      if (req.url === '/health') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('healthy');
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    detach = attachToHttpServer(http, state, { path: '/car' });
    port = await listenNet(http);
  });
  after(async () => {
    detach();
    await state.close();
    http.closeAllConnections();
    await closeNet(http);
  });

  test("the embedder's own HTTP route keeps working", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'healthy');
  });

  test('our WebSocket is served on the given path', async () => {
    const c = await authedOn(`ws://127.0.0.1:${port}/car`);
    assert.equal(await c.result('state.set', { key: 'k', value: 'attached' }), 'ok');
    assert.equal(await c.result('state.get', { key: 'k' }), 'attached');
    await c.close();
  });

  test('a query string on the path is fine', async () => {
    const c = await authedOn(`ws://127.0.0.1:${port}/car?client=test`);
    await c.close();
  });

  test('the origin check applies to attached servers too', async () => {
    assert.equal(await upgradeStatus(`ws://127.0.0.1:${port}/car`, { origin: 'https://evil.example' }), 403);
  });
});

describe('handleConnection and runDispatch', () => {
  test('handleConnection(socket, state) serves a socket accepted by a plain net.Server', async () => {
    const state = newState();
    const net = createNetServer((socket) => handleConnection(socket, state));
    const port = await listenNet(net);
    try {
      const c = await authedOn(`ws://127.0.0.1:${port}/`);
      assert.equal(await c.result('state.set', { key: 'k', value: 1 }), 'ok');
      assert.deepEqual(await c.result('state.keys', {}), ['k']);
      const session = [...state.sessions.values()][0]!;
      assert.equal(session.transportKind, 'ws-tcp');
      assert.equal(session.remoteAddress, '127.0.0.1');
      await c.close();
      await waitFor(() => state.sessions.size === 0);
      assert.equal(await upgradeStatus(`ws://127.0.0.1:${port}/`, { origin: 'null' }), 403);
    } finally {
      await state.close();
      await closeNet(net);
    }
  });

  test('a plain HTTP request on a handed-over socket gets 426', async () => {
    const state = newState();
    const net = createNetServer((socket) => handleConnection(socket, state));
    const port = await listenNet(net);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(res.status, 426);
      await res.text();
    } finally {
      await state.close();
      await closeNet(net);
    }
  });

  test("runDispatch serves a server-side ws WebSocket from the embedder's own WebSocketServer", async () => {
    const state = newState();
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const done: Promise<CloseInfo>[] = [];
    wss.on('connection', (ws) => done.push(runDispatch(ws, state, { remoteAddress: 'embedder' })));
    try {
      const port = (wss.address() as AddressInfo).port;
      const c = await authedOn(`ws://127.0.0.1:${port}/`);
      assert.equal(await c.result('state.set', { key: 'k', value: 'dispatched' }), 'ok');
      assert.equal(await c.result('state.get', { key: 'k' }), 'dispatched');
      const session = [...state.sessions.values()][0]!;
      assert.equal(session.remoteAddress, 'embedder');
      c.ws.close(4000, 'bye');
      const info = await withTimeout(done[0]!, 2000, 'runDispatch to resolve');
      assert.equal(info.code, 4000);
      assert.equal(info.reason, 'bye');
      assert.equal(state.sessions.size, 0);
    } finally {
      await state.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    }
  });

  test('runDispatch on an already-closed ws resolves at once and leaves no session behind', async () => {
    const state = newState();
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const got = new Promise<import('ws').WebSocket>((resolve) => wss.once('connection', resolve));
    try {
      const port = (wss.address() as AddressInfo).port;
      const c = await rawClient(`ws://127.0.0.1:${port}/`);
      const ws = await got;
      await c.close();
      await waitFor(() => ws.readyState === ws.CLOSED);
      const info = await withTimeout(runDispatch(ws, state), 1000, 'runDispatch on a closed socket');
      assert.equal(typeof info.code, 'number');
      assert.equal(state.sessions.size, 0);
    } finally {
      await state.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    }
  });
});
