import type Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsStreaming, MessageParam, RawMessageStreamEvent, TextBlockParam } from '@anthropic-ai/sdk/resources/messages';
import { ContentRefusedError, streamCut, toProviderError } from '../errors.js';
import { upstreamModel, type ModelEntry } from '../model-schema.js';
import type { Provider, ProviderCall } from '../provider.js';
import type { ChatMessage, GenerateRequest, StreamEvent } from '../types.js';

/** Output room when neither the call nor the model row says (the Messages API requires one). */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

type Block = Record<string, unknown>;

function blocksOf(content: ChatMessage['content']): Block[] {
  if (content === null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  return content as Block[];
}

function textOf(content: ChatMessage['content']): string {
  return blocksOf(content)
    .map((b) => (typeof b.text === 'string' ? b.text : ''))
    .join('');
}

function cacheControlOf(value: unknown): Block | null {
  if (value === undefined || value === null || value === false) return null;
  return typeof value === 'object' ? (value as Block) : { type: 'ephemeral' };
}

/** Provider-neutral messages → Messages API params: system apart, tool results as user blocks, roles merged. */
export function toAnthropicMessages(req: GenerateRequest): { system: TextBlockParam[] | undefined; messages: MessageParam[] } {
  const systemText = [req.system ?? '', ...req.messages.filter((m) => m.role === 'system').map((m) => textOf(m.content))]
    .filter((s) => s !== '')
    .join('\n\n');
  const messages: { role: 'user' | 'assistant'; content: Block[] }[] = [];
  const push = (role: 'user' | 'assistant', blocks: Block[]): void => {
    const last = messages.at(-1);
    if (last && last.role === role) last.content.push(...blocks);
    else messages.push({ role, content: [...blocks] });
  };
  for (const m of req.messages) {
    if (m.role === 'system') continue;
    if (m.role === 'tool') {
      push('user', [{ type: 'tool_result', tool_use_id: m.tool_call_id ?? '', content: textOf(m.content) }]);
    } else if (m.role === 'assistant') {
      const calls = (m.tool_calls ?? []).map((c) => ({
        type: 'tool_use',
        id: c.id,
        name: c.name,
        input: typeof c.arguments === 'string' ? safeJson(c.arguments) : (c.arguments ?? {}),
      }));
      push('assistant', [...blocksOf(m.content), ...calls]);
    } else {
      push('user', blocksOf(m.content));
    }
  }
  const cc = cacheControlOf(req.cache_control);
  let system: TextBlockParam[] | undefined = systemText ? [{ type: 'text', text: systemText }] : undefined;
  if (cc) {
    if (system) system = [{ ...system[0]!, cache_control: cc } as unknown as TextBlockParam];
    else {
      const lastUser = [...messages].reverse().find((m) => m.role === 'user');
      const lastBlock = lastUser?.content.at(-1);
      if (lastBlock) lastBlock.cache_control = cc;
    }
  }
  return { system, messages: messages as unknown as MessageParam[] };
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return {};
  }
}

/** The Anthropic Messages protocol through the official `@anthropic-ai/sdk`, streamed. */
export class AnthropicProvider implements Provider {
  readonly name = 'anthropic';
  private readonly clients = new Map<string, Anthropic>();

  constructor(private readonly timeoutMs: number) {}

  /** Loaded on first use (see OpenAiProvider). */
  private async client(model: ModelEntry): Promise<Anthropic> {
    const baseURL = model.endpoint ?? 'https://api.anthropic.com';
    const key = `${baseURL}\u0000${model.apiKey ?? ''}`;
    let c = this.clients.get(key);
    if (!c) {
      const { default: AnthropicSdk } = await import('@anthropic-ai/sdk');
      c = new AnthropicSdk({ baseURL, apiKey: model.apiKey ?? 'not-needed', maxRetries: 0, timeout: this.timeoutMs });
      this.clients.set(key, c);
    }
    return c;
  }

  async *stream({ model, request, signal }: ProviderCall): AsyncIterable<StreamEvent> {
    const id = model.schema.id;
    const { system, messages } = toAnthropicMessages(request);
    const body: MessageCreateParamsStreaming = {
      ...(request.params as object),
      model: upstreamModel(model.schema),
      messages,
      max_tokens: request.max_tokens ?? model.schema.max_output_tokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS,
      stream: true,
    };
    if (system) body.system = system;
    // Not in this SDK's types any more, but still accepted by the API and by compatible servers.
    if (request.temperature !== undefined) (body as unknown as Record<string, unknown>).temperature = request.temperature;
    if (request.tools?.length) {
      body.tools = request.tools.map((t) => ({
        name: t.name,
        ...(t.description !== undefined && { description: t.description }),
        input_schema: (t.parameters ?? { type: 'object', properties: {} }) as { type: 'object' },
      }));
    }
    let stream: AsyncIterable<RawMessageStreamEvent>;
    try {
      stream = await (await this.client(model)).messages.create(body, { signal });
    } catch (err) {
      throw toProviderError(err, id, 'Anthropic');
    }
    let input = 0;
    let cacheRead = 0;
    let cacheWrite = 0;
    let finished = false;
    try {
      for await (const ev of stream) {
        switch (ev.type) {
          case 'message_start': {
            const u = ev.message.usage;
            input = u.input_tokens ?? 0;
            cacheRead = u.cache_read_input_tokens ?? 0;
            cacheWrite = u.cache_creation_input_tokens ?? 0;
            break;
          }
          case 'content_block_start': {
            const b = ev.content_block;
            if (b.type === 'text') {
              if (b.text) yield { type: 'text', data: b.text };
            } else if (b.type === 'tool_use') {
              yield { type: 'tool_start', name: b.name, index: ev.index, id: b.id };
            } else if (b.type !== 'thinking' && b.type !== 'redacted_thinking') {
              yield { type: 'provider_output_item', item: b };
            }
            break;
          }
          case 'content_block_delta': {
            const d = ev.delta;
            if (d.type === 'text_delta') yield { type: 'text', data: d.text };
            else if (d.type === 'input_json_delta') yield { type: 'tool_delta', index: ev.index, data: d.partial_json };
            break;
          }
          case 'message_delta': {
            const u = ev.usage;
            if (u.cache_read_input_tokens != null) cacheRead = u.cache_read_input_tokens;
            if (u.cache_creation_input_tokens != null) cacheWrite = u.cache_creation_input_tokens;
            if (u.input_tokens != null && u.input_tokens > 0) input = u.input_tokens;
            if (ev.delta.stop_reason === 'refusal') throw new ContentRefusedError(id, 'the model declined to answer');
            yield {
              type: 'usage',
              input_tokens: input,
              output_tokens: u.output_tokens ?? 0,
              cache_read_input_tokens: cacheRead,
              cache_creation_input_tokens: cacheWrite,
            };
            if (ev.delta.stop_reason) yield { type: 'stop_reason', data: ev.delta.stop_reason };
            break;
          }
          case 'message_stop':
            finished = true;
            break;
        }
      }
    } catch (err) {
      if (err instanceof ContentRefusedError) throw err;
      throw toProviderError(err, id, 'Anthropic');
    }
    if (!finished) throw streamCut(id, 'Anthropic');
  }
}
