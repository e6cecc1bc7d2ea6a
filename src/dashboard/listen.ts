import { createServer } from 'node:http';
import type { Listener } from '../transport/listen.js';
import { createDashboardHandler, type DashboardOptions } from './handler.js';

/** Serve the dashboard on its own loopback listener (the binary uses `127.0.0.1:<port+1>`). */
export function listenDashboard(opts: DashboardOptions & { host?: string; port: number }): Promise<Listener> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer(createDashboardHandler(opts));
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      const bound = typeof addr === 'object' && addr ? addr.port : opts.port;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      resolve({
        address: `${shownHost}:${bound}`,
        port: bound,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
