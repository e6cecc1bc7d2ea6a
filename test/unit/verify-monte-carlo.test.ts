import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { parseProposal } from '../../src/engine/ir.js';
import { MAX_TRIALS, monteCarlo, SplitMix64, VerifyInputError, type MonteCarloResult } from '../../src/engine/verify/index.js';

const proposal = (actions: unknown[]) => parseProposal({ id: 'p', actions });

/** Straightforward BigInt SplitMix64, the reference the fast version must match. */
function reference(seed: bigint): () => bigint {
  let s = BigInt.asUintN(64, seed);
  return () => {
    s = BigInt.asUintN(64, s + 0x9e3779b97f4a7c15n);
    let z = s;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  };
}

describe('SplitMix64', () => {
  test('matches the published first output for seed 0', () => {
    assert.equal(new SplitMix64(0).nextBigInt(), 0xe220a8397b1dcdafn);
  });

  test('matches a BigInt reference over many draws and seeds', () => {
    for (const seed of [0n, 1n, 42n, 0xffffffffn, 0x1_0000_0000n, 2n ** 53n - 1n, 2n ** 64n - 1n]) {
      const fast = new SplitMix64(seed);
      const ref = reference(seed);
      for (let i = 0; i < 2000; i++) assert.equal(fast.nextBigInt(), ref(), `seed ${seed} draw ${i}`);
    }
  });

  test('floats are in [0, 1) and roughly uniform', () => {
    const rng = new SplitMix64(7);
    let sum = 0;
    for (let i = 0; i < 10_000; i++) {
      const f = rng.nextFloat();
      assert.ok(f >= 0 && f < 1);
      sum += f;
    }
    assert.ok(Math.abs(sum / 10_000 - 0.5) < 0.02);
  });
});

const row = (r: MonteCarloResult, id: string) => r.action_outcomes.find((a) => a.action_id === id)!;
const outcomeOf = (r: MonteCarloResult, id: string) => {
  const a = row(r, id);
  return { succeeded: a.p_succeeded, failed: a.p_failed, rejected: a.p_rejected, skipped: a.p_skipped };
};
const dist = (r: MonteCarloResult) => Object.fromEntries(r.state_distribution.map((d) => [d.key, d.values.map((v) => [v.value, v.probability])]));

describe('monteCarlo', () => {
  const plan = proposal([
    { id: 'fetch', type: 'tool_call', tool: 'fetch', expected_effects: { fetched: true } },
    { id: 'save', type: 'tool_call', tool: 'save', dependencies: ['fetch'], expected_effects: { saved: true } },
    { id: 'log', type: 'state_write', parameters: { key: 'log', value: 'ok' } },
  ]);

  test('the same seed gives identical output; a different seed differs', () => {
    const a = monteCarlo(plan, { config: { seed: 123 } });
    const b = monteCarlo(plan, { config: { seed: 123 } });
    assert.deepEqual(a, b);
    const c = monteCarlo(plan, { config: { seed: 124 } });
    assert.notDeepEqual(c.action_outcomes, a.action_outcomes);
    assert.equal(a.trials, 1000);
    assert.equal(a.seed, 123);
  });

  test('defaults: 1000 trials, fixed seed, unknown tools at 0.5, provenance says default', () => {
    const r = monteCarlo(plan);
    assert.deepEqual(r, monteCarlo(plan));
    assert.deepEqual(r.rate_provenance, {
      window_days: 30,
      trajectories_available: false,
      overridden_by_caller: [],
      tools: [
        { tool: 'fetch', rate: 0.5, source: 'default', succeeded: null, dispatched: null },
        { tool: 'save', rate: 0.5, source: 'default', succeeded: null, dispatched: null },
      ],
    });
    assert.equal(r.p_goal_reached, null);
    assert.deepEqual(r.goal_underivable_conditions, []);
    assert.ok(Math.abs(row(r, 'fetch').p_succeeded - 0.5) < 0.06);
    assert.ok(Math.abs(row(r, 'save').p_succeeded - 0.25) < 0.06);
    // fetch's failure aborts the trial before save's level: save is not reached, not rejected.
    assert.equal(row(r, 'save').p_rejected, 0);
    assert.ok(Math.abs(row(r, 'save').p_skipped - 0.5) < 0.06);
    assert.equal(row(r, 'fetch').mean_blast_radius, 0);
  });

  test('rate 1.0 everywhere: every effect lands and the goal is always reached; distributions are exact', () => {
    const r = monteCarlo(plan, { toolSuccessRates: { fetch: 1, save: 1 }, goal: { all_of: [{ state_predicate: { key: 'saved', value: true } }, { state_predicate: { key: 'log', value: 'ok' } }] } });
    assert.equal(r.p_goal_reached, 1);
    assert.equal(r.p_all_effects_landed, 1);
    assert.deepEqual(r.tool_calls, { mean: 2, min: 2, p50: 2, p95: 2, max: 2 });
    assert.deepEqual(r.actions_executed, { mean: 3, min: 3, p50: 3, p95: 3, max: 3 });
    assert.deepEqual(row(r, 'save'), { action_id: 'save', p_rejected: 0, p_failed: 0, p_effects_landed: 1, mean_blast_radius: 0, p_succeeded: 1, p_skipped: 0 });
    assert.deepEqual(r.state_distribution, [
      { key: 'fetched', p_present: 1, values: [{ value: true, probability: 1 }] },
      { key: 'log', p_present: 1, values: [{ value: 'ok', probability: 1 }] },
      { key: 'saved', p_present: 1, values: [{ value: true, probability: 1 }] },
    ]);
    assert.deepEqual(r.rate_provenance.overridden_by_caller, ['fetch', 'save']);
  });

  test('rate 0.0: the first failure aborts, later actions are not reached and state rolls back', () => {
    const r = monteCarlo(plan, { toolSuccessRates: { fetch: 0, save: 1 }, goal: { log: 'ok' }, initialState: { pre: 1 } });
    assert.equal(r.p_goal_reached, 0);
    assert.equal(r.p_all_effects_landed, 0);
    assert.deepEqual(outcomeOf(r, 'fetch'), { succeeded: 0, failed: 1, rejected: 0, skipped: 0 });
    assert.deepEqual(outcomeOf(r, 'save'), { succeeded: 0, failed: 0, rejected: 0, skipped: 1 });
    // log runs concurrently with fetch (same level) but the abort rolls its write back.
    assert.deepEqual(outcomeOf(r, 'log'), { succeeded: 1, failed: 0, rejected: 0, skipped: 0 });
    assert.equal(row(r, 'log').p_effects_landed, 0);
    assert.deepEqual(dist(r), { pre: [[1, 1]] });
    assert.equal(r.tool_calls.max, 1);
  });

  test('failure_behavior skip carries on; its dependents are rejected and counted in its blast radius', () => {
    const p = proposal([
      { id: 'a', type: 'tool_call', tool: 'bad', failure_behavior: 'skip', expected_effects: { a: 1 } },
      { id: 'b', type: 'tool_call', tool: 'good', dependencies: ['a'] },
      { id: 'b2', type: 'tool_call', tool: 'good', dependencies: ['b'] },
      { id: 'c', type: 'tool_call', tool: 'good', expected_effects: { c: 1 } },
      { id: 'd', type: 'tool_call', tool: 'good', dependencies: ['c'], expected_effects: { d: 1 } },
    ]);
    const r = monteCarlo(p, { toolSuccessRates: { bad: 0, good: 1 }, goal: { d: 1 } });
    assert.equal(r.p_goal_reached, 1);
    assert.equal(r.p_all_effects_landed, 0);
    assert.deepEqual(outcomeOf(r, 'a'), { succeeded: 0, failed: 1, rejected: 0, skipped: 0 });
    assert.deepEqual(outcomeOf(r, 'b'), { succeeded: 0, failed: 0, rejected: 1, skipped: 0 });
    assert.equal(row(r, 'a').mean_blast_radius, 2, 'b and b2 are rejected whenever a fails');
    assert.deepEqual(dist(r), { c: [[1, 1]], d: [[1, 1]] });
    assert.equal(r.actions_executed.mean, 3, 'the failed tool call still ran');
  });

  test('retry_attempts gives every dispatched tool call that many extra draws', () => {
    const p = proposal([{ id: 'a', type: 'tool_call', tool: 'flaky' }]);
    const none = monteCarlo(p, { toolSuccessRates: { flaky: 0.5 }, config: { trials: 4000 } });
    const three = monteCarlo(p, { toolSuccessRates: { flaky: 0.5 }, config: { trials: 4000, retry_attempts: 3 } });
    assert.ok(Math.abs(row(none, 'a').p_succeeded - 0.5) < 0.04);
    assert.ok(Math.abs(row(three, 'a').p_succeeded - 0.9375) < 0.02);
    assert.ok(three.tool_calls.mean > 1.8 && three.tool_calls.mean < 2.0, `mean attempts ${three.tool_calls.mean}`);
    assert.deepEqual([three.tool_calls.min, three.tool_calls.max], [1, 4]);
    const alwaysFails = monteCarlo(p, { toolSuccessRates: { flaky: 0 }, config: { retry_attempts: 2, trials: 10 } });
    assert.deepEqual(alwaysFails.tool_calls, { mean: 3, min: 3, p50: 3, p95: 3, max: 3 });
  });

  test('a failing precondition fails the action without calling its tool; a missing read does not', () => {
    const p = proposal([
      { id: 'a', type: 'tool_call', tool: 't', preconditions: [{ key: 'ready', operator: 'exists' }] },
      { id: 'b', type: 'state_read', parameters: { key: 'nothing' } },
      { id: 'c', type: 'tool_call', tool: 't', dependencies: ['a'] },
    ]);
    const r = monteCarlo(p, { toolSuccessRates: { t: 1 }, config: { trials: 10 } });
    assert.deepEqual(outcomeOf(r, 'a'), { succeeded: 0, failed: 1, rejected: 0, skipped: 0 });
    assert.deepEqual(outcomeOf(r, 'b'), { succeeded: 1, failed: 0, rejected: 0, skipped: 0 });
    assert.deepEqual(outcomeOf(r, 'c'), { succeeded: 0, failed: 0, rejected: 0, skipped: 1 });
    assert.equal(r.tool_calls.max, 0);
    assert.equal(r.actions_executed.mean, 1);
    const ready = monteCarlo(p, { toolSuccessRates: { t: 1 }, initialState: { ready: 1 }, config: { trials: 10 } });
    assert.equal(ready.tool_calls.mean, 2);
  });

  test('history rates are Laplace-smoothed and dispatch-conditional; caller rates win per tool, clamped', () => {
    const r = monteCarlo(plan, {
      toolSuccessRates: { save: 1.7 },
      history: new Map([['fetch', { succeeded: 8, dispatched: 8 }], ['save', { succeeded: 0, dispatched: 10 }]]),
      rateWindowDays: 7,
      config: { trials: 10 },
    });
    assert.deepEqual(r.rate_provenance, {
      window_days: 7,
      trajectories_available: true,
      overridden_by_caller: ['save'],
      tools: [
        { tool: 'fetch', rate: 0.9, source: 'trajectories', succeeded: 8, dispatched: 8 },
        { tool: 'save', rate: 1, source: 'caller', succeeded: 0, dispatched: 10 },
      ],
    });
    assert.deepEqual(r.tool_success_rates, { fetch: 0.9, save: 1 });
  });

  test('policies and the permission gate refuse actions as at run time', () => {
    const p = proposal([
      { id: 'x', type: 'tool_call', tool: 'danger', expected_effects: { x: 1 } },
      { id: 'y', type: 'tool_call', tool: 'safe', failure_behavior: 'skip' },
    ]);
    const denied = monteCarlo(p, { toolSuccessRates: { danger: 1, safe: 1 }, policyCheck: (a) => (a.tool === 'danger' ? 'deny_tool danger' : null) });
    assert.deepEqual(outcomeOf(denied, 'x'), { succeeded: 0, failed: 0, rejected: 1, skipped: 0 });
    assert.equal(denied.p_all_effects_landed, 0);
    assert.equal(denied.tool_calls.max, 1, 'a refused action is never dispatched');
    const gated = monteCarlo(p, { toolSuccessRates: { danger: 1, safe: 1 }, proposalBlock: { gate: 'permission', reason: 'needs full_access' } });
    for (const id of ['x', 'y']) {
      assert.equal(row(gated, id).p_rejected, 1);
      assert.deepEqual(row(gated, id).blocked_by, { gate: 'permission', reason: 'needs full_access' });
    }
    assert.deepEqual(gated.tool_calls, { mean: 0, min: 0, p50: 0, p95: 0, max: 0 });
  });

  test('goal conditions: state predicates with operators, any_of, and underivable kinds that fail closed', () => {
    const coin = proposal([{ id: 'a', type: 'tool_call', tool: 'coin', failure_behavior: 'skip', expected_effects: { side: 'heads' } }]);
    const r = monteCarlo(coin, {
      initialState: { side: 'tails' },
      goal: { any_of: [{ state_predicate: { key: 'side', operator: 'eq', value: 'heads' } }, { model_judge: { prompt: 'is it done?' } }] },
      config: { trials: 2000, seed: 9 },
    });
    assert.ok(Math.abs((r.p_goal_reached ?? 0) - 0.5) < 0.05);
    assert.deepEqual(r.goal_underivable_conditions, ['model_judge']);
    const [side] = r.state_distribution;
    assert.equal(side!.p_present, 1);
    assert.deepEqual(side!.values.map((v) => v.value).sort(), ['heads', 'tails']);
    assert.ok(Math.abs(side!.values.reduce((s, v) => s + v.probability, 0) - 1) < 1e-9);
    const tagged = monteCarlo(coin, { goal: { type: 'state_predicate', key: 'side', operator: 'exists' }, initialState: { side: 'tails' }, config: { trials: 10 } });
    assert.equal(tagged.p_goal_reached, 1);
    const closed = monteCarlo(coin, { goal: { plan_achieved: {} }, config: { trials: 10 } });
    assert.deepEqual([closed.p_goal_reached, closed.goal_underivable_conditions], [0, ['plan_achieved']]);
  });

  test('cyclic actions are never reached', () => {
    const p = proposal([
      { id: 'a', type: 'state_write', dependencies: ['b'], parameters: { key: 'k', value: 1 } },
      { id: 'b', type: 'state_write', dependencies: ['a'], parameters: { key: 'k', value: 2 } },
    ]);
    const r = monteCarlo(p, { config: { trials: 5 } });
    assert.equal(row(r, 'a').p_skipped, 1);
    assert.equal(r.p_all_effects_landed, 0);
  });

  test('bad configuration is a typed input error', () => {
    const bad = (opts: Parameters<typeof monteCarlo>[1], field: string) =>
      assert.throws(() => monteCarlo(plan, opts), (e: unknown) => e instanceof VerifyInputError && e.field === field);
    bad({ config: { trials: 0 } }, 'config.trials');
    bad({ config: { trials: MAX_TRIALS + 1 } }, 'config.trials');
    bad({ config: { seed: -1 } }, 'config.seed');
    bad({ config: { default_success_rate: 2 } }, 'config.default_success_rate');
    bad({ config: { retry_attempts: 1.5 } }, 'config.retry_attempts');
    bad({ goal: { state_predicate: {} } }, 'goal.state_predicate.key');
    const wide = proposal(Array.from({ length: 1000 }, (_, i) => ({ id: `a${i}`, type: 'tool_call', tool: 't' })));
    assert.throws(() => monteCarlo(wide, { config: { trials: 50_000 } }), /trials × actions/);
  });
});
