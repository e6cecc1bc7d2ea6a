/**
 * A tiny HTTP server run as its own process for provider tests aimock cannot serve (Anthropic
 * cache-token usage, llama.cpp's /tokenize): it answers each request with the first route whose
 * method, path and body substring match, as JSON or as an SSE stream written frame by frame.
 */
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';

interface Route {
  method: string;
  path: string;
  bodyIncludes?: string;
  status?: number;
  json?: unknown;
  sse?: { event?: string; data: unknown }[];
}

const routes = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Route[];
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (d: Buffer) => (body += d.toString()));
  req.on('end', () => {
    const route = routes.find((r) => r.method === req.method && req.url?.split('?')[0] === r.path && (!r.bodyIncludes || body.includes(r.bodyIncludes)));
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route for ${req.method} ${req.url}` } }));
      return;
    }
    if (route.sse) {
      res.writeHead(route.status ?? 200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const frame of route.sse) res.write(`${frame.event ? `event: ${frame.event}\n` : ''}data: ${JSON.stringify(frame.data)}\n\n`);
      res.end();
      return;
    }
    res.writeHead(route.status ?? 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(route.json ?? {}));
  });
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address() as { port: number };
  process.stdout.write(`listening on http://127.0.0.1:${addr.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
