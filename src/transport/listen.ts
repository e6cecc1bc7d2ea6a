import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { WsEndpoint } from './ws-endpoint.js';

export interface Listener {
  /** `host:port` for TCP, the socket path for Unix sockets. */
  readonly address: string;
  readonly port: number | undefined;
  readonly server: Server;
  /** Stop accepting new connections (open ones are closed by the endpoint). */
  close(): Promise<void>;
}

function plainHttpServer(): Server {
  const server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', connection: 'close', upgrade: 'websocket' });
    res.end('this endpoint speaks JSON-RPC over WebSocket; send an upgrade request\n');
  });
  server.maxHeadersCount = 100;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return server;
}

/**
 * Stop accepting. Upgraded connections are not waited for: they belong to their sessions, which
 * `ServerState.close()` (or the endpoint) closes.
 */
function closeServer(server: Server): Promise<void> {
  if (server.listening) {
    server.close();
    server.closeIdleConnections();
  }
  return Promise.resolve();
}

/** Serve WebSocket upgrades on a TCP address. Port 0 picks a free port. */
export function serveTcp(endpoint: WsEndpoint, host: string, port: number): Promise<Listener> {
  const server = plainHttpServer();
  endpoint.attach(server, 'ws-tcp');
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      const bound = typeof addr === 'object' && addr ? addr.port : port;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      resolve({ address: `${shownHost}:${bound}`, port: bound, server, close: () => closeServer(server) });
    });
  });
}

/** True when something accepts connections on the Unix socket at `path`. */
export function probeUnixSocket(path: string, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (live: boolean): void => {
      socket.destroy();
      resolve(live);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Serve WebSocket upgrades on a Unix socket. A stale socket file (nothing listening) is removed
 * first; a live one is an error. The socket file is made mode 0600 and removed on close.
 */
export async function serveUnix(endpoint: WsEndpoint, path: string): Promise<Listener> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let exists = false;
  try {
    exists = lstatSync(path).isSocket();
    if (!exists) throw new Error(`refusing to replace ${path}: it exists and is not a socket`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (exists) {
    if (await probeUnixSocket(path)) throw new Error(`socket ${path} is in use by a live process`);
    unlinkSync(path);
  }
  const server = plainHttpServer();
  endpoint.attach(server, 'ws-unix');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  return {
    address: path,
    port: undefined,
    server,
    close: async () => {
      await closeServer(server);
      try {
        unlinkSync(path);
      } catch {
        // Already gone.
      }
    },
  };
}
