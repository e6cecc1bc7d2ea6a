import { RemoteError, RequestAbortedError } from './errors.js';
import type { JsonRpcErrorObject } from './errors.js';
import type { JsonRpcParams } from './messages.js';

export interface OutboundOptions {
  id?: string | number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface PendingCall {
  method: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
  cleanup(): void;
}

/**
 * Requests this side sent and still waits for: ids, timeouts, cancellation, and the matching of
 * answers. `send` writes the frame; false means it could not be written.
 */
export class OutboundCalls {
  private readonly pending = new Map<string | number, PendingCall>();

  constructor(private readonly send: (text: string) => boolean) {}

  get size(): number {
    return this.pending.size;
  }

  request<T>(id: string | number, method: string, params: JsonRpcParams | undefined, opts: OutboundOptions): Promise<T> {
    if (this.pending.has(id)) {
      return Promise.reject(new Error(`outbound request id ${String(id)} is already pending`));
    }
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const signal = opts.signal;
      const onAbort = (): void => {
        this.settle(id)?.reject(new RequestAbortedError('aborted', `'${method}' (${String(id)}) was cancelled by the caller`));
      };
      const entry: PendingCall = {
        method,
        resolve: resolve as (v: unknown) => void,
        reject,
        cleanup: () => {
          if (timer) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      if (signal?.aborted) {
        reject(new RequestAbortedError('aborted', `'${method}' was cancelled before it was sent`));
        return;
      }
      this.pending.set(id, entry);
      if (opts.timeoutMs !== undefined && Number.isFinite(opts.timeoutMs)) {
        timer = setTimeout(() => {
          this.settle(id)?.reject(
            new RequestAbortedError('timeout', `'${method}' (${String(id)}) got no answer within ${opts.timeoutMs} ms`),
          );
        }, opts.timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      const frame = params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
      if (!this.send(JSON.stringify(frame))) {
        this.settle(id)?.reject(new RequestAbortedError('closed', `connection closed before '${method}' was sent`));
      }
    });
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
    entry.cleanup();
    return entry;
  }
}
