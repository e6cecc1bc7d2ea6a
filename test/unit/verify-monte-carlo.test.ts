import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { parseProposal } from '../../src/engine/ir.js';
import { MAX_TRIALS, monteCarlo, SplitMix64, VerifyInputError } from '../../src/engine/verify/index.js';

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

  test('defaults: 1000 trials, fixed seed, unknown tools at 0.5', () => {
    const r = monteCarlo(plan);
    assert.deepEqual(r, monteCarlo(plan));
    assert.deepEqual(r.rate_provenance, { fetch: 'default', save: 'default' });
    assert.deepEqual(r.tool_success_rates, { fetch: 0.5, save: 0.5 });
    assert.equal(r.p_goal_reached, null);
    // fetch succeeds about half the time; save about a quarter (after fetch).
    assert.ok(Math.abs((r.action_outcomes.fetch?.succeeded ?? 0) - 0.5) < 0.06);
    assert.ok(Math.abs((r.action_outcomes.save?.succeeded ?? 0) - 0.25) < 0.06);
  });

  test('rate 1.0 everywhere: every effect lands and the goal is always reached', () => {
    const r = monteCarlo(plan, { toolSuccessRates: { fetch: 1, save: 1 }, goal: { saved: true, log: 'ok' } });
    assert.equal(r.p_goal_reached, 1);
    assert.equal(r.p_all_effects_landed, 1);
    assert.equal(r.tool_calls, 2);
    assert.equal(r.actions_executed, 3);
    assert.deepEqual(r.action_outcomes.save, { succeeded: 1, failed: 0, skipped: 0 });
    assert.deepEqual(r.state_distribution, {
      fetched: { true: 1 },
      log: { '"ok"': 1 },
      saved: { true: 1 },
    });
    assert.deepEqual(r.rate_provenance, { fetch: 'caller', save: 'caller' });
  });

  test('rate 0.0: the first failure aborts, later actions are skipped and state rolls back', () => {
    const r = monteCarlo(plan, { toolSuccessRates: { fetch: 0, save: 1 }, goal: { log: 'ok' }, initialState: { pre: 1 } });
    assert.equal(r.p_goal_reached, 0);
    assert.equal(r.p_all_effects_landed, 0);
    assert.deepEqual(r.action_outcomes.fetch, { succeeded: 0, failed: 1, skipped: 0 });
    assert.deepEqual(r.action_outcomes.save, { succeeded: 0, failed: 0, skipped: 1 });
    // log runs concurrently with fetch (same level) but the abort rolls its write back.
    assert.deepEqual(r.action_outcomes.log, { succeeded: 1, failed: 0, skipped: 0 });
    assert.deepEqual(r.state_distribution, { pre: { '1': 1 } });
    assert.equal(r.tool_calls, 1);
  });

  test('failure_behavior skip marks the action skipped and carries on; its dependents are skipped', () => {
    const p = proposal([
      { id: 'a', type: 'tool_call', tool: 'bad', failure_behavior: 'skip', expected_effects: { a: 1 } },
      { id: 'b', type: 'tool_call', tool: 'good', dependencies: ['a'] },
      { id: 'c', type: 'tool_call', tool: 'good', expected_effects: { c: 1 } },
      { id: 'd', type: 'tool_call', tool: 'good', dependencies: ['c'], expected_effects: { d: 1 } },
    ]);
    const r = monteCarlo(p, { toolSuccessRates: { bad: 0, good: 1 }, goal: { d: 1 } });
    assert.equal(r.p_goal_reached, 1);
    assert.equal(r.p_all_effects_landed, 0);
    assert.deepEqual(r.action_outcomes.a, { succeeded: 0, failed: 0, skipped: 1 });
    assert.deepEqual(r.action_outcomes.b, { succeeded: 0, failed: 0, skipped: 1 });
    assert.deepEqual(r.state_distribution, { c: { '1': 1 }, d: { '1': 1 } });
    assert.equal(r.actions_executed, 3, 'the failed tool call still ran');
  });

  test('retry re-rolls up to retry_attempts extra times', () => {
    const p = proposal([{ id: 'a', type: 'tool_call', tool: 'flaky', failure_behavior: 'retry' }]);
    const none = monteCarlo(p, { toolSuccessRates: { flaky: 0.5 }, config: { trials: 4000 } });
    const three = monteCarlo(p, { toolSuccessRates: { flaky: 0.5 }, config: { trials: 4000, retry_attempts: 3 } });
    assert.ok(Math.abs((none.action_outcomes.a?.succeeded ?? 0) - 0.5) < 0.04);
    assert.ok(Math.abs((three.action_outcomes.a?.succeeded ?? 0) - 0.9375) < 0.02);
    assert.ok(three.tool_calls > 1.8 && three.tool_calls < 2.0, `mean attempts ${three.tool_calls}`);
    const alwaysFails = monteCarlo(p, { toolSuccessRates: { flaky: 0 }, config: { retry_attempts: 2, trials: 10 } });
    assert.equal(alwaysFails.tool_calls, 3);
  });

  test('a failing precondition fails the action without calling its tool; a missing read does not', () => {
    const p = proposal([
      { id: 'a', type: 'tool_call', tool: 't', preconditions: [{ key: 'ready', operator: 'exists' }] },
      { id: 'b', type: 'state_read', parameters: { key: 'nothing' } },
      { id: 'c', type: 'tool_call', tool: 't', dependencies: ['a'] },
    ]);
    const r = monteCarlo(p, { toolSuccessRates: { t: 1 }, config: { trials: 10 } });
    assert.deepEqual(r.action_outcomes.a, { succeeded: 0, failed: 1, skipped: 0 });
    assert.deepEqual(r.action_outcomes.b, { succeeded: 1, failed: 0, skipped: 0 });
    assert.deepEqual(r.action_outcomes.c, { succeeded: 0, failed: 0, skipped: 1 });
    assert.equal(r.tool_calls, 0);
    assert.equal(r.actions_executed, 1);
    const ready = monteCarlo(p, { toolSuccessRates: { t: 1 }, initialState: { ready: 1 }, config: { trials: 10 } });
    assert.equal(ready.tool_calls, 2);
  });

  test('history rates use Laplace smoothing; caller rates win per tool', () => {
    const r = monteCarlo(plan, {
      toolSuccessRates: { save: 0.9 },
      historicRates: { fetch: { successes: 8, failures: 0 }, save: { successes: 0, failures: 10 } },
      rateWindowDays: 7,
      config: { trials: 10 },
    });
    assert.deepEqual(r.rate_provenance, { fetch: 'history', save: 'caller' });
    assert.deepEqual(r.tool_success_rates, { fetch: 0.9, save: 0.9 });
    assert.equal(r.rate_window_days, 7);
  });

  test('state_distribution gives each final value its share', () => {
    const p = proposal([
      { id: 'a', type: 'tool_call', tool: 'coin', failure_behavior: 'skip', expected_effects: { side: 'heads' } },
    ]);
    const r = monteCarlo(p, { initialState: { side: 'tails' }, config: { trials: 2000, seed: 9 } });
    const d = r.state_distribution.side ?? {};
    assert.deepEqual(Object.keys(d), ['"heads"', '"tails"']);
    assert.ok(Math.abs((d['"heads"'] ?? 0) + (d['"tails"'] ?? 0) - 1) < 1e-9);
    assert.ok(Math.abs((d['"heads"'] ?? 0) - 0.5) < 0.05);
  });

  test('cyclic actions are always skipped', () => {
    const p = proposal([
      { id: 'a', type: 'state_write', dependencies: ['b'], parameters: { key: 'k', value: 1 } },
      { id: 'b', type: 'state_write', dependencies: ['a'], parameters: { key: 'k', value: 2 } },
    ]);
    const r = monteCarlo(p, { config: { trials: 5 } });
    assert.deepEqual(r.action_outcomes.a, { succeeded: 0, failed: 0, skipped: 1 });
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
    bad({ toolSuccessRates: { fetch: -0.1 } }, 'tool_success_rates');
    const wide = proposal(Array.from({ length: 1000 }, (_, i) => ({ id: `a${i}`, type: 'tool_call', tool: 't' })));
    assert.throws(() => monteCarlo(wide, { config: { trials: 50_000 } }), /trials × actions/);
  });
});
