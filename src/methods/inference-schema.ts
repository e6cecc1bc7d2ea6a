import { z } from 'zod';
import type { ChatMessage, GenerateRequest, IntentHint, ToolCall, ToolSpec } from '../inference/types.js';

const TEXT_MAX = 4 * 1024 * 1024;

const toolCallIn = z.union([
  z.object({ id: z.string().max(512).optional(), type: z.literal('function').optional(), function: z.object({ name: z.string().max(256), arguments: z.unknown().optional() }) }),
  z.object({ id: z.string().max(512).optional(), name: z.string().max(256), arguments: z.unknown().optional(), input: z.unknown().optional() }),
]);

function toToolCall(c: z.infer<typeof toolCallIn>, i: number): ToolCall {
  if ('function' in c) return { id: c.id ?? `call_${i}`, name: c.function.name, arguments: c.function.arguments ?? {} };
  return { id: c.id ?? `call_${i}`, name: c.name, arguments: c.arguments ?? c.input ?? {} };
}

const message = z
  .object({
    role: z.enum(['system', 'user', 'assistant', 'tool']),
    content: z.union([z.string().max(TEXT_MAX), z.array(z.unknown()).max(1024), z.null()]).optional(),
    tool_calls: z.array(toolCallIn).max(256).optional(),
    tool_call_id: z.string().max(512).optional(),
    name: z.string().max(256).optional(),
  })
  .loose();

const schemaObject = z.record(z.string(), z.unknown());
const toolIn = z.union([
  z.object({ type: z.literal('function'), function: z.object({ name: z.string().min(1).max(256), description: z.string().max(64 * 1024).optional(), parameters: schemaObject.optional() }) }),
  z.object({ name: z.string().min(1).max(256), description: z.string().max(64 * 1024).optional(), parameters: schemaObject.optional(), input_schema: schemaObject.optional() }),
]);

function toTool(t: z.infer<typeof toolIn>): ToolSpec {
  if ('function' in t) return { name: t.function.name, ...(t.function.description !== undefined && { description: t.function.description }), ...(t.function.parameters && { parameters: t.function.parameters }) };
  const parameters = t.parameters ?? t.input_schema;
  return { name: t.name, ...(t.description !== undefined && { description: t.description }), ...(parameters && { parameters }) };
}

export const intentSchema = z
  .object({
    task: z.string().max(128).optional(),
    prefer_local: z.boolean().optional(),
    prefer_fast: z.boolean().optional(),
    prefer_quality: z.boolean().optional(),
    high_stakes: z.boolean().optional(),
    require: z.array(z.string().max(64)).max(32).optional(),
    exclude_models: z.array(z.string().max(256)).max(1024).optional(),
  })
  .loose();

/** `infer` / `infer_stream` params. `prompt` is accepted as a one-user-message shorthand. */
export const inferParams = z
  .object({
    model: z.string().min(1).max(256).nullable().optional(),
    messages: z.array(message).max(10_000).optional(),
    prompt: z.string().max(TEXT_MAX).optional(),
    system: z.string().max(TEXT_MAX).optional(),
    max_tokens: z.number().int().positive().max(10_000_000).optional(),
    temperature: z.number().min(0).max(2).optional(),
    tools: z.array(toolIn).max(512).optional(),
    context_query: z.union([z.string().max(64 * 1024), z.boolean()]).nullable().optional(),
    memory_intervention: z.union([z.boolean(), z.record(z.string(), z.unknown())]).nullable().optional(),
    response_format: z.unknown().optional(),
    intent: intentSchema.nullable().optional(),
    cache_control: z.unknown().optional(),
    params: z.record(z.string(), z.unknown()).nullable().optional(),
    client_ref: z.unknown().optional(),
  })
  .loose()
  .refine((p) => (p.messages?.length ?? 0) > 0 || p.prompt !== undefined, { message: 'messages (or prompt) is required', path: ['messages'] });
export type InferParams = z.infer<typeof inferParams>;

/** The provider-neutral request a wire call describes. */
export function toGenerateRequest(p: InferParams): GenerateRequest {
  const messages: ChatMessage[] = (p.messages ?? []).map((m) => ({
    role: m.role,
    content: m.content ?? null,
    ...(m.tool_calls && { tool_calls: m.tool_calls.map(toToolCall) }),
    ...(m.tool_call_id !== undefined && { tool_call_id: m.tool_call_id }),
    ...(m.name !== undefined && { name: m.name }),
  }));
  if (messages.length === 0 && p.prompt !== undefined) messages.push({ role: 'user', content: p.prompt });
  return {
    messages,
    ...(p.system !== undefined && { system: p.system }),
    ...(p.max_tokens !== undefined && { max_tokens: p.max_tokens }),
    ...(p.temperature !== undefined && { temperature: p.temperature }),
    ...(p.tools?.length && { tools: p.tools.map(toTool) }),
    ...(p.response_format !== undefined && { response_format: p.response_format }),
    ...(p.cache_control !== undefined && { cache_control: p.cache_control }),
    ...(p.params && { params: p.params }),
    ...(p.client_ref !== undefined && { client_ref: p.client_ref }),
  };
}

export function intentOf(p: InferParams): IntentHint | undefined {
  return p.intent ?? undefined;
}

/** The last user message's text: the default memory query. */
export function lastUserText(req: GenerateRequest): string {
  const m = [...req.messages].reverse().find((x) => x.role === 'user');
  if (!m) return '';
  if (typeof m.content === 'string') return m.content;
  return (m.content ?? []).map((p) => (p as { text?: unknown })?.text).filter((t) => typeof t === 'string').join(' ');
}
