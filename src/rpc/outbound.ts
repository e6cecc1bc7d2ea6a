import { RemoteError, RequestAbortedError } from './errors.js';
import type { JsonRpcErrorObject } from './errors.js';
import type { JsonRpcParams } from './messages.js';

export interface OutboundOptions {
  id?: string | number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

class PendingCall {
  timer: NodeJS.Timeout | undefined = undefined;

  constructor(
    readonly method: string,
    readonly resolve: (value: unknown) => void,
    readonly reject: (err: Error) => void,
    readonly signal: AbortSignal | undefined,
  ) {}
}

/**
 * Requests this side sent and still waits for: ids, timeouts, cancellation, and the matching of
 * answers. `send` writes the frame; false means it could not be written. A caller's signal gets
 * one listener however many of its calls are pending, so that listener is not added and removed
 * once per call.
 */
export class OutboundCalls {
  private readonly pending = new Map<string | number, PendingCall>();
  /** Signals listened to, with how many pending calls each covers. */
  private readonly watched = new Map<AbortSignal, number>();

  constructor(private readonly send: (text: string) => boolean) {}

  get size(): number {
    return this.pending.size;
  }

  request<T>(id: string | number, method: string, params: JsonRpcParams | undefined, opts: OutboundOptions): Promise<T> {
    if (this.pending.has(id)) {
      return Promise.reject(new Error(`outbound request id ${String(id)} is already pending`));
    }
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(new RequestAbortedError('aborted', `'${method}' was cancelled before it was sent`));
    let entry!: PendingCall;
    const promise = new Promise<T>((resolve, reject) => {
      entry = new PendingCall(method, resolve as (v: unknown) => void, reject, signal);
    });
    this.pending.set(id, entry);
    const timeoutMs = opts.timeoutMs;
    if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
      entry.timer = setTimeout(() => {
        this.settle(id)?.reject(new RequestAbortedError('timeout', `'${method}' (${String(id)}) got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
    }
    if (signal !== undefined) this.watch(signal);
    try {
      const frame = params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
      if (!this.send(JSON.stringify(frame))) {
        this.settle(id)?.reject(new RequestAbortedError('closed', `connection closed before '${method}' was sent`));
      }
    } catch (err) {
      this.settle(id)?.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return promise;
  }

  /** An answer arrived; false when nothing waits for that id. */
  answer(id: string | number, result: unknown, error: JsonRpcErrorObject | undefined): boolean {
    const entry = this.settle(id);
    if (!entry) return false;
    if (error) entry.reject(new RemoteError(error));
    else entry.resolve(result);
    return true;
  }

  /** The connection is gone: every waiting request fails with `reason`. */
  rejectAll(reason: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(reason);
  }

  private settle(id: string | number): PendingCall | undefined {
    const entry = this.pending.get(id);
    if (!entry) return undefined;
    this.pending.delete(id);
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    if (entry.signal !== undefined) this.unwatch(entry.signal);
    return entry;
  }

  private watch(signal: AbortSignal): void {
    const count = this.watched.get(signal);
    if (count === undefined) signal.addEventListener('abort', this.onAbort, { once: true });
    this.watched.set(signal, (count ?? 0) + 1);
  }

  private unwatch(signal: AbortSignal): void {
    const count = this.watched.get(signal);
    if (count === undefined) return;
    if (count > 1) {
      this.watched.set(signal, count - 1);
      return;
    }
    this.watched.delete(signal);
    signal.removeEventListener('abort', this.onAbort);
  }

  /** A caller's signal fired: each of its pending calls fails, in the order they were sent. */
  private readonly onAbort = (event: Event): void => {
    const signal = event.target as AbortSignal;
    this.watched.delete(signal);
    for (const [id, entry] of this.pending) {
      if (entry.signal === signal) this.settle(id)?.reject(new RequestAbortedError('aborted', `'${entry.method}' (${String(id)}) was cancelled by the caller`));
    }
  };
}
