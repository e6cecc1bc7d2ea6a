import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { evaluateAlerts, EventKind, EventLog, type MetricsSummary } from '../../src/index.js';

/** A synthetic session: two proposals, inference by two agents, gates, approvals and goals. */
function syntheticLog(): EventLog {
  const log = new EventLog();
  const add = (kind: string, data: Record<string, unknown> = {}, action_id?: string): void => {
    log.append(kind, { proposal_id: 'p1', action_id, data });
  };
  add(EventKind.ProposalReceived, { source: 'ws', actions: 4 });
  add(EventKind.ActionSucceeded, { tool: 'read', duration_ms: 10, attempt: 1 }, 'a1');
  add(EventKind.ActionFailed, { tool: 'net', error: 'x', duration_ms: 30, attempt: 1, will_retry: true }, 'a2');
  add(EventKind.ActionSucceeded, { tool: 'net', duration_ms: 20, attempt: 2 }, 'a2');
  add(EventKind.ActionFailed, { tool: 'write', error: 'y', duration_ms: 40, attempt: 1, will_retry: false }, 'a3');
  add(EventKind.ActionRejected, { tool: 'shell', reason: 'deny_tool' }, 'a4');
  add(EventKind.PolicyViolation, { policy_name: 'no-shell', reason: 'denied' }, 'a4');
  add(EventKind.PermissionDecision, { fingerprint: 'f', decision: 'allow', required: 'read_only', granted: 'sandbox_edit' }, 'a1');
  add(EventKind.GateRejection, { gate: 'permission', reason: 'tier' });
  add(EventKind.ApprovalRecorded, { fingerprint: 'f', decision: 'approved', required_tier: 'full_access', reviewer: 'me' });
  add(EventKind.InferenceMetered, { agent: 'planner', model: 'm', tokens_in: 100, tokens_out: 20, cost_usd: 0.25, latency_ms: 900 });
  add(EventKind.InferenceMetered, { agent: 'coder', tokens_in: 50, tokens_out: 10, cost_usd: 0.5, latency_ms: 300 });
  add(EventKind.InferenceMetered, { agent: 'planner', tokens_in: 300, tokens_out: 40, cost_usd: 0.125, latency_ms: 100 });
  add(EventKind.GoalEvaluated, { met: true, grounded: true });
  add(EventKind.GoalEvaluated, { met: false, grounded: false });
  add(EventKind.GoalEvaluated, { met: true, grounded: false });
  add(EventKind.ProposalCompleted, { status: 'aborted', cost: {} });
  return log;
}

describe('metrics.summary numbers', () => {
  test('a synthetic stream gives the expected counts, rates, cost and latency', () => {
    const summary = syntheticLog().summary();
    assert.deepEqual(summary, {
      total_events: 17,
      actions_succeeded: 2,
      actions_failed: 1, // the retried attempt is not a failed action
      actions_rejected: 1,
      success_rate: 2 / 3,
      error_rate: 1 / 3,
      cost_usd: 0.875,
      cumulative_cost_usd: 0.875,
      tokens_in: 450,
      tokens_out: 70,
      avg_latency_ms: 25, // (10 + 30 + 20 + 40) / 4: every attempt counts for latency
      approvals_recorded: 1,
      permission_decisions: 1,
      gate_rejections: 1,
      policy_violations: 1,
      goal_evaluations: 3,
      goals_met: 2,
      goals_ungrounded: 2,
      cost_by_agent: [
        { agent: 'coder', calls: 1, tokens_in: 50, tokens_out: 10, cost_usd: 0.5 },
        { agent: 'planner', calls: 2, tokens_in: 400, tokens_out: 60, cost_usd: 0.375 },
      ],
    } satisfies MetricsSummary);
  });

  test('an empty log has zero rates rather than NaN', () => {
    const summary = new EventLog().summary();
    assert.equal(summary.total_events, 0);
    assert.equal(summary.success_rate, 0);
    assert.equal(summary.error_rate, 0);
    assert.equal(summary.avg_latency_ms, 0);
    assert.deepEqual(summary.cost_by_agent, []);
  });

  test('cumulative_cost_usd is monotonic: retention lowers cost_usd but not the cumulative figure', () => {
    const log = syntheticLog();
    log.setRetention({ max_events: 2 });
    const summary = log.summary();
    assert.equal(summary.total_events, 2);
    assert.equal(summary.cost_usd, 0);
    assert.equal(summary.cumulative_cost_usd, 0.875);
    log.append(EventKind.InferenceMetered, { data: { agent: 'coder', cost_usd: 0.125 } });
    assert.equal(log.summary().cumulative_cost_usd, 1);
    assert.equal(log.cumulativeCostUsd, 1);
  });

  test('malformed usage numbers count as 0; a missing agent is reported as "unknown"', () => {
    const log = new EventLog();
    log.append(EventKind.InferenceMetered, { data: { tokens_in: 'many', tokens_out: -5, cost_usd: -1 } });
    log.append(EventKind.InferenceMetered, { data: { agent: '', cost_usd: Infinity } });
    log.append(EventKind.ActionSucceeded, { data: { duration_ms: 'slow' } });
    const summary = log.summary();
    assert.deepEqual(summary.cost_by_agent, [{ agent: 'unknown', calls: 2, tokens_in: 0, tokens_out: 0, cost_usd: 0 }]);
    assert.equal(summary.cumulative_cost_usd, 0);
    assert.equal(summary.avg_latency_ms, 0);
    assert.equal(summary.actions_succeeded, 1);
  });

  test('costByAgent matches the summary breakdown', () => {
    const log = syntheticLog();
    assert.deepEqual(log.costByAgent(), log.summary().cost_by_agent);
  });
});

describe('metrics.alerts', () => {
  const summary = syntheticLog().summary();

  test('no thresholds, no alerts', () => {
    assert.deepEqual(evaluateAlerts(summary, {}), []);
  });

  test('each bound fires when the observed value is above it, with kind, observed and threshold', () => {
    const alerts = evaluateAlerts(summary, {
      max_cost_usd: 0.5,
      max_error_rate: 0.2,
      max_avg_latency_ms: 20,
      max_goals_ungrounded: 1,
      min_actions: 3,
    });
    assert.deepEqual(
      alerts.map(({ kind, observed, threshold }) => ({ kind, observed, threshold })),
      [
        { kind: 'cost_overage', observed: 0.875, threshold: 0.5 },
        { kind: 'error_rate', observed: 1 / 3, threshold: 0.2 },
        { kind: 'latency', observed: 25, threshold: 20 },
        { kind: 'goal_ungrounded', observed: 2, threshold: 1 },
      ],
    );
    for (const alert of alerts) assert.ok(alert.message.length > 0);
  });

  test('a value equal to its bound does not fire', () => {
    assert.deepEqual(
      evaluateAlerts(summary, { max_cost_usd: 0.875, max_avg_latency_ms: 25, max_goals_ungrounded: 2, max_error_rate: 1 / 3, min_actions: 0 }),
      [],
    );
  });

  test('the error-rate alert is suppressed below min_actions (default 5)', () => {
    // 3 finished actions (2 succeeded, 1 failed).
    assert.deepEqual(evaluateAlerts(summary, { max_error_rate: 0 }), []);
    assert.deepEqual(evaluateAlerts(summary, { max_error_rate: 0, min_actions: 4 }), []);
    assert.equal(evaluateAlerts(summary, { max_error_rate: 0, min_actions: 3 }).length, 1);
  });

  test('cost is judged on the cumulative figure, so retention cannot hide spending', () => {
    const log = syntheticLog();
    log.setRetention({ max_events: 1 });
    const alerts = evaluateAlerts(log.summary(), { max_cost_usd: 0.5 });
    assert.deepEqual(
      alerts.map((a) => [a.kind, a.observed]),
      [['cost_overage', 0.875]],
    );
  });
});
