import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { ASYNC_GET_METHOD, CALLBACK_METHOD, callbackParams, HANDSHAKE_RESULT } from '../protocol.js';
import { serveChild } from './child.js';
import { listenHttp } from './http-listen.js';

/**
 * The floor: a ws server that parses each frame, looks the method up in a small table and
 * stringifies the reply. No validation, no sessions, no limits: what JSON-RPC over ws costs
 * with nothing else in the way.
 */

interface Conn {
  ws: WebSocket;
  store: Map<string, unknown>;
  pending: Map<string, () => void>;
  nextCallbackId: number;
}

type Params = Record<string, unknown>;
type Handler = (params: Params, conn: Conn) => unknown;

const methods: Record<string, Handler> = {
  'server.handshake': () => HANDSHAKE_RESULT,
  'state.set': (p, c) => {
    c.store.set(String(p.key), p.value ?? null);
    return 'ok';
  },
  'state.get': (p, c) => c.store.get(String(p.key)) ?? null,
  [ASYNC_GET_METHOD]: async (p, c) => c.store.get(String(p.key)) ?? null,
  [CALLBACK_METHOD]: (p, c) => runCallbacks(c, Number(p.count), Number(p.concurrency)),
};

function callClient(conn: Conn, i: number): Promise<void> {
  const id = `cb-${conn.nextCallbackId++}`;
  return new Promise((resolve) => {
    conn.pending.set(id, resolve);
    conn.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools.execute', params: callbackParams(id, i) }));
  });
}

async function runCallbacks(conn: Conn, count: number, concurrency: number): Promise<number> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await callClient(conn, next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return count;
}

function reply(conn: Conn, id: unknown, result: unknown): void {
  conn.ws.send(JSON.stringify({ jsonrpc: '2.0', id, result }));
}

function onMessage(conn: Conn, data: RawData): void {
  const msg = JSON.parse(String(data)) as { id?: unknown; method?: unknown; params?: Params };
  if (typeof msg.method !== 'string') {
    // A reply to one of our callbacks.
    const resolve = conn.pending.get(msg.id as string);
    if (resolve) {
      conn.pending.delete(msg.id as string);
      resolve();
    }
    return;
  }
  const handler = methods[msg.method];
  if (!handler) {
    conn.ws.send(JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'method not found' } }));
    return;
  }
  const out = handler(msg.params ?? {}, conn);
  if (out instanceof Promise) void out.then((result: unknown) => reply(conn, msg.id, result));
  else reply(conn, msg.id, out);
}

serveChild('bare-ws', async (spec) => {
  const { server, url } = await listenHttp(spec);
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    const conn: Conn = { ws, store: new Map(), pending: new Map(), nextCallbackId: 0 };
    ws.on('message', (data) => onMessage(conn, data));
  });
  return { url };
});
