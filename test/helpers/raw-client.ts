import { WebSocket, type ClientOptions } from 'ws';

/** A JSON-RPC response (or any other parsed frame) as received. */
export type Frame = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface CloseResult {
  code: number;
  reason: string;
}

/**
 * A bare WebSocket JSON-RPC client for wire tests: it sends raw text, matches replies to `call`s
 * by id, and queues every other frame (server requests, notifications, replies to raw `send`s)
 * for `next()`.
 */
export class RawClient {
  /** Every parsed frame received, in order (including replies matched to calls). */
  readonly received: Frame[] = [];
  readonly closed: Promise<CloseResult>;
  private readonly queue: Frame[] = [];
  private readonly waiters: { resolve(f: Frame): void; reject(e: Error): void; timer: NodeJS.Timeout }[] = [];
  private readonly calls = new Map<string | number, { resolve(f: Frame): void; timer: NodeJS.Timeout }>();
  private nextId = 1;
  closeInfo: CloseResult | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? `<binary>` : (data as Buffer).toString('utf8');
      let frame: Frame;
      try {
        frame = JSON.parse(text);
      } catch {
        frame = { unparsable: text };
      }
      this.received.push(frame);
      const isReply =
        frame !== null && typeof frame === 'object' && !Array.isArray(frame) && !('method' in frame) && 'id' in frame;
      if (isReply && frame.id !== null && this.calls.has(frame.id)) {
        const call = this.calls.get(frame.id)!;
        this.calls.delete(frame.id);
        clearTimeout(call.timer);
        call.resolve(frame);
        return;
      }
      const waiter = this.waiters.shift();
      if (waiter) {
        clearTimeout(waiter.timer);
        waiter.resolve(frame);
      } else {
        this.queue.push(frame);
      }
    });
    ws.on('error', () => {
      // 'close' follows.
    });
    this.closed = new Promise((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        for (const w of this.waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(new Error(`connection closed (${code}) while waiting for a frame`));
        }
        for (const [, c] of this.calls) clearTimeout(c.timer);
        resolve(this.closeInfo);
      });
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Send a raw text frame (a string is sent as is, anything else JSON-encoded). */
  send(data: unknown): void {
    this.ws.send(typeof data === 'string' ? data : JSON.stringify(data));
  }

  /** Send a request and resolve with the whole response envelope. */
  call(method: string, params?: unknown, opts: { id?: string | number; timeoutMs?: number } = {}): Promise<Frame> {
    const id = opts.id ?? this.nextId++;
    const frame: Record<string, unknown> = { jsonrpc: '2.0', id, method };
    if (params !== undefined) frame.params = params;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.calls.delete(id);
        reject(new Error(`no reply to ${method} (${String(id)}) within ${opts.timeoutMs ?? 5000} ms`));
      }, opts.timeoutMs ?? 5000);
      this.calls.set(id, { resolve, timer });
      this.send(frame);
    });
  }

  /** Call and return `result`; fails the test when the reply is an error. */
  async result(method: string, params?: unknown): Promise<Frame> {
    const reply = await this.call(method, params);
    if ('error' in reply) throw new Error(`${method} failed: ${JSON.stringify(reply.error)}`);
    return reply.result;
  }

  /** Call and return `error`; fails the test when the reply is a success. */
  async error(method: string, params?: unknown): Promise<{ code: number; message: string; data?: unknown }> {
    const reply = await this.call(method, params);
    if (!('error' in reply)) throw new Error(`${method} unexpectedly succeeded: ${JSON.stringify(reply.result)}`);
    return reply.error;
  }

  notify(method: string, params?: unknown): void {
    const frame: Record<string, unknown> = { jsonrpc: '2.0', method };
    if (params !== undefined) frame.params = params;
    this.send(frame);
  }

  /** The next frame not matched to a `call`. */
  next(timeoutMs = 5000): Promise<Frame> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closeInfo) return Promise.reject(new Error(`connection closed (${this.closeInfo.code})`));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new Error(`no frame within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Frames queued for `next()` and not yet taken. */
  get pendingFrames(): number {
    return this.queue.length;
  }

  /** Resolve with the close info, or reject when the connection is still open after `timeoutMs`. */
  waitClosed(timeoutMs = 2000): Promise<CloseResult> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
      void this.closed.then((info) => {
        clearTimeout(timer);
        resolve(info);
      });
    });
  }

  /** Close (gracefully) and wait for the close to complete. */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    else this.ws.close();
    const timer = setTimeout(() => this.ws.terminate(), 1000);
    await this.closed;
    clearTimeout(timer);
  }
}

/** Open a WebSocket to `url` and wrap it; rejects when the upgrade fails. */
export function rawClient(url: string, options: ClientOptions = {}): Promise<RawClient> {
  const ws = new WebSocket(url, { perMessageDeflate: false, ...options });
  const client = new RawClient(ws);
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    ws.once('error', onError);
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      reject(new Error(`upgrade refused with HTTP ${res.statusCode}`));
    });
    ws.once('open', () => {
      ws.off('error', onError);
      resolve(client);
    });
  });
}

/**
 * Attempt an upgrade and report the HTTP status of a refusal, or 101 when the upgrade succeeded
 * (the connection is closed again at once).
 */
export function upgradeStatus(url: string, options: ClientOptions = {}): Promise<number> {
  const ws = new WebSocket(url, { perMessageDeflate: false, ...options });
  let status: number | undefined;
  return new Promise((resolve, reject) => {
    ws.on('error', () => {
      // Reported through the events below.
    });
    ws.once('unexpected-response', (_req, res) => {
      status = res.statusCode ?? 0;
      res.resume();
      ws.terminate();
    });
    ws.once('open', () => {
      status = 101;
      ws.close();
    });
    ws.once('close', () => {
      if (status === undefined) reject(new Error('closed before the upgrade completed'));
      else resolve(status);
    });
  });
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `predicate` until it is true, or fail after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

/** Resolve with `promise`, or reject after `ms` (the timer is cleared either way). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
