import type { ToolCall, ToolExecutor, ToolOutcome } from '../engine/tool-executor.js';
import { RemoteError, RequestAbortedError } from '../rpc/errors.js';
import { formatSeconds } from '../util/duration.js';
import { isObject } from '../util/values.js';
import type { ServerChannel } from './channel.js';

export interface WsToolExecutorOptions {
  /** Wait when the call has no budget of its own. */
  defaultTimeoutMs: number;
}

/**
 * Executes tools by calling the connected client back with `tools.execute`. A client error reply
 * is a tool failure; an abandoned call (timeout, caller cancellation) sends the client a
 * `tools.cancel` notification so it can stop work nobody waits for.
 */
export class WsToolExecutor implements ToolExecutor {
  constructor(
    private readonly channel: ServerChannel,
    private readonly options: WsToolExecutorOptions,
  ) {}

  async execute(call: ToolCall, signal?: AbortSignal): Promise<ToolOutcome> {
    const started = performance.now();
    const id = this.channel.nextRequestId();
    const actionId = call.actionId ?? '';
    const attempt = call.attempt ?? 1;
    // Built whole in the usual shapes; the key order is the same either way.
    let params: Record<string, unknown>;
    if (call.timeoutMs === undefined && call.sessionId !== undefined) {
      params = {
        action_id: actionId,
        tool: call.tool,
        parameters: call.parameters,
        params: call.parameters,
        attempt,
        request_id: id,
        session_id: call.sessionId,
      };
    } else {
      params = { action_id: actionId, tool: call.tool, parameters: call.parameters, params: call.parameters, attempt, request_id: id };
      if (call.timeoutMs !== undefined) params.timeout_ms = call.timeoutMs;
      if (call.sessionId !== undefined) params.session_id = call.sessionId;
    }
    // An action's own budget is exact: the callback grace belongs to the outer handler deadline.
    const waitMs = call.timeoutMs ?? this.options.defaultTimeoutMs;
    const elapsed = (): number => Math.round(performance.now() - started);
    try {
      const output = await this.channel.request('tools.execute', params, { id, timeoutMs: waitMs, signal });
      return { ok: true, output, durationMs: elapsed() };
    } catch (err) {
      if (err instanceof RemoteError) {
        const outcome: ToolOutcome = { ok: false, error: err.message, reason: 'tool_error', code: err.code, durationMs: elapsed() };
        // The client's TerminalToolError: `data.terminal: true` asks for fail-stop.
        if (isObject(err.data) && err.data.terminal === true) outcome.terminal = true;
        return outcome;
      }
      if (err instanceof RequestAbortedError && err.reason !== 'closed') {
        const reason =
          err.reason === 'timeout'
            ? `tool '${call.tool}' callback timed out (${formatSeconds(waitMs)})`
            : `tool '${call.tool}' callback cancelled: ${describe(signal?.reason)}`;
        this.channel.notify('tools.cancel', { request_id: id, action_id: actionId, reason });
        return {
          ok: false,
          error: reason,
          reason: err.reason === 'timeout' ? 'timeout' : 'cancelled',
          durationMs: elapsed(),
        };
      }
      const message = err instanceof Error ? err.message : String(err);
      return { ok: false, error: `tool '${call.tool}' callback failed: ${message}`, reason: 'disconnected', durationMs: elapsed() };
    }
  }
}

function describe(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  if (reason === undefined) return 'aborted';
  return String(reason);
}
