import type { ModelEntry } from './model-schema.js';
import type { GenerateRequest, StreamEvent } from './types.js';

export interface ProviderCall {
  model: ModelEntry;
  request: GenerateRequest;
  /** Aborted when the caller goes away or the attempt times out. */
  signal: AbortSignal;
}

/**
 * One way of reaching models. `stream` is the one generation path: it yields the event
 * vocabulary as the model produces it and returns once the model finished. It throws a
 * `ProviderError` for a failed or cut call and `ContentRefusedError` for a refusal.
 */
export interface Provider {
  readonly name: string;
  stream(call: ProviderCall): AsyncIterable<StreamEvent>;
  embed?(model: ModelEntry, texts: string[], signal: AbortSignal): Promise<EmbedOutput>;
  tokenize?(model: ModelEntry, text: string, signal: AbortSignal): Promise<number[]>;
  detokenize?(model: ModelEntry, tokens: number[], signal: AbortSignal): Promise<string>;
}

export interface EmbedOutput {
  embeddings: number[][];
  /** Tokens the provider billed, when it said. */
  input_tokens: number | null;
}
