import type { ModelSchema } from './model-schema.js';

const OPENAI = { type: 'remote_api', protocol: 'openai', endpoint: 'https://api.openai.com/v1', api_key_env: 'OPENAI_API_KEY' } as const;
const ANTHROPIC = { type: 'remote_api', protocol: 'anthropic', endpoint: 'https://api.anthropic.com', api_key_env: 'ANTHROPIC_API_KEY' } as const;

function openai(
  id: string,
  name: string,
  capabilities: string[],
  context: number,
  maxOut: number | undefined,
  price: [number, number, number?],
  quality: number,
  speed: number,
  extra: Partial<ModelSchema> = {},
): ModelSchema {
  return {
    id: `openai/${id}`,
    name,
    provider: 'openai',
    family: id.split('-').slice(0, 2).join('-'),
    capabilities,
    context_length: context,
    ...(maxOut !== undefined && { max_output_tokens: maxOut }),
    cost: { input_per_mtok: price[0], output_per_mtok: price[1], ...(price[2] !== undefined && { cache_read_per_mtok: price[2] }) },
    quality,
    speed,
    source: { ...OPENAI, model: id },
    ...extra,
  };
}

function anthropic(id: string, name: string, maxOut: number, price: [number, number, number, number], quality: number, speed: number): ModelSchema {
  return {
    id: `anthropic/${id}`,
    name,
    provider: 'anthropic',
    family: 'claude',
    capabilities: ['generate', 'tool_use', 'vision', 'code', 'reasoning'],
    context_length: 200_000,
    max_output_tokens: maxOut,
    cost: { input_per_mtok: price[0], output_per_mtok: price[1], cache_read_per_mtok: price[2], cache_write_per_mtok: price[3] },
    quality,
    speed,
    source: { ...ANTHROPIC, model: id },
  };
}

const CHAT = ['generate', 'tool_use', 'vision', 'code'];

/**
 * The built-in rows: common hosted models with list prices (USD per million tokens). Each is
 * available only when its provider's key variable is set.
 */
export const BUILTIN_MODELS: readonly ModelSchema[] = Object.freeze([
  openai('gpt-4.1', 'GPT-4.1', CHAT, 1_047_576, 32_768, [2, 8, 0.5], 0.88, 0.6),
  openai('gpt-4.1-mini', 'GPT-4.1 mini', CHAT, 1_047_576, 32_768, [0.4, 1.6, 0.1], 0.76, 0.8),
  openai('gpt-4.1-nano', 'GPT-4.1 nano', CHAT, 1_047_576, 32_768, [0.1, 0.4, 0.025], 0.6, 0.95),
  openai('gpt-4o', 'GPT-4o', CHAT, 128_000, 16_384, [2.5, 10, 1.25], 0.85, 0.65),
  openai('gpt-4o-mini', 'GPT-4o mini', CHAT, 128_000, 16_384, [0.15, 0.6, 0.075], 0.7, 0.85),
  openai('o4-mini', 'o4-mini', [...CHAT, 'reasoning'], 200_000, 100_000, [1.1, 4.4, 0.275], 0.88, 0.45),
  openai('text-embedding-3-small', 'text-embedding-3-small', ['embed', 'classify'], 8191, undefined, [0.02, 0], 0.7, 0.95, { dimensions: 1536 }),
  openai('text-embedding-3-large', 'text-embedding-3-large', ['embed', 'classify'], 8191, undefined, [0.13, 0], 0.8, 0.85, { dimensions: 3072 }),
  anthropic('claude-opus-4-1', 'Claude Opus 4.1', 32_000, [15, 75, 1.5, 18.75], 0.95, 0.35),
  anthropic('claude-sonnet-4-5', 'Claude Sonnet 4.5', 64_000, [3, 15, 0.3, 3.75], 0.92, 0.6),
  anthropic('claude-haiku-4-5', 'Claude Haiku 4.5', 64_000, [1, 5, 0.1, 1.25], 0.8, 0.85),
]);
