import type { BudgetLimits, RunUsage } from './types.js';

/**
 * Budget of one multi-agent call. `admit` decides whether another agent may start: once any
 * limit is reached, none does; agents already running finish and their usage still counts.
 */
export class Budget {
  private agents = 0;
  private readonly used: RunUsage = { input_tokens: 0, output_tokens: 0, cost_usd: 0 };

  constructor(private readonly limits: BudgetLimits = {}) {}

  /** Null when the agent may start (and is counted), else the limit that refuses it. */
  admit(): string | null {
    const l = this.limits;
    const u = this.used;
    const total = u.input_tokens + u.output_tokens;
    if (l.max_agents !== undefined && this.agents >= l.max_agents) return `max_agents (${l.max_agents})`;
    if (l.max_input_tokens !== undefined && u.input_tokens >= l.max_input_tokens) return `max_input_tokens (${l.max_input_tokens})`;
    if (l.max_output_tokens !== undefined && u.output_tokens >= l.max_output_tokens) return `max_output_tokens (${l.max_output_tokens})`;
    if (l.max_total_tokens !== undefined && total >= l.max_total_tokens) return `max_total_tokens (${l.max_total_tokens})`;
    if (l.max_cost_usd !== undefined && u.cost_usd >= l.max_cost_usd) return `max_cost_usd (${l.max_cost_usd})`;
    this.agents++;
    return null;
  }

  add(usage: RunUsage): void {
    this.used.input_tokens += usage.input_tokens;
    this.used.output_tokens += usage.output_tokens;
    this.used.cost_usd += usage.cost_usd;
  }

  summary(): { agents: number } & RunUsage {
    return { agents: this.agents, ...this.used };
  }
}
