import type { ModelEntry } from './model-schema.js';

/** One `models.list_unified` row. */
export interface UnifiedModel {
  id: string;
  name: string;
  provider: string;
  family: string | null;
  capabilities: string[];
  context_length: number | null;
  max_output_tokens: number | null;
  available: boolean;
  unavailable_reason: string | null;
  is_local: boolean;
  weights_ready: boolean;
  downloads_weights: false;
  cost: ModelEntry['schema']['cost'] | null;
  source: ModelEntry['schema']['source'];
  origin: ModelEntry['origin'];
  trust_tier: string | null;
}

export function unifiedEntry(entry: ModelEntry, unavailable: string | null): UnifiedModel {
  const s = entry.schema;
  return {
    id: s.id,
    name: s.name ?? s.id,
    provider: s.provider ?? (s.source.type === 'remote_api' ? s.source.protocol : s.source.type),
    family: s.family ?? null,
    capabilities: [...s.capabilities],
    context_length: s.context_length ?? null,
    max_output_tokens: s.max_output_tokens ?? null,
    available: unavailable === null,
    unavailable_reason: unavailable,
    is_local: entry.isLocal,
    // Nothing here downloads weights: a served model's weights are ready exactly when it is available.
    weights_ready: unavailable === null,
    downloads_weights: false,
    cost: s.cost ?? null,
    source: s.source,
    origin: entry.origin,
    trust_tier: s.trust_tier ?? null,
  };
}
