import type { MethodContext } from '../contract/index.js';
import { EventKind } from '../engine/event-kinds.js';
import type { Metering } from '../inference/types.js';

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
