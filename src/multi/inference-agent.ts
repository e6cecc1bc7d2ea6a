import type { ChatMessage, GenerateRequest, ToolCall, ToolSpec } from '../inference/types.js';
import type { AgentRunnerFn, AgentSpec, RunUsage } from './types.js';

export interface InDaemonDeps {
  /** One generation on the daemon's own inference (`model` null: routed). */
  generate(req: GenerateRequest, model: string | null, signal: AbortSignal): Promise<{ text: string; tool_calls: ToolCall[]; usage: RunUsage }>;
  /** The caller's registered tools the spec names. */
  tools(names: readonly string[]): ToolSpec[];
  /** Run one tool on the caller (`tools.execute`). */
  execute(tool: string, args: Record<string, unknown>, signal: AbortSignal): Promise<{ ok: true; output: unknown } | { ok: false; error: string }>;
}

/**
 * Run an AgentSpec on the daemon's inference, for callers that do not serve `multi.run_agent`:
 * the system prompt and the task, then up to `max_turns` model turns; each tool call the model
 * makes runs on the caller and its result goes back to the model.
 */
export function inDaemonRunner(deps: InDaemonDeps): AgentRunnerFn {
  return async (spec: AgentSpec, task: string, signal: AbortSignal) => {
    const t0 = performance.now();
    const model = typeof spec.metadata.model === 'string' ? spec.metadata.model : typeof spec.model === 'string' ? spec.model : null;
    const temperature = typeof spec.metadata.temperature === 'number' ? spec.metadata.temperature : undefined;
    const tools = deps.tools(spec.tools);
    const messages: ChatMessage[] = [{ role: 'user', content: task }];
    const usage: RunUsage = { input_tokens: 0, output_tokens: 0, cost_usd: 0 };
    let toolCalls = 0;
    const maxTurns = Math.max(1, spec.max_turns);
    for (let turn = 1; turn <= maxTurns; turn++) {
      const req: GenerateRequest = { system: spec.system_prompt, messages, ...(tools.length > 0 && { tools }), ...(temperature !== undefined && { temperature }) };
      if (spec.cache_control !== undefined) req.cache_control = spec.cache_control;
      const out = await deps.generate(req, model, signal);
      usage.input_tokens += out.usage.input_tokens;
      usage.output_tokens += out.usage.output_tokens;
      usage.cost_usd += out.usage.cost_usd;
      if (out.tool_calls.length === 0 || turn === maxTurns) {
        const output = { name: spec.name, answer: out.text, turns: turn, tool_calls: toolCalls, duration_ms: Math.round(performance.now() - t0), error: null };
        return { output, usage };
      }
      messages.push({ role: 'assistant', content: out.text || null, tool_calls: out.tool_calls });
      for (const call of out.tool_calls) {
        toolCalls++;
        const args = typeof call.arguments === 'object' && call.arguments !== null ? (call.arguments as Record<string, unknown>) : {};
        const allowed = spec.tools.includes(call.name);
        const result = allowed ? await deps.execute(call.name, args, signal) : { ok: false as const, error: `tool '${call.name}' is not granted to ${spec.name}` };
        messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(result.ok ? result.output : { error: result.error }) });
      }
    }
    throw new Error('unreachable');
  };
}
