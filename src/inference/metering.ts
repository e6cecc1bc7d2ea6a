import type { ModelCost, ModelEntry } from './model-schema.js';
import type { Metering, Usage } from './types.js';

/**
 * USD for one call at the model's list price. Cache reads and writes use their own prices when the
 * row has them (else the input price). `null` when the model has no price.
 */
export function costOf(cost: ModelCost | null | undefined, usage: Usage | null): number | null {
  if (!cost) return null;
  if (!usage) return 0;
  const perToken = (perMtok: number): number => perMtok / 1_000_000;
  const usd =
    usage.prompt_tokens * perToken(cost.input_per_mtok) +
    usage.completion_tokens * perToken(cost.output_per_mtok) +
    usage.cache_read_input_tokens * perToken(cost.cache_read_per_mtok ?? cost.input_per_mtok) +
    usage.cache_creation_input_tokens * perToken(cost.cache_write_per_mtok ?? cost.input_per_mtok);
  return Math.round(usd * 1e9) / 1e9;
}

export function meter(entry: ModelEntry, provider: string, usage: Usage | null, latencyMs: number): Metering {
  return {
    model: entry.schema.id,
    provider,
    tokens_in: (usage?.prompt_tokens ?? 0) + (usage?.cache_read_input_tokens ?? 0) + (usage?.cache_creation_input_tokens ?? 0),
    tokens_out: usage?.completion_tokens ?? 0,
    tokens_cached: usage?.cache_read_input_tokens ?? 0,
    cache_creation_tokens: usage?.cache_creation_input_tokens ?? 0,
    cost_usd: costOf(entry.schema.cost, usage),
    latency_ms: latencyMs,
  };
}
