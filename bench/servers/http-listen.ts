import { createServer, type Server } from 'node:http';
import { tcpUrl, unixUrl, type ListenSpec } from './child.js';

/** A plain HTTP server for a baseline's WebSocketServer, listening where the spec says. */
export function listenHttp(spec: ListenSpec): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(426).end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      const addr = server.address();
      if (spec.transport === 'uds') resolve({ server, url: unixUrl(spec.socketPath) });
      else if (addr !== null && typeof addr === 'object') resolve({ server, url: tcpUrl(addr.port) });
      else reject(new Error('listener has no TCP address'));
    };
    if (spec.transport === 'uds') server.listen(spec.socketPath, done);
    else server.listen(0, '127.0.0.1', done);
  });
}
