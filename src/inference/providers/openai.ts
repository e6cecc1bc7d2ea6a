import type OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { ContentRefusedError, ProviderError, streamCut, toProviderError, UnsupportedModeError } from '../errors.js';
import { upstreamModel, type ModelEntry } from '../model-schema.js';
import type { EmbedOutput, Provider, ProviderCall } from '../provider.js';
import type { ChatMessage, GenerateRequest, StreamEvent } from '../types.js';

function textOf(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (content === null) return '';
  return content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('');
}

function argumentsText(args: unknown): string {
  return typeof args === 'string' ? args : JSON.stringify(args ?? {});
}

export function toOpenAiMessages(req: GenerateRequest): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [];
  if (req.system) out.push({ role: 'system', content: req.system });
  for (const m of req.messages) {
    switch (m.role) {
      case 'tool':
        out.push({ role: 'tool', tool_call_id: m.tool_call_id ?? '', content: textOf(m.content) });
        break;
      case 'assistant':
        out.push({
          role: 'assistant',
          content: m.content === null ? null : textOf(m.content),
          ...(m.tool_calls?.length && {
            tool_calls: m.tool_calls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: argumentsText(c.arguments) } })),
          }),
        });
        break;
      case 'system':
        out.push({ role: 'system', content: textOf(m.content) });
        break;
      default:
        out.push({ role: 'user', content: (Array.isArray(m.content) ? m.content : textOf(m.content)) as string });
    }
  }
  return out;
}

/** OpenAI's own API wants `max_completion_tokens`; compatible servers know `max_tokens`. */
function isOpenAiItself(endpoint: string): boolean {
  try {
    return new URL(endpoint).hostname === 'api.openai.com';
  } catch {
    return false;
  }
}

/**
 * The OpenAI-compatible chat protocol (OpenAI, vLLM, llama.cpp server, Ollama's `/v1`, LM Studio …)
 * through the official `openai` SDK, always streamed with usage included.
 */
export class OpenAiProvider implements Provider {
  readonly name = 'openai';
  private readonly clients = new Map<string, OpenAI>();

  constructor(private readonly timeoutMs: number) {}

  /** The SDK is loaded on first use, so a daemon that never calls a model never pays for it. */
  private async client(model: ModelEntry): Promise<OpenAI> {
    const baseURL = baseUrlOf(model);
    const key = `${baseURL}\u0000${model.apiKey ?? ''}`;
    let c = this.clients.get(key);
    if (!c) {
      const { default: OpenAISdk } = await import('openai');
      // Retries are the engine's (with fallback across models); the SDK must not add its own.
      c = new OpenAISdk({ baseURL, apiKey: model.apiKey ?? 'not-needed', maxRetries: 0, timeout: this.timeoutMs });
      this.clients.set(key, c);
    }
    return c;
  }

  async *stream({ model, request, signal }: ProviderCall): AsyncIterable<StreamEvent> {
    const id = model.schema.id;
    const body: ChatCompletionCreateParamsStreaming = {
      ...(request.params as object),
      model: upstreamModel(model.schema),
      messages: toOpenAiMessages(request),
      stream: true,
      stream_options: { include_usage: true },
    };
    if (request.max_tokens !== undefined) {
      if (isOpenAiItself(model.endpoint ?? '')) body.max_completion_tokens = request.max_tokens;
      else body.max_tokens = request.max_tokens;
    }
    if (request.temperature !== undefined) body.temperature = request.temperature;
    if (request.response_format !== undefined) body.response_format = request.response_format as ChatCompletionCreateParamsStreaming['response_format'];
    if (request.tools?.length) {
      body.tools = request.tools.map((t) => ({
        type: 'function' as const,
        function: { name: t.name, ...(t.description !== undefined && { description: t.description }), parameters: t.parameters ?? { type: 'object', properties: {} } },
      }));
    }
    let stream: AsyncIterable<ChatCompletionChunk>;
    try {
      stream = await (await this.client(model)).chat.completions.create(body, { signal });
    } catch (err) {
      throw toProviderError(err, id, 'the OpenAI-compatible server');
    }
    const started = new Set<number>();
    let finished = false;
    let refusal = '';
    try {
      for await (const chunk of stream) {
        const choice = chunk.choices?.[0];
        if (choice) {
          const delta = choice.delta ?? {};
          if (typeof delta.refusal === 'string' && delta.refusal) refusal += delta.refusal;
          if (typeof delta.content === 'string' && delta.content) yield { type: 'text', data: delta.content };
          for (const tc of delta.tool_calls ?? []) {
            const index = tc.index ?? 0;
            if (!started.has(index)) {
              started.add(index);
              yield { type: 'tool_start', name: tc.function?.name ?? '', index, ...(tc.id && { id: tc.id }) };
            }
            if (tc.function?.arguments) yield { type: 'tool_delta', index, data: tc.function.arguments };
          }
          if (choice.finish_reason) {
            finished = true;
            if (choice.finish_reason === 'content_filter') throw new ContentRefusedError(id, 'the provider filtered the content');
            yield { type: 'stop_reason', data: choice.finish_reason };
          }
        }
        if (chunk.usage) {
          const cached = chunk.usage.prompt_tokens_details?.cached_tokens ?? 0;
          yield {
            type: 'usage',
            input_tokens: Math.max(0, (chunk.usage.prompt_tokens ?? 0) - cached),
            output_tokens: chunk.usage.completion_tokens ?? 0,
            cache_read_input_tokens: cached,
            cache_creation_input_tokens: 0,
          };
        }
      }
    } catch (err) {
      if (err instanceof ContentRefusedError) throw err;
      throw toProviderError(err, id, 'the OpenAI-compatible server');
    }
    if (refusal) throw new ContentRefusedError(id, refusal);
    if (!finished) throw streamCut(id, 'the OpenAI-compatible server');
  }

  async embed(model: ModelEntry, texts: string[], signal: AbortSignal): Promise<EmbedOutput> {
    try {
      const res = await (await this.client(model)).embeddings.create(
        { model: upstreamModel(model.schema), input: texts, encoding_format: 'float' },
        { signal },
      );
      return {
        embeddings: [...res.data].sort((a, b) => a.index - b.index).map((d) => d.embedding),
        input_tokens: res.usage?.prompt_tokens ?? null,
      };
    } catch (err) {
      throw toProviderError(err, model.schema.id, 'the OpenAI-compatible server');
    }
  }

  /** llama.cpp server and vLLM expose `/tokenize` beside `/v1`; only local servers are asked. */
  async tokenize(model: ModelEntry, text: string, signal: AbortSignal): Promise<number[]> {
    const out = await this.local(model, 'tokenize', { content: text, prompt: text, model: upstreamModel(model.schema), add_special: false }, signal);
    const tokens = (out as { tokens?: unknown }).tokens;
    if (!Array.isArray(tokens)) throw new UnsupportedModeError('tokenize', model.schema.id, 'the server answered without tokens');
    return tokens.map((t) => (typeof t === 'number' ? t : Number((t as { id?: unknown }).id)));
  }

  async detokenize(model: ModelEntry, tokens: number[], signal: AbortSignal): Promise<string> {
    const out = (await this.local(model, 'detokenize', { tokens, model: upstreamModel(model.schema) }, signal)) as { content?: unknown; prompt?: unknown };
    const text = out.content ?? out.prompt;
    if (typeof text !== 'string') throw new UnsupportedModeError('detokenize', model.schema.id, 'the server answered without text');
    return text;
  }

  private async local(model: ModelEntry, op: 'tokenize' | 'detokenize', body: unknown, signal: AbortSignal): Promise<unknown> {
    const id = model.schema.id;
    if (!model.isLocal || model.endpoint === null) {
      throw new UnsupportedModeError(op, id, 'only local models tokenize, and this one is served remotely');
    }
    let res: Response;
    try {
      res = await fetch(new URL(`/${op}`, model.endpoint), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal,
      });
    } catch (err) {
      throw toProviderError(err, id, 'the local model server');
    }
    if (res.status === 404 || res.status === 405 || res.status === 501) {
      throw new UnsupportedModeError(op, id, `its server has no /${op} endpoint`);
    }
    if (!res.ok) throw new ProviderError('unavailable', `the local model server answered HTTP ${res.status} to /${op}`, id, { status: res.status, retryable: false });
    return res.json();
  }
}

/** Ollama rows generate through its OpenAI-compatible `/v1`. */
function baseUrlOf(model: ModelEntry): string {
  const endpoint = model.endpoint ?? '';
  if (model.schema.source.type === 'ollama') return new URL('/v1', endpoint).toString();
  return endpoint;
}
