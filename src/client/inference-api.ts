import type { GenerateResult, StreamEvent, ToolCall, Usage } from '../inference/types.js';
import type { RouteDecision } from '../inference/router.js';
import type { ModelProfile } from '../inference/stats.js';
import type { UnifiedModel } from '../inference/unified.js';
import type { JsonRpcParams } from '../rpc/messages.js';

/** The slice of `CarClient` these helpers use. */
interface Caller {
  call<T = unknown>(method: string, params?: JsonRpcParams, options?: { signal?: AbortSignal; timeoutMs?: number; id?: string | number }): Promise<T>;
  nextRequestId(): string | number;
  onNotification(method: string, handler: (params: unknown) => void): () => void;
}

export type { GenerateResult, StreamEvent, ToolCall, Usage, RouteDecision, ModelProfile, UnifiedModel };

/** `infer` / `infer_stream` params (see the protocol reference); `prompt` is a one-message shorthand. */
export interface InferParams {
  model?: string | null;
  messages?: { role: 'system' | 'user' | 'assistant' | 'tool'; content: unknown; tool_calls?: unknown[]; tool_call_id?: string }[];
  prompt?: string;
  system?: string;
  max_tokens?: number;
  temperature?: number;
  tools?: unknown[];
  context_query?: string | boolean;
  memory_intervention?: boolean | Record<string, unknown>;
  response_format?: unknown;
  intent?: { task?: string; prefer_local?: boolean; prefer_fast?: boolean; prefer_quality?: boolean; high_stakes?: boolean; require?: string[]; exclude_models?: string[] };
  cache_control?: unknown;
  params?: Record<string, unknown>;
  client_ref?: unknown;
}

export interface InferStreamResult {
  text: string;
  tool_calls: ToolCall[];
  usage: Usage | null;
  stop_reason: string | null;
  trace_id: string;
  model_used: string;
}

/**
 * A running `infer_stream`: iterate it for the events as they come; `result` is the final reply.
 * Iteration ends after the last event, and throws the call's error when it failed.
 */
export interface InferStream extends AsyncIterable<StreamEvent> {
  readonly result: Promise<InferStreamResult>;
}

/** What a runner handler gets for one delegated call. */
export interface RunnerCall {
  callId: string;
  /** Stream one event back (`inference.runner.event`). */
  emit(event: StreamEvent | { type: 'done'; text?: string; tool_calls?: unknown[] }): Promise<void>;
}

/** Serve a delegated call: return the final `{text, tool_calls}` (or nothing after streaming); throw to fail it. */
export type RunnerHandler = (request: Record<string, unknown>, call: RunnerCall) => unknown;

function asParams(prompt: string | InferParams, model?: string | null, maxTokens?: number): InferParams {
  if (typeof prompt !== 'string') return prompt;
  return { prompt, ...(model !== undefined && { model }), ...(maxTokens !== undefined && { max_tokens: maxTokens }) };
}

function stream(client: Caller, params: InferParams, signal?: AbortSignal): InferStream {
  const id = client.nextRequestId();
  const events: StreamEvent[] = [];
  let wake: (() => void) | null = null;
  let done = false;
  const off = client.onNotification('inference.stream.event', (p) => {
    const n = p as { request_id?: unknown; event?: StreamEvent };
    if (n?.request_id !== id || !n.event) return;
    events.push(n.event);
    wake?.();
  });
  const result = client.call<InferStreamResult>('infer_stream', params as JsonRpcParams, { id, ...(signal && { signal }) }).finally(() => {
    done = true;
    off();
    wake?.();
  });
  result.catch(() => {});
  return {
    result,
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (events.length > 0) yield events.shift()!;
        if (done) break;
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
      await result;
    },
  };
}

export function inferenceApi(client: Caller) {
  return {
    /** `infer`: a prompt (with optional model and token cap) or the full params. */
    infer: (prompt: string | InferParams, model?: string | null, maxTokens?: number) =>
      client.call<GenerateResult>('infer', asParams(prompt, model, maxTokens) as JsonRpcParams),
    /** The upstream Node name for the full result (`infer` already returns it whole). */
    inferTracked: (prompt: string | InferParams, model?: string | null, maxTokens?: number) =>
      client.call<GenerateResult>('infer', asParams(prompt, model, maxTokens) as JsonRpcParams),
    /** `infer_stream` as an async iterator of events plus the final `result`. */
    inferStream: (prompt: string | InferParams, options: { model?: string | null; maxTokens?: number; signal?: AbortSignal } = {}) =>
      stream(client, asParams(prompt, options.model, options.maxTokens), options.signal),
    embed: async (texts: string[], model?: string | null) =>
      (await client.call<{ embeddings: number[][] }>('embed', { texts, ...(model != null && { model }) })).embeddings,
    classify: async (text: string, labels: string[], model?: string | null) =>
      (await client.call<{ classifications: { label: string; score: number }[] }>('classify', { text, labels, ...(model != null && { model }) })).classifications,
    tokenize: async (model: string, text: string) => (await client.call<{ tokens: number[] }>('tokenize', { model, text })).tokens,
    detokenize: async (model: string, tokens: number[]) => (await client.call<{ text: string }>('detokenize', { model, tokens })).text,
    listModels: () => client.call<UnifiedModel[]>('models.list_unified', {}),
    route: (prompt: string, intent?: InferParams['intent']) => client.call<RouteDecision>('models.route', { prompt, ...(intent && { intent }) }),
    stats: () => client.call<{ profiles: ModelProfile[] }>('models.stats', {}),
    registerModel: (schema: Record<string, unknown>) => client.call<{ id: string; registered: true; path: string; note: string }>('models.register', schema as JsonRpcParams),
    unregisterModel: (id: string) => client.call<{ id: string; unregistered: true; path: string; note: string }>('models.unregister', { id }),
    /**
     * Serve delegated models from this connection: each `inference.runner.invoke` runs `handler`;
     * its return value completes the call, a throw fails it.
     */
    registerRunner: async (handler: RunnerHandler): Promise<{ registered: true }> => {
      client.onNotification('inference.runner.invoke', (p) => {
        const { call_id: callId, request } = p as { call_id: string; request: Record<string, unknown> };
        const call: RunnerCall = {
          callId,
          emit: async (event) => void (await client.call('inference.runner.event', { call_id: callId, event } as JsonRpcParams)),
        };
        void (async () => {
          try {
            const out = (await handler(request, call)) as { text?: string; tool_calls?: unknown[] } | string | undefined;
            const result = typeof out === 'string' ? { text: out } : (out ?? {});
            await client.call('inference.runner.complete', { call_id: callId, result } as JsonRpcParams);
          } catch (err) {
            await client.call('inference.runner.fail', { call_id: callId, error: (err as Error)?.message ?? String(err) }).catch(() => {});
          }
        })();
      });
      return client.call<{ registered: true }>('inference.register_runner', {});
    },
  };
}

export type InferenceApi = ReturnType<typeof inferenceApi>;
