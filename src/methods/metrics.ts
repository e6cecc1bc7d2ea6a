import { z } from 'zod';
import { DEFAULT_MIN_ACTIONS, evaluateAlerts } from '../engine/events/alerts.js';
import { defineMethod } from '../contract/index.js';
import { noParams } from './schemas.js';

const count = z.number().int();
const agentCost = z.object({
  agent: z.string(),
  calls: count,
  tokens_in: z.number(),
  tokens_out: z.number(),
  cost_usd: z.number(),
});

const summaryShape = z.object({
  total_events: count,
  actions_succeeded: count,
  actions_failed: count,
  actions_rejected: count,
  success_rate: z.number(),
  error_rate: z.number(),
  cost_usd: z.number(),
  cumulative_cost_usd: z.number(),
  tokens_in: z.number(),
  tokens_out: z.number(),
  avg_latency_ms: z.number(),
  approvals_recorded: count,
  permission_decisions: count,
  gate_rejections: count,
  policy_violations: count,
  goal_evaluations: count,
  goals_met: count,
  goals_ungrounded: count,
  cost_by_agent: z.array(agentCost),
});

export const metricsSummary = defineMethod({
  name: 'metrics.summary',
  summary:
    "Counts, rates, cost, tokens and latency over this session's events; cumulative_cost_usd also counts events retention dropped.",
  params: noParams,
  result: summaryShape,
  handler: (_p, ctx) => ctx.session.events.summary(),
});

const bound = z.number().min(0).optional();

export const metricsAlerts = defineMethod({
  name: 'metrics.alerts',
  summary: `The summary plus an alert for each given bound it exceeds; the error rate is judged once min_actions (default ${DEFAULT_MIN_ACTIONS}) actions finished.`,
  params: z.object({
    max_cost_usd: bound,
    max_error_rate: z.number().min(0).max(1).optional(),
    max_avg_latency_ms: bound,
    max_goals_ungrounded: bound,
    min_actions: z.number().int().min(0).optional(),
  }),
  result: z.object({
    summary: summaryShape,
    alerts: z.array(
      z.object({
        kind: z.enum(['cost_overage', 'error_rate', 'latency', 'goal_ungrounded']),
        message: z.string(),
        observed: z.number(),
        threshold: z.number(),
      }),
    ),
  }),
  handler(p, ctx) {
    const summary = ctx.session.events.summary();
    return { summary, alerts: evaluateAlerts(summary, p) };
  },
});

export const metricsMethods = [metricsSummary, metricsAlerts];
