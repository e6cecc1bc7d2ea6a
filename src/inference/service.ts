import { randomUUID } from 'node:crypto';
import { CarError } from '../util/errors.js';
import { Accumulator } from './accumulate.js';
import { withFallback, type RetryPolicy } from './attempts.js';
import { ContentRefusedError, UnsupportedModeError } from './errors.js';
import { meter } from './metering.js';
import { hasCapability, type ModelEntry } from './model-schema.js';
import type { Provider } from './provider.js';
import { AnthropicProvider } from './providers/anthropic.js';
import { OpenAiProvider } from './providers/openai.js';
import { ModelRegistry } from './registry.js';
import { route, type RouteDecision } from './router.js';
import { RunnerHub } from './runner.js';
import { ModelStats } from './stats.js';
import type { GenerateRequest, GenerateResult, IntentHint, Metering, StreamEvent } from './types.js';
import { unifiedEntry, type UnifiedModel } from './unified.js';
import { classifyByEmbedding, classifyPrompt, pickLabel, type Classification } from './classify.js';

export interface InferenceOptions {
  modelsPath: string | null;
  ollamaEndpoint: string | null;
  discoveryTimeoutMs: number;
  env: Readonly<Record<string, string | undefined>>;
  requestTimeoutMs: number;
  maxRetries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  runnerQueueMax: number;
  random?: () => number;
}

export interface GenerateOptions {
  /** A hard pin: this model only, no fallback. */
  model?: string | null;
  intent?: IntentHint;
  signal: AbortSignal;
  /** Each event as it arrives. Once one was delivered, a failure is final (no retry, no fallback). */
  onEvent?: (ev: StreamEvent) => void;
}

export interface GenerateOutcome {
  result: GenerateResult;
  metering: Metering;
}

function promptOf(req: GenerateRequest): string {
  const lastUser = [...req.messages].reverse().find((m) => m.role === 'user');
  const text = (c: unknown): string => (typeof c === 'string' ? c : Array.isArray(c) ? c.map((p) => (p as { text?: string })?.text ?? '').join(' ') : '');
  return [req.system ?? '', text(lastUser?.content)].filter(Boolean).join('\n');
}

/**
 * The inference engine: the model registry, the providers, routing with retries and fallback,
 * per-model stats, and the delegated runner. It knows nothing of connections: callers pass an
 * abort signal and an event sink, and get back the result and what it cost.
 */
export class InferenceService {
  readonly registry: ModelRegistry;
  readonly stats = new ModelStats();
  readonly runners: RunnerHub;
  private readonly openai: OpenAiProvider;
  private readonly anthropic: AnthropicProvider;
  private readonly policy: RetryPolicy;

  constructor(options: InferenceOptions) {
    this.registry = new ModelRegistry({
      modelsPath: options.modelsPath,
      ollamaEndpoint: options.ollamaEndpoint,
      discoveryTimeoutMs: options.discoveryTimeoutMs,
      env: options.env,
    });
    this.runners = new RunnerHub(options.runnerQueueMax);
    this.openai = new OpenAiProvider(options.requestTimeoutMs);
    this.anthropic = new AnthropicProvider(options.requestTimeoutMs);
    this.policy = {
      maxRetries: options.maxRetries,
      baseDelayMs: options.retryBaseDelayMs,
      maxDelayMs: options.retryMaxDelayMs,
      attemptTimeoutMs: options.requestTimeoutMs,
      ...(options.random && { random: options.random }),
    };
  }

  /** Read models.json and discover Ollama (once). Every other call waits for it. */
  load(): Promise<void> {
    return this.registry.load();
  }

  /** Why `entry` cannot serve right now, or null. */
  unavailableReason(entry: ModelEntry): string | null {
    if (!entry.staticallyAvailable) return entry.unavailableReason;
    if (entry.schema.source.type === 'delegated' && !this.runners.registered) return 'no delegated runner is registered';
    return null;
  }

  providerFor(entry: ModelEntry): Provider {
    const src = entry.schema.source;
    if (src.type === 'delegated') return this.runners;
    if (src.type === 'remote_api' && src.protocol === 'anthropic') return this.anthropic;
    return this.openai;
  }

  async listUnified(): Promise<UnifiedModel[]> {
    await this.load();
    return this.registry.entries().map((e) => unifiedEntry(e, this.unavailableReason(e)));
  }

  async route(prompt: string, intent: IntentHint | undefined, need: string[] = ['generate'], maxTokens?: number): Promise<RouteDecision> {
    await this.load();
    return route(this.registry.entries(), (e) => this.unavailableReason(e), this.stats, {
      prompt,
      need,
      ...(intent && { intent }),
      ...(maxTokens !== undefined && { maxTokens }),
    });
  }

  /** The pinned model, checked; or the routed order (best first, then the fallbacks). */
  private async candidates(pin: string | null | undefined, need: string[], prompt: string, intent?: IntentHint, maxTokens?: number): Promise<ModelEntry[]> {
    await this.load();
    if (pin) {
      const entry = this.registry.get(pin);
      if (!entry) throw new CarError('not_found', `unknown model '${pin}'`, { field: 'model' });
      const missing = need.filter((c) => !hasCapability(entry.schema, c));
      if (missing.length > 0) throw new UnsupportedModeError(missing.join(' + '), pin, `its capabilities are ${entry.schema.capabilities.join(', ')}`);
      if (entry.schema.source.type !== 'delegated') {
        const why = this.unavailableReason(entry);
        if (why !== null) throw new CarError('unavailable', `model '${pin}' is unavailable: ${why}`, { field: 'model', detail: { reason: 'model_unavailable', model: pin } });
      }
      return [entry];
    }
    const decision = await this.route(prompt, intent, need, maxTokens);
    return [decision.model_id, ...decision.fallbacks].map((id) => this.registry.get(id)!);
  }

  /** One generation, streamed to `onEvent` when given, with retries and (unless pinned) fallback. */
  async generate(req: GenerateRequest, opts: GenerateOptions): Promise<GenerateOutcome> {
    const t0 = performance.now();
    const need = req.tools?.length ? ['generate', 'tool_use'] : ['generate'];
    const candidates = await this.candidates(opts.model, need, promptOf(req), opts.intent, req.max_tokens);
    let ttft: number | null = null;
    let delivered = false;
    const { entry, value: acc } = await withFallback(
      candidates,
      this.policy,
      opts.signal,
      async (entry, ctx) => {
        const acc = new Accumulator();
        const started = performance.now();
        try {
          for await (const ev of this.providerFor(entry).stream({ model: entry, request: req, signal: ctx.signal })) {
            if (ttft === null && (ev.type === 'text' || ev.type === 'tool_start')) ttft = Math.round(performance.now() - t0);
            acc.push(ev);
            if (opts.onEvent) {
              delivered = true;
              opts.onEvent(ev);
            }
          }
        } catch (err) {
          if (err instanceof ContentRefusedError) this.stats.record(entry.schema.id, true, performance.now() - started, 0);
          throw err instanceof ContentRefusedError && !(err.detail?.model) ? new ContentRefusedError(entry.schema.id, err.message.replace(/^content refused:\s*/, '')) : err;
        }
        const quality = acc.stopReason === 'length' || acc.stopReason === 'max_tokens' ? 0.5 : 1;
        this.stats.record(entry.schema.id, true, performance.now() - started, quality);
        return acc;
      },
      {
        mayContinue: () => !delivered,
        onFailure: (e) => this.stats.record(e.schema.id, false, 0),
      },
    );
    const latency = Math.round(performance.now() - t0);
    const result: GenerateResult = {
      text: acc.text,
      tool_calls: acc.toolCalls,
      usage: acc.usage,
      stop_reason: acc.stopReason,
      model_used: entry.schema.id,
      trace_id: randomUUID(),
      latency_ms: latency,
      time_to_first_token_ms: ttft,
    };
    return { result, metering: meter(entry, this.providerFor(entry).name, acc.usage, latency) };
  }

  /** Embeddings for `texts`, in order. */
  async embed(texts: string[], opts: { model?: string | null; signal: AbortSignal }): Promise<{ embeddings: number[][]; model: string; metering: Metering }> {
    const t0 = performance.now();
    const candidates = await this.candidates(opts.model, ['embed'], texts.join('\n'));
    const { entry, value } = await withFallback(candidates, this.policy, opts.signal, async (entry, ctx) => {
      const provider = this.providerFor(entry);
      if (!provider.embed) throw new UnsupportedModeError('embed', entry.schema.id, `the ${provider.name} provider does not embed`);
      const out = await provider.embed(entry, texts, ctx.signal);
      this.stats.record(entry.schema.id, true, performance.now() - t0);
      return out;
    }, { onFailure: (e) => this.stats.record(e.schema.id, false, 0) });
    const latency = Math.round(performance.now() - t0);
    const tokens = value.input_tokens ?? Math.ceil(texts.reduce((n, t) => n + t.length, 0) / 4);
    const usage = { prompt_tokens: tokens, completion_tokens: 0, total_tokens: tokens, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
    return { embeddings: value.embeddings, model: entry.schema.id, metering: meter(entry, this.providerFor(entry).name, usage, latency) };
  }

  /**
   * Scores for each label: by embedding similarity when an embedding model is at hand, otherwise
   * by asking a generative model to pick one.
   */
  async classify(text: string, labels: string[], opts: { model?: string | null; signal: AbortSignal }): Promise<{ classifications: Classification[]; metering: Metering }> {
    await this.load();
    const pinned = opts.model ? this.registry.get(opts.model) : undefined;
    const useEmbedding = pinned ? hasCapability(pinned.schema, 'embed') : this.anyAvailable('embed');
    if (useEmbedding) {
      const out = await this.embed([text, ...labels], { model: opts.model ?? null, signal: opts.signal });
      return { classifications: classifyByEmbedding(labels, out.embeddings), metering: out.metering };
    }
    const out = await this.generate(classifyPrompt(text, labels), { model: opts.model ?? null, signal: opts.signal, intent: { task: 'classify', prefer_fast: true } });
    return { classifications: pickLabel(labels, out.result.text), metering: out.metering };
  }

  /** Whether some model with `capability` can serve right now (the router would find one). */
  async hasAvailable(capability: string): Promise<boolean> {
    await this.load();
    return this.anyAvailable(capability);
  }

  private anyAvailable(capability: string): boolean {
    return this.registry.entries().some((e) => hasCapability(e.schema, capability) && this.unavailableReason(e) === null);
  }

  async tokenize(modelId: string, text: string, signal: AbortSignal): Promise<number[]> {
    const entry = await this.localModel(modelId, 'tokenize');
    return this.providerFor(entry).tokenize!(entry, text, signal);
  }

  async detokenize(modelId: string, tokens: number[], signal: AbortSignal): Promise<string> {
    const entry = await this.localModel(modelId, 'detokenize');
    return this.providerFor(entry).detokenize!(entry, tokens, signal);
  }

  private async localModel(modelId: string, op: 'tokenize' | 'detokenize'): Promise<ModelEntry> {
    await this.load();
    const entry = this.registry.get(modelId);
    if (!entry) throw new CarError('not_found', `unknown model '${modelId}'`, { field: 'model' });
    const provider = this.providerFor(entry);
    if (!entry.isLocal || !provider[op] || entry.schema.source.type === 'delegated') {
      throw new UnsupportedModeError(op, modelId, 'only local models served by a tokenizing server (llama.cpp, vLLM) support it');
    }
    return entry;
  }
}
