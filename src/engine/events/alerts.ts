import type { MetricsSummary } from './metrics.js';

export type AlertKind = 'cost_overage' | 'error_rate' | 'latency' | 'goal_ungrounded';

export interface Alert {
  kind: AlertKind;
  message: string;
  observed: number;
  threshold: number;
}

/** Each bound left out is not checked. An alert fires when the observed value is above its bound. */
export interface AlertThresholds {
  /** Compared with `cumulative_cost_usd`, so retention cannot hide spending. */
  max_cost_usd?: number | undefined;
  max_error_rate?: number | undefined;
  max_avg_latency_ms?: number | undefined;
  max_goals_ungrounded?: number | undefined;
  /** The error rate is not judged until this many actions finished. */
  min_actions?: number | undefined;
}

export const DEFAULT_MIN_ACTIONS = 5;

export function evaluateAlerts(summary: MetricsSummary, thresholds: AlertThresholds): Alert[] {
  const alerts: Alert[] = [];
  const check = (kind: AlertKind, observed: number, threshold: number | undefined, describe: string): void => {
    if (threshold !== undefined && observed > threshold) {
      alerts.push({ kind, message: `${describe}: ${observed} is above the limit of ${threshold}`, observed, threshold });
    }
  };
  check('cost_overage', summary.cumulative_cost_usd, thresholds.max_cost_usd, 'cumulative inference cost (USD)');
  const finished = summary.actions_succeeded + summary.actions_failed;
  if (finished >= (thresholds.min_actions ?? DEFAULT_MIN_ACTIONS)) {
    check('error_rate', summary.error_rate, thresholds.max_error_rate, `action error rate over ${finished} actions`);
  }
  check('latency', summary.avg_latency_ms, thresholds.max_avg_latency_ms, 'mean action latency (ms)');
  check('goal_ungrounded', summary.goals_ungrounded, thresholds.max_goals_ungrounded, 'ungrounded goal evaluations');
  return alerts;
}
