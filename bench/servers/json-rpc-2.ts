import { JSONRPCServer, type JSONRPCRequest } from 'json-rpc-2.0';
import { WebSocketServer } from 'ws';
import { HANDSHAKE_RESULT } from '../protocol.js';
import { serveChild } from './child.js';
import { listenHttp } from './http-listen.js';

/** `json-rpc-2.0`'s JSONRPCServer behind a ws server: parse, receive, stringify. */

type Store = Map<string, unknown>;

function keyOf(params: unknown): string {
  return String((params as { key?: unknown } | undefined)?.key);
}

serveChild('json-rpc-2.0', async (spec) => {
  const rpc = new JSONRPCServer<Store>();
  rpc.addMethod('server.handshake', () => HANDSHAKE_RESULT);
  rpc.addMethod('state.set', (params, store) => {
    store.set(keyOf(params), (params as { value?: unknown }).value ?? null);
    return 'ok';
  });
  rpc.addMethod('state.get', (params, store) => store.get(keyOf(params)) ?? null);

  const { server, url } = await listenHttp(spec);
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    const store: Store = new Map();
    ws.on('message', (data) => {
      const request = JSON.parse(String(data)) as JSONRPCRequest;
      void rpc.receive(request, store).then((response) => {
        if (response) ws.send(JSON.stringify(response));
      });
    });
  });
  return { url };
});
