import { randomUUID } from 'node:crypto';
import { CarError } from '../util/errors.js';
import { ContentRefusedError, ProviderError } from './errors.js';
import type { ModelEntry } from './model-schema.js';
import type { Provider, ProviderCall } from './provider.js';
import type { StreamEvent, ToolCall } from './types.js';

/** How the hub reaches a registered runner; the method layer backs it with the runner's connection. */
export interface RunnerLink {
  readonly id: string;
  /** Send `inference.runner.invoke {call_id, request}`; false when the link is already gone. */
  invoke(callId: string, request: Record<string, unknown>): boolean;
}

export type RunnerEvent = StreamEvent | { type: 'done'; text?: string; tool_calls?: ToolCall[] };

const bad = (): CarError => new CarError('invalid', 'unrecognised runner event shape', { field: 'event', verbatim: true });
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

/** Validate one `inference.runner.event` payload against the runner vocabulary. */
export function parseRunnerEvent(raw: unknown): RunnerEvent {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad();
  const e = raw as Record<string, unknown>;
  switch (e.type) {
    case 'text':
      if (isStr(e.data)) return { type: 'text', data: e.data };
      break;
    case 'tool_start':
      if (isStr(e.name) && isNum(e.index)) return { type: 'tool_start', name: e.name, index: e.index, ...(isStr(e.id) && { id: e.id }) };
      break;
    case 'tool_delta':
      if (isNum(e.index) && isStr(e.data)) return { type: 'tool_delta', index: e.index, data: e.data };
      break;
    case 'usage': {
      const n = (k: string): number | null => (e[k] === undefined || e[k] === null ? 0 : isNum(e[k]) ? (e[k] as number) : null);
      const [i, o, r, c] = ['input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'].map(n);
      if (i !== null && o !== null && r !== null && c !== null) {
        return { type: 'usage', input_tokens: i!, output_tokens: o!, cache_read_input_tokens: r!, cache_creation_input_tokens: c! };
      }
      break;
    }
    case 'provider_output_item':
      if ('item' in e) return { type: 'provider_output_item', item: e.item };
      break;
    case 'error':
      if (isStr(e.message)) return { type: 'error', message: e.message };
      break;
    case 'done':
      if ((e.text === undefined || isStr(e.text)) && (e.tool_calls === undefined || Array.isArray(e.tool_calls))) {
        return { type: 'done', ...(isStr(e.text) && { text: e.text }), ...(Array.isArray(e.tool_calls) && { tool_calls: e.tool_calls as ToolCall[] }) };
      }
      break;
  }
  throw bad();
}

type Item = { ev: StreamEvent } | { end: true } | { error: Error };

/** One delegated call in flight: the runner's events queue here until the engine reads them. */
class PendingCall {
  private readonly items: Item[] = [];
  private reader: (() => void) | null = null;
  private readonly writers: (() => void)[] = [];
  /** A text or tool event was streamed, so a final result's content is ignored. */
  streamedContent = false;
  settled = false;

  constructor(
    readonly runnerId: string,
    private readonly queueMax: number,
  ) {}

  /** Queue an event; resolves once the queue is below its bound again (backpressure for the runner). */
  push(item: Item): Promise<void> {
    if (this.settled) return Promise.resolve();
    if ('end' in item || 'error' in item) this.settled = true;
    this.items.push(item);
    this.reader?.();
    if (this.items.length <= this.queueMax) return Promise.resolve();
    return new Promise((resolve) => this.writers.push(resolve));
  }

  async next(): Promise<Item> {
    while (this.items.length === 0) await new Promise<void>((resolve) => (this.reader = resolve));
    this.reader = null;
    const item = this.items.shift()!;
    if (this.items.length <= this.queueMax) for (const w of this.writers.splice(0)) w();
    return item;
  }

  /** Wake a blocked runner and a blocked reader for good. */
  release(): void {
    for (const w of this.writers.splice(0)) w();
  }
}

/**
 * The delegated runner: one client connection registered to serve delegated models. The last to
 * register wins. Each call goes out as `inference.runner.invoke`; the runner streams events back,
 * then completes or fails it. A runner that disconnects fails its calls at once.
 */
export class RunnerHub implements Provider {
  readonly name = 'delegated';
  private runner: RunnerLink | null = null;
  private readonly calls = new Map<string, PendingCall>();

  constructor(private readonly queueMax: number) {}

  get registered(): boolean {
    return this.runner !== null;
  }

  get inFlight(): number {
    return this.calls.size;
  }

  register(link: RunnerLink): void {
    this.runner = link;
  }

  /** The runner's connection is gone: it stops serving, and every call it held fails now. */
  disconnected(linkId: string): void {
    if (this.runner?.id === linkId) this.runner = null;
    for (const call of this.calls.values()) {
      if (call.runnerId === linkId) {
        void call.push({ error: new ProviderError('unavailable', 'the delegated runner disconnected before finishing the call', '', { retryable: false }) });
        call.release();
      }
    }
  }

  async *stream({ model, request, signal }: ProviderCall): AsyncIterable<StreamEvent> {
    const runner = this.runner;
    const id = model.schema.id;
    if (runner === null) throw noRunner(model);
    const callId = randomUUID();
    const call = new PendingCall(runner.id, this.queueMax);
    this.calls.set(callId, call);
    const onAbort = (): void => void call.push({ error: signal.reason instanceof Error ? signal.reason : new Error('aborted') });
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      if (!runner.invoke(callId, { ...request, model: id })) throw noRunner(model);
      for (;;) {
        const item = await call.next();
        if ('end' in item) return;
        if ('error' in item) throw item.error;
        yield item.ev;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      call.settled = true;
      call.release();
      this.calls.delete(callId);
    }
  }

  private owned(linkId: string, callId: string): PendingCall {
    const call = this.calls.get(callId);
    if (!call || call.runnerId !== linkId || call.settled) {
      throw new CarError('not_found', `no delegated call '${callId}' is in flight for this runner`, { field: 'call_id' });
    }
    return call;
  }

  /** `inference.runner.event`: validated first, so a bad shape never reaches the caller. */
  event(linkId: string, callId: string, raw: unknown): Promise<void> {
    const ev = parseRunnerEvent(raw);
    const call = this.owned(linkId, callId);
    if (ev.type === 'done') return this.finish(call, ev.text, ev.tool_calls);
    if (ev.type === 'error') return call.push({ error: runnerError(ev.message) });
    if (ev.type === 'text' || ev.type === 'tool_start' || ev.type === 'tool_delta') call.streamedContent = true;
    return call.push({ ev });
  }

  /** `inference.runner.complete`: terminal; streamed events, when there were any, win over `result`. */
  complete(linkId: string, callId: string, result: { text?: string; tool_calls?: ToolCall[] } | undefined): Promise<void> {
    return this.finish(this.owned(linkId, callId), result?.text, result?.tool_calls);
  }

  fail(linkId: string, callId: string, message: string): Promise<void> {
    return this.owned(linkId, callId).push({ error: runnerError(message) });
  }

  private async finish(call: PendingCall, text: string | undefined, toolCalls: ToolCall[] | undefined): Promise<void> {
    if (!call.streamedContent) {
      if (text) await call.push({ ev: { type: 'text', data: text } });
      for (const [index, tc] of (toolCalls ?? []).entries()) {
        await call.push({ ev: { type: 'tool_start', name: String(tc?.name ?? ''), index, ...(typeof tc?.id === 'string' && { id: tc.id }) } });
        const args = tc?.arguments;
        await call.push({ ev: { type: 'tool_delta', index, data: typeof args === 'string' ? args : JSON.stringify(args ?? {}) } });
      }
    }
    await call.push({ end: true });
  }
}

function noRunner(model: ModelEntry): CarError {
  return new CarError('unavailable', `model '${model.schema.id}' is served by a delegated runner, and none is registered (a client must call inference.register_runner)`, {
    field: 'model',
    detail: { reason: 'no_runner', model: model.schema.id },
  });
}

function runnerError(message: string): Error {
  const m = /^\s*content refused:?\s*(.*)$/i.exec(message);
  if (m) return new ContentRefusedError('', m[1] || 'refused by the runner');
  return new ProviderError('unavailable', `the delegated runner failed: ${message.slice(0, 500)}`, '', { retryable: false });
}
