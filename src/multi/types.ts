/** What the caller's `multi.run_agent` callback (or the in-daemon runner) runs: passed through unchanged. */
export interface AgentSpec {
  name: string;
  system_prompt: string;
  tools: string[];
  max_turns: number;
  metadata: Record<string, unknown>;
  cache_control?: unknown;
  [extra: string]: unknown;
}

/** One agent's result, normalised from the runner's answer. */
export interface AgentOutput {
  name: string;
  answer: string;
  turns: number;
  tool_calls: number;
  duration_ms: number;
  error: string | null;
}

/** Token and cost usage a runner may report with an output (counted against the budget). */
export interface RunUsage {
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

export interface BudgetLimits {
  max_input_tokens?: number;
  max_output_tokens?: number;
  max_total_tokens?: number;
  max_cost_usd?: number;
  max_agents?: number;
}

/** Runs one agent on one task; resolves with the raw answer (an AgentOutput or close to one). */
export type AgentRunnerFn = (spec: AgentSpec, task: string, signal: AbortSignal) => Promise<{ output: unknown; usage?: Partial<RunUsage> }>;

/** Hooks around each agent run: host registration, metering. */
export interface RunHooks {
  started?(runId: string, spec: AgentSpec, task: string): void;
  finished?(runId: string, spec: AgentSpec, output: AgentOutput, usage: RunUsage): void;
}
