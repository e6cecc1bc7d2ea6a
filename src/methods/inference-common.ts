import { EventKind } from '../engine/event-kinds.js';
import { ContentRefusedError } from '../inference/errors.js';
import type { Metering } from '../inference/types.js';
import { ErrorCode, RpcError } from '../rpc/errors.js';
import type { MethodContext } from '../server/method.js';
import { CarError } from '../util/errors.js';

/**
 * Engine errors on the wire: a refusal is -32007 (`content refused: …`), a bad input -32602, the
 * rest -32603, each with its kind and detail in `data`.
 */
export function toRpcError(err: unknown): unknown {
  if (err instanceof ContentRefusedError) return new RpcError(ErrorCode.ContentRefused, err.message, { ...err.detail, kind: err.kind });
  if (err instanceof CarError) {
    const data = {
      kind: err.kind,
      ...(err.field !== undefined && { field: err.field }),
      ...(err.limit !== undefined && { limit: err.limit }),
      ...err.detail,
    };
    if (err.kind === 'invalid' && err.field !== undefined && err.field !== 'event') return RpcError.invalidParams(err.message, data);
    return new RpcError(ErrorCode.InternalError, err.message, data);
  }
  return err;
}

export async function mapped<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toRpcError(err);
  }
}

/**
 * Run `fn` holding an inference permit (the shared `InferenceAdmission`); a caller that goes away
 * while queued leaves the queue, and the permit is released however `fn` ends.
 */
export async function admitted<T>(ctx: MethodContext, fn: () => Promise<T>): Promise<T> {
  const permit = await ctx.state.admission.acquire(ctx.signal);
  try {
    return await fn();
  } finally {
    permit.release();
  }
}

/** One `InferenceMetered` event on the caller's log: what `events.cost_by_agent` and `metrics.summary` add up. */
export function recordMetering(ctx: MethodContext, m: Metering, method: string): void {
  ctx.session.events.append(EventKind.InferenceMetered, {
    data: {
      agent: ctx.session.agentId,
      model: m.model,
      provider: m.provider,
      method,
      tokens_in: m.tokens_in,
      tokens_out: m.tokens_out,
      tokens_cached: m.tokens_cached,
      cache_creation_tokens: m.cache_creation_tokens,
      cost_usd: m.cost_usd ?? 0,
      priced: m.cost_usd !== null,
      latency_ms: m.latency_ms,
    },
  });
}
