import type { InboundContext, InboundHandler } from '../rpc/peer.js';
import type { JsonRpcParams } from '../rpc/messages.js';
import { isThenable } from '../util/values.js';
import { deadlineError } from './pipeline.js';

let nextLocalId = 1;

/**
 * One call made from inside the daemon through a session's gate pipeline, as if its client had
 * sent it: same gates, same handler, same deadline. The reply is the returned promise.
 */
class LocalCall implements InboundContext {
  readonly id: string;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private expire: ((err: unknown) => void) | undefined;
  /** The caller's signal while this call listens to it; the listener goes when the call settles. */
  private outer: AbortSignal | undefined;
  private readonly onOuterAbort = (): void => this.abort(this.outer?.reason);

  constructor(
    readonly method: string,
    outer: AbortSignal | undefined,
  ) {
    this.id = `local-${nextLocalId++}`;
    if (outer !== undefined) {
      if (outer.aborted) this.controller.abort(outer.reason);
      else {
        this.outer = outer;
        outer.addEventListener('abort', this.onOuterAbort, { once: true });
      }
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  setDeadline(ms: number): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      const err = deadlineError(this.method, ms);
      this.abort(err);
      this.expire?.(err);
    }, ms);
    this.timer.unref?.();
  }

  closeAfterReply(): void {
    // Nothing to close: the call has no connection of its own.
  }

  settle(out: unknown): Promise<unknown> {
    if (!isThenable(out)) {
      this.finish();
      return Promise.resolve(out);
    }
    const expired = new Promise<never>((_, reject) => (this.expire = reject));
    return Promise.race([Promise.resolve(out), expired]).finally(() => this.finish());
  }

  /** The call settled: its timer and its listener on the caller's signal go. */
  finish(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.outer?.removeEventListener('abort', this.onOuterAbort);
    this.outer = undefined;
  }
}

/** Run `method` through `pipeline` as a call of its own; rejects with whatever a gate or the handler threw. */
export function callThrough(
  pipeline: InboundHandler,
  method: string,
  params: JsonRpcParams,
  signal?: AbortSignal,
): Promise<unknown> {
  const call = new LocalCall(method, signal);
  try {
    return call.settle(pipeline(method, params, call));
  } catch (err) {
    call.finish();
    return Promise.reject(err);
  }
}
