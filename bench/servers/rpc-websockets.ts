import { Server } from 'rpc-websockets';
import { HANDSHAKE_RESULT } from '../protocol.js';
import { serveChild } from './child.js';
import { listenHttp } from './http-listen.js';

/** `rpc-websockets`' Server with the same three methods, attached to a plain HTTP listener. */

serveChild('rpc-websockets', async (spec) => {
  const { server, url } = await listenHttp(spec);
  const rpc = new Server({ server, perMessageDeflate: false });
  // rpc-websockets hands methods the socket id; keep one store per socket like the other targets.
  const stores = new Map<string, Map<string, unknown>>();
  const storeOf = (socketId: string): Map<string, unknown> => {
    let store = stores.get(socketId);
    if (!store) stores.set(socketId, (store = new Map()));
    return store;
  };
  const keyOf = (params: unknown): string => String((params as { key?: unknown } | undefined)?.key);
  rpc.register('server.handshake', () => HANDSHAKE_RESULT);
  rpc.register('state.set', (params, socketId) => {
    storeOf(socketId).set(keyOf(params), (params as { value?: unknown }).value ?? null);
    return 'ok';
  });
  rpc.register('state.get', (params, socketId) => storeOf(socketId).get(keyOf(params)) ?? null);
  rpc.on('disconnection', (socket: { _id?: string }) => {
    if (socket._id !== undefined) stores.delete(socket._id);
  });
  return { url };
});
