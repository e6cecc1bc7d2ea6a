import type { IncomingMessage, ServerResponse } from 'node:http';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`);
  }
}

/** The request body as text, refused past `limit` bytes (the socket is left for the caller to answer). */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return (await readBodyBytes(req, limit)).toString('utf8');
}

/** The request body's bytes, refused past `limit`. */
export function readBodyBytes(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Stream `events` as SSE `data:` frames; stops pulling when the client goes away. */
export async function streamSse(res: ServerResponse, events: AsyncIterable<unknown>, onError: (err: unknown) => unknown): Promise<void> {
  res.writeHead(200, SSE_HEADERS);
  const iterator = events[Symbol.asyncIterator]();
  let gone = false;
  res.on('close', () => {
    gone = true;
    void iterator.return?.();
  });
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done || gone) break;
      res.write(`data: ${JSON.stringify(next.value)}\n\n`);
    }
  } catch (err) {
    if (!gone) res.write(`event: error\ndata: ${JSON.stringify(onError(err))}\n\n`);
  } finally {
    if (!res.writableEnded) res.end();
  }
}
