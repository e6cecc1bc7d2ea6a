import type { Server } from 'node:http';
import { serveTcp, serveUnix, type Listener } from '../transport/listen.js';
import { endpointFor } from './dispatch.js';
import type { ServerState } from './state.js';

export type { Listener };

/** Serve the daemon over WebSocket on TCP (defaults: the config's host and port). */
export async function listenTcp(state: ServerState, opts: { host?: string; port?: number } = {}): Promise<Listener> {
  const host = opts.host ?? state.config.host;
  const listener = await serveTcp(endpointFor(state), host, opts.port ?? state.config.port);
  // Supervised agents dial the first TCP listener (CAR_DAEMON_URL), over loopback when it listens on every address.
  const wildcard = host === '0.0.0.0' || host === '::' || host === 'localhost';
  state.agents.daemonUrl ??= wildcard ? `ws://127.0.0.1:${listener.port}` : `ws://${listener.address}`;
  return listener;
}

/** Serve the daemon over WebSocket on a Unix socket (default: the config's socketPath). */
export function listenUnix(state: ServerState, path?: string): Promise<Listener> {
  const target = path ?? state.config.socketPath;
  if (!target) throw new Error('listenUnix needs a socket path (argument or ServerStateConfig.socketPath)');
  return serveUnix(endpointFor(state), target);
}

/**
 * Serve the daemon on an embedder's own HTTP server: upgrades (optionally only on `path`) become
 * sessions, after the origin check. Returns a function that detaches again.
 */
export function attachToHttpServer(server: Server, state: ServerState, opts: { path?: string } = {}): () => void {
  return endpointFor(state).attach(server, 'ws-tcp', opts.path);
}
