import { EventKind } from '../event-kinds.js';
import type { RuntimeEvent } from '../event-log.js';

export interface AgentCost {
  agent: string;
  calls: number;
  tokens_in: number;
  tokens_out: number;
  cost_usd: number;
}

/**
 * Figures over the events the log still holds, except `cumulative_cost_usd`, which counts every
 * InferenceMetered event ever appended and so never drops when retention removes events.
 */
export interface MetricsSummary {
  total_events: number;
  actions_succeeded: number;
  /** Actions whose last attempt failed; a failed attempt that is retried is not counted. */
  actions_failed: number;
  actions_rejected: number;
  /** succeeded / (succeeded + failed); 0 when both are 0. */
  success_rate: number;
  /** failed / (succeeded + failed); 0 when both are 0. */
  error_rate: number;
  cost_usd: number;
  cumulative_cost_usd: number;
  tokens_in: number;
  tokens_out: number;
  /** Mean `duration_ms` over every ActionSucceeded and ActionFailed event (retried attempts too). */
  avg_latency_ms: number;
  approvals_recorded: number;
  permission_decisions: number;
  gate_rejections: number;
  policy_violations: number;
  goal_evaluations: number;
  goals_met: number;
  goals_ungrounded: number;
  cost_by_agent: AgentCost[];
}

/** A count or an amount from event data: finite and not negative, else 0. */
function amount(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

function agentName(value: unknown): string {
  return typeof value === 'string' && value.length > 0 ? value : 'unknown';
}

/** Totals kept up to date on every append, untouched by retention. */
export class RunningTotals {
  cumulativeCostUsd = 0;
  appended = 0;

  observe(event: RuntimeEvent): void {
    this.appended++;
    if (event.kind === EventKind.InferenceMetered) this.cumulativeCostUsd += amount(event.data.cost_usd);
  }
}

/** Inference usage per agent, sorted by agent name. */
export function costByAgent(events: readonly RuntimeEvent[]): AgentCost[] {
  const byAgent = new Map<string, AgentCost>();
  for (const event of events) {
    if (event.kind !== EventKind.InferenceMetered) continue;
    const agent = agentName(event.data.agent);
    let row = byAgent.get(agent);
    if (row === undefined) {
      row = { agent, calls: 0, tokens_in: 0, tokens_out: 0, cost_usd: 0 };
      byAgent.set(agent, row);
    }
    row.calls++;
    row.tokens_in += amount(event.data.tokens_in);
    row.tokens_out += amount(event.data.tokens_out);
    row.cost_usd += amount(event.data.cost_usd);
  }
  return [...byAgent.values()].sort((a, b) => (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0));
}

function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}

export function summarize(events: readonly RuntimeEvent[], totals: RunningTotals): MetricsSummary {
  let succeeded = 0;
  let failed = 0;
  let rejected = 0;
  let latencySum = 0;
  let latencyCount = 0;
  let approvals = 0;
  let permissionDecisions = 0;
  let gateRejections = 0;
  let policyViolations = 0;
  let goalEvaluations = 0;
  let goalsMet = 0;
  let goalsUngrounded = 0;
  for (const event of events) {
    const data = event.data;
    switch (event.kind) {
      case EventKind.ActionSucceeded:
      case EventKind.ActionFailed:
        if (event.kind === EventKind.ActionSucceeded) succeeded++;
        else if (data.will_retry !== true) failed++;
        if (typeof data.duration_ms === 'number' && Number.isFinite(data.duration_ms)) {
          latencySum += data.duration_ms;
          latencyCount++;
        }
        break;
      case EventKind.ActionRejected:
        rejected++;
        break;
      case EventKind.ApprovalRecorded:
        approvals++;
        break;
      case EventKind.PermissionDecision:
        permissionDecisions += countOf(data);
        break;
      case EventKind.GateRejection:
        gateRejections++;
        break;
      case EventKind.PolicyViolation:
        policyViolations++;
        break;
      case EventKind.GoalEvaluated:
        goalEvaluations++;
        if (data.met === true) goalsMet++;
        if (data.grounded === false) goalsUngrounded++;
        break;
    }
  }
  const agents = costByAgent(events);
  const sum = (pick: (row: AgentCost) => number): number => agents.reduce((acc, row) => acc + pick(row), 0);
  return {
    total_events: events.length,
    actions_succeeded: succeeded,
    actions_failed: failed,
    actions_rejected: rejected,
    success_rate: ratio(succeeded, succeeded + failed),
    error_rate: ratio(failed, succeeded + failed),
    cost_usd: sum((row) => row.cost_usd),
    cumulative_cost_usd: totals.cumulativeCostUsd,
    tokens_in: sum((row) => row.tokens_in),
    tokens_out: sum((row) => row.tokens_out),
    avg_latency_ms: ratio(latencySum, latencyCount),
    approvals_recorded: approvals,
    permission_decisions: permissionDecisions,
    gate_rejections: gateRejections,
    policy_violations: policyViolations,
    goal_evaluations: goalEvaluations,
    goals_met: goalsMet,
    goals_ungrounded: goalsUngrounded,
    cost_by_agent: agents,
  };
}

/** How many decisions one PermissionDecision event stands for (allowed actions are batched). */
function countOf(data: Record<string, unknown>): number {
  const n = data.count;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : 1;
}
