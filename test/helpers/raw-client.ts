import type { TestContext } from 'node:test';
import { WebSocket, type ClientOptions } from 'ws';
import { defer } from './temp.js';
import { scaled } from './timing.js';

/** How long a reply or frame may take before a test gives up (scaled by CAR_TEST_TIMEOUT_SCALE). */
const REPLY_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 10_000;

/** A JSON-RPC response (or any other parsed frame) as received. */
export type Frame = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface CloseResult {
  code: number;
  reason: string;
}

/** An error reply, thrown by `RawClient.result`. */
export class RpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcFailure';
  }
}

/**
 * The one JSON-RPC test client, for wire and end-to-end tests: a bare WebSocket that sends raw
 * text, matches replies to `call`s by id, and queues every other frame (server requests,
 * notifications, replies to raw `send`s) for `next()`. Every wait is for a frame or an event;
 * the timeouts only bound a test that would otherwise hang.
 */
export class RawClient {
  /** Every parsed frame received, in order (including replies matched to calls). */
  readonly received: Frame[] = [];
  readonly closed: Promise<CloseResult>;
  private readonly queue: Frame[] = [];
  private readonly waiters: { resolve(f: Frame): void; reject(e: Error): void; timer: NodeJS.Timeout }[] = [];
  private readonly calls = new Map<string | number, { resolve(f: Frame): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  private nextId = 1;
  closeInfo: CloseResult | undefined;
  /** Binary frames received, in order (they never enter the JSON frame queue). */
  readonly binaries: Buffer[] = [];
  private binaryListener: (() => void) | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        this.binaries.push(Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]));
        this.binaryListener?.();
        return;
      }
      const text = (data as Buffer).toString('utf8');
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
        for (const [id, c] of this.calls) {
          clearTimeout(c.timer);
          c.reject(new Error(`connection closed (${code}) before the reply to ${String(id)}`));
        }
        this.calls.clear();
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

  /** Open a client to a `ws://` URL or a Unix socket path; closed after the test. */
  static async connect(t: TestContext, target: string, options: ClientOptions = {}): Promise<RawClient> {
    const url = target.startsWith('ws://') || target.startsWith('ws+unix://') ? target : `ws+unix://${target}:/`;
    const client = await rawClient(url, options);
    defer(t, () => client.close());
    return client;
  }

  /** Send a request and resolve with the whole response envelope. */
  call(method: string, params?: unknown, opts: { id?: string | number; timeoutMs?: number } = {}): Promise<Frame> {
    const id = opts.id ?? this.nextId++;
    const frame: Record<string, unknown> = { jsonrpc: '2.0', id, method };
    if (params !== undefined) frame.params = params;
    const timeoutMs = opts.timeoutMs ?? scaled(REPLY_TIMEOUT_MS);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.calls.delete(id);
        reject(new Error(`no reply to ${method} (${String(id)}) within ${timeoutMs} ms`));
      }, timeoutMs);
      this.calls.set(id, { resolve, reject, timer });
      if (this.closeInfo) {
        this.calls.delete(id);
        clearTimeout(timer);
        reject(new Error(`connection closed (${this.closeInfo.code}) before ${method} was sent`));
        return;
      }
      this.send(frame);
    });
  }

  /** Call and return `result`; an error reply is thrown as an RpcFailure. */
  async result(method: string, params?: unknown): Promise<Frame> {
    const reply = await this.call(method, params);
    if ('error' in reply) {
      const { code, data } = reply.error as { code: number; data?: unknown };
      throw new RpcFailure(code, `${method} failed: ${JSON.stringify(reply.error)}`, data);
    }
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
  next(timeoutMs = scaled(REPLY_TIMEOUT_MS)): Promise<Frame> {
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

  /** Resolve once `predicate` holds over the binary frames received so far. */
  async waitBinary(predicate: (frames: readonly Buffer[]) => boolean, timeoutMs = scaled(REPLY_TIMEOUT_MS)): Promise<Buffer[]> {
    if (predicate(this.binaries)) return this.binaries;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.binaryListener = undefined;
        reject(new Error(`binary frames did not arrive within ${timeoutMs} ms (have ${this.binaries.length})`));
      }, timeoutMs);
      this.binaryListener = () => {
        if (!predicate(this.binaries)) return;
        clearTimeout(timer);
        this.binaryListener = undefined;
        resolve();
      };
    });
    return this.binaries;
  }

  /** Frames queued for `next()` and not yet taken. */
  get pendingFrames(): number {
    return this.queue.length;
  }

  /** Resolve with the close info, or reject when the connection is still open after `timeoutMs`. */
  waitClosed(timeoutMs = scaled(CLOSE_TIMEOUT_MS)): Promise<CloseResult> {
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
    const timer = setTimeout(() => this.ws.terminate(), scaled(1000));
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

/**
 * Check `predicate` on every timer turn until it holds, or fail after `timeoutMs`. For state the
 * test cannot subscribe to (a queue length, a counter inside the daemon); prefer awaiting a frame
 * or an event.
 */
export async function waitFor(predicate: () => boolean, timeoutMs = scaled(REPLY_TIMEOUT_MS), what = 'condition'): Promise<void> {
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
