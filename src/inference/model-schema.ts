import { z } from 'zod';

export const CAPABILITIES = ['generate', 'embed', 'classify', 'tokenize', 'vision', 'tool_use', 'reasoning', 'code'] as const;

const remoteApi = z.object({
  type: z.literal('remote_api'),
  protocol: z.enum(['openai', 'anthropic']).default('openai'),
  endpoint: z.string().min(1).max(2048).optional(),
  /** The provider's own model name, when it differs from the registry id. */
  model: z.string().min(1).max(512).optional(),
  api_key_env: z.string().min(1).max(256).optional(),
});
const ollama = z.object({
  type: z.literal('ollama'),
  endpoint: z.string().min(1).max(2048).optional(),
  model: z.string().min(1).max(512).optional(),
});
const delegated = z.object({ type: z.literal('delegated') });

export const modelSource = z.discriminatedUnion('type', [remoteApi, ollama, delegated]);
export type ModelSource = z.infer<typeof modelSource>;

/** USD per million tokens. */
export const modelCost = z.object({
  input_per_mtok: z.number().nonnegative(),
  output_per_mtok: z.number().nonnegative(),
  cache_read_per_mtok: z.number().nonnegative().optional(),
  cache_write_per_mtok: z.number().nonnegative().optional(),
});
export type ModelCost = z.infer<typeof modelCost>;

/** One `models.json` row (and one built-in catalogue row). Unknown fields are kept. */
export const modelSchema = z
  .object({
    id: z.string().min(1).max(256),
    name: z.string().min(1).max(256).optional(),
    provider: z.string().min(1).max(128).optional(),
    family: z.string().max(128).optional(),
    capabilities: z.array(z.string().min(1).max(64)).max(32).default(['generate']),
    context_length: z.number().int().positive().optional(),
    max_output_tokens: z.number().int().positive().optional(),
    cost: modelCost.nullable().optional(),
    /** Embedding width, for embed models (saves a probe). */
    dimensions: z.number().int().positive().optional(),
    /** Router priors in 0..1; the router guesses them when absent. */
    quality: z.number().min(0).max(1).optional(),
    speed: z.number().min(0).max(1).optional(),
    trust_tier: z.string().max(64).optional(),
    source: modelSource,
  })
  .loose();
export type ModelSchema = z.infer<typeof modelSchema>;

/** `{"models": [...]}` or a bare array. */
export const modelsFile = z.union([
  z.object({ models: z.array(z.unknown()) }).loose(),
  z.array(z.unknown()).transform((models) => ({ models })),
]);

export type ModelOrigin = 'catalogue' | 'models.json' | 'ollama';

/** A registry row with what the daemon worked out about it. */
export interface ModelEntry {
  schema: ModelSchema;
  origin: ModelOrigin;
  /** Where requests go (`remote_api` and `ollama`); null for delegated models. */
  endpoint: string | null;
  /** The API key, when the row names one and it is set. */
  apiKey: string | null;
  /** Missing endpoint or key. A delegated model's availability also depends on a runner. */
  staticallyAvailable: boolean;
  unavailableReason: string | null;
  isLocal: boolean;
}

export function hasCapability(schema: ModelSchema, capability: string): boolean {
  return schema.capabilities.includes(capability);
}

/** The provider-side model name. */
export function upstreamModel(schema: ModelSchema): string {
  const src = schema.source;
  return (src.type !== 'delegated' && src.model) || schema.id;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;

export function isLoopbackUrl(url: string): boolean {
  try {
    return LOOPBACK.test(new URL(url).hostname);
  } catch {
    return false;
  }
}
