import type { ToolCall, ToolExecutor, ToolOutcome } from '../tool-executor.js';
import type { ToolDefinition } from '../tool-registry.js';
import { isObject } from '../../util/values.js';

export const MESSAGING_SEND = 'messaging.send';
/** The tool the client is called back with to deliver a message (no adapter runs in the daemon). */
export const CHANNEL_SEND = 'messaging.channel_send';

export const DEFAULT_MESSAGING_MAX_KEYS = 4096;

/** The built-in tool every fresh session lists. */
export const MESSAGING_SEND_TOOL: ToolDefinition = Object.freeze({
  name: MESSAGING_SEND,
  description:
    'Send a message on a channel (direct or to a channel). Delivered through the client\'s messaging.channel_send tool; a repeated idempotency_key is sent once.',
  parameters: Object.freeze({
    type: 'object',
    properties: {
      channel: { type: 'string', minLength: 1 },
      kind: { type: 'string', enum: ['direct', 'channel'] },
      to: { type: 'string', minLength: 1 },
      body: { type: 'string' },
      idempotency_key: { type: 'string', minLength: 1 },
    },
    required: ['channel', 'kind', 'to', 'body'],
    additionalProperties: false,
  }),
  idempotent: false,
}) as ToolDefinition;

interface Message {
  channel: string;
  kind: 'direct' | 'channel';
  to: string;
  body: string;
  idempotency_key?: string;
}

/** The message, or what is wrong with it. */
export function parseMessage(p: Record<string, unknown>): Message | string {
  for (const key of Object.keys(p)) {
    if (!['channel', 'kind', 'to', 'body', 'idempotency_key'].includes(key)) return `unknown parameter '${key}'`;
  }
  if (typeof p.channel !== 'string' || p.channel.length === 0) return 'channel must be a non-empty string';
  if (p.kind !== 'direct' && p.kind !== 'channel') return 'kind must be "direct" or "channel"';
  if (typeof p.to !== 'string' || p.to.length === 0) return 'to must be a non-empty string';
  if (typeof p.body !== 'string') return 'body must be a string';
  const key = p.idempotency_key;
  if (key !== undefined && (typeof key !== 'string' || key.length === 0)) return 'idempotency_key must be a non-empty string';
  const m: Message = { channel: p.channel, kind: p.kind, to: p.to, body: p.body };
  if (key !== undefined) m.idempotency_key = key as string;
  return m;
}

/**
 * Runs the built-in `messaging.send` and passes every other tool to the client's executor. A send
 * is validated, de-duplicated on its `idempotency_key` (the latest `maxKeys` keys are
 * remembered; a send still in flight is shared), then delivered by calling the client back with
 * `messaging.channel_send`. `builtin()` tells whether the session still uses the built-in (a
 * client may register its own `messaging.send`, which then goes to the client like any tool).
 */
export class MessagingExecutor implements ToolExecutor {
  private readonly sent = new Map<string, Promise<ToolOutcome>>();

  constructor(
    private readonly inner: ToolExecutor,
    private readonly builtin: () => boolean,
    private readonly maxKeys: number = DEFAULT_MESSAGING_MAX_KEYS,
  ) {}

  /** Idempotency keys remembered. */
  get keyCount(): number {
    return this.sent.size;
  }

  execute(call: ToolCall, signal?: AbortSignal): Promise<ToolOutcome> {
    if (call.tool !== MESSAGING_SEND || !this.builtin()) return this.inner.execute(call, signal);
    const message = parseMessage(call.parameters);
    if (typeof message === 'string') {
      return Promise.resolve({ ok: false, error: `${MESSAGING_SEND}: ${message}`, reason: 'invalid', durationMs: 0 });
    }
    const key = message.idempotency_key;
    if (key === undefined) return this.deliver(call, message, signal);
    const earlier = this.sent.get(key);
    if (earlier !== undefined) {
      return earlier.then((o) => (o.ok ? { ...o, output: { ...(o.output as object), deduplicated: true }, durationMs: 0 } : o));
    }
    const pending = this.deliver(call, message, signal);
    this.sent.set(key, pending);
    while (this.sent.size > this.maxKeys) this.sent.delete(this.sent.keys().next().value as string);
    // A failed send may be tried again with the same key.
    void pending.then((o) => {
      if (!o.ok && this.sent.get(key) === pending) this.sent.delete(key);
    });
    return pending;
  }

  private async deliver(call: ToolCall, m: Message, signal: AbortSignal | undefined): Promise<ToolOutcome> {
    const parameters = { channel: m.channel, kind: m.kind, to: m.to, body: m.body };
    const outcome = await this.inner.execute({ ...call, tool: CHANNEL_SEND, parameters }, signal);
    if (!outcome.ok) {
      if (outcome.reason === 'tool_error' && /unknown tool|not (registered|found|implemented)|method not found/i.test(outcome.error)) {
        return {
          ...outcome,
          error: `${MESSAGING_SEND}: the host does not implement ${CHANNEL_SEND} (it answered: ${outcome.error})`,
        };
      }
      return { ...outcome, error: `${MESSAGING_SEND}: delivery failed: ${outcome.error}` };
    }
    const answer = outcome.output;
    if (isObject(answer) && answer.error !== undefined && answer.error !== null && answer.error !== false && answer.error !== '') {
      return outcome; // the runner reports `{error}` answers as failures
    }
    const output: Record<string, unknown> = { delivered: true, channel: m.channel, kind: m.kind, to: m.to };
    if (isObject(answer) && typeof answer.message_id === 'string') output.message_id = answer.message_id;
    if (m.idempotency_key !== undefined) output.idempotency_key = m.idempotency_key;
    return { ...outcome, output };
  }
}
