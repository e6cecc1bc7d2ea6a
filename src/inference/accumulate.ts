import type { StreamEvent, ToolCall, Usage } from './types.js';

/** Parse tool-call arguments; text that is not JSON is kept as it came. */
export function parseArguments(raw: string): unknown {
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** Builds the final answer (text, tool calls, usage, stop reason) from stream events. */
export class Accumulator {
  private readonly parts: string[] = [];
  private readonly tools = new Map<number, { id: string; name: string; args: string }>();
  usage: Usage | null = null;
  stopReason: string | null = null;
  readonly outputItems: unknown[] = [];
  events = 0;

  push(ev: StreamEvent): void {
    this.events++;
    switch (ev.type) {
      case 'text':
        this.parts.push(ev.data);
        break;
      case 'tool_start':
        this.tools.set(ev.index, { id: ev.id ?? `call_${ev.index}`, name: ev.name, args: '' });
        break;
      case 'tool_delta': {
        let t = this.tools.get(ev.index);
        if (!t) this.tools.set(ev.index, (t = { id: `call_${ev.index}`, name: '', args: '' }));
        t.args += ev.data;
        break;
      }
      case 'usage': {
        const prev = this.usage;
        const prompt = ev.input_tokens || prev?.prompt_tokens || 0;
        const completion = ev.output_tokens || prev?.completion_tokens || 0;
        const read = ev.cache_read_input_tokens || prev?.cache_read_input_tokens || 0;
        const created = ev.cache_creation_input_tokens || prev?.cache_creation_input_tokens || 0;
        this.usage = {
          prompt_tokens: prompt,
          completion_tokens: completion,
          total_tokens: prompt + completion + read + created,
          cache_read_input_tokens: read,
          cache_creation_input_tokens: created,
        };
        break;
      }
      case 'stop_reason':
        this.stopReason = ev.data;
        break;
      case 'provider_output_item':
        this.outputItems.push(ev.item);
        break;
      case 'error':
        break;
    }
  }

  get text(): string {
    return this.parts.join('');
  }

  get toolCalls(): ToolCall[] {
    return [...this.tools.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, t]) => ({ id: t.id, name: t.name, arguments: parseArguments(t.args) }));
  }
}
