/** Shapes shared by the inference engine, its providers and its callers. */

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export interface ToolCall {
  id: string;
  name: string;
  /** Parsed JSON arguments, or the raw text when the model produced invalid JSON. */
  arguments: unknown;
}

export interface ChatMessage {
  role: Role;
  /** Text, or provider content parts passed through as given. */
  content: string | unknown[] | null;
  /** Assistant turns that called tools. */
  tool_calls?: ToolCall[];
  /** Tool results: the call they answer. */
  tool_call_id?: string;
  name?: string;
}

export interface ToolSpec {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters?: Record<string, unknown>;
}

/** What a caller asked the router for (`intent` on the wire). */
export interface IntentHint {
  task?: string;
  prefer_local?: boolean;
  prefer_fast?: boolean;
  prefer_quality?: boolean;
  high_stakes?: boolean;
  /** Capabilities the model must have. */
  require?: string[];
  exclude_models?: string[];
}

/** One generation request, provider-neutral. */
export interface GenerateRequest {
  messages: ChatMessage[];
  system?: string;
  max_tokens?: number;
  temperature?: number;
  tools?: ToolSpec[];
  /** Passed to providers that understand it (OpenAI's `response_format`). */
  response_format?: unknown;
  /** Prompt caching: `true`, or a provider cache-control object. */
  cache_control?: unknown;
  /** Extra provider parameters (top_p, stop, seed, …), passed through. */
  params?: Record<string, unknown>;
  /** The caller's correlation value, echoed to a delegated runner. */
  client_ref?: unknown;
}

/** Token usage. `prompt_tokens` counts only the uncached prompt. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

/** The streaming event vocabulary (`inference.stream.event` and the delegated runner's). */
export type StreamEvent =
  | { type: 'text'; data: string }
  | { type: 'tool_start'; name: string; index: number; id?: string }
  | { type: 'tool_delta'; index: number; data: string }
  | {
      type: 'usage';
      input_tokens: number;
      output_tokens: number;
      cache_read_input_tokens: number;
      cache_creation_input_tokens: number;
    }
  | { type: 'stop_reason'; data: string }
  | { type: 'provider_output_item'; item: unknown }
  | { type: 'error'; message: string };

export interface GenerateResult {
  text: string;
  tool_calls: ToolCall[];
  usage: Usage | null;
  stop_reason: string | null;
  model_used: string;
  trace_id: string;
  latency_ms: number;
  time_to_first_token_ms: number | null;
}

/** What one call cost, for the `InferenceMetered` event. */
export interface Metering {
  model: string;
  provider: string;
  tokens_in: number;
  tokens_out: number;
  tokens_cached: number;
  cache_creation_tokens: number;
  /** `null` when the model has no price. */
  cost_usd: number | null;
  latency_ms: number;
}
