/** One tool invocation the runtime asks an executor to perform. */
export interface ToolCall {
  tool: string;
  parameters: Record<string, unknown>;
  /** The proposal action this call serves; empty for calls outside a proposal. */
  actionId?: string;
  /** The action's own budget; the executor adds its grace on top. */
  timeoutMs?: number;
  /** 1-based attempt number. */
  attempt?: number;
  /** Policy/run session the call belongs to. */
  sessionId?: string;
}

/** `invalid`: the call was refused before any tool ran (a retry would be refused too). */
export type ToolFailureReason = 'tool_error' | 'timeout' | 'disconnected' | 'cancelled' | 'invalid';

export type ToolOutcome =
  | { ok: true; output: unknown; durationMs: number }
  | {
      ok: false;
      error: string;
      reason: ToolFailureReason;
      code?: number;
      durationMs: number;
      /** The tool asked for fail-stop (a TerminalToolError): the session halts. */
      terminal?: true;
    };

/** Runs tools somewhere else (the client, a sandbox, a test double) and reports the outcome. */
export interface ToolExecutor {
  execute(call: ToolCall, signal?: AbortSignal): Promise<ToolOutcome>;
}
