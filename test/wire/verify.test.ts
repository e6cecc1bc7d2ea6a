import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { delay } from '../helpers/raw-client.js';
import type { RawClient } from '../helpers/raw-client.js';
import { useServer } from '../helpers/server.js';

const weather = {
  name: 'weather',
  description: 'forecast',
  parameters: {
    type: 'object',
    required: ['city'],
    properties: { city: { type: 'string' }, days: { type: 'integer' } },
  },
};
const search = { name: 'search', parameters: { type: 'object', properties: { q: { type: 'string' } } } };

/** No server→client tool callback was ever sent on this connection. */
async function assertNoCallbacks(c: RawClient): Promise<void> {
  await delay(20);
  assert.equal(
    c.received.filter((f) => f?.method === 'tools.execute').length,
    0,
    'verify must not call any tool',
  );
  assert.equal(c.pendingFrames, 0);
}

describe('verify over the wire', () => {
  const server = useServer();

  test('an unregistered tool → valid:false with a decision_procedure error, and no callback (behaviour 40)', async () => {
    const c = await server.authed();
    assert.equal(await c.result('tools.register', [weather]), 1);
    const r = await c.result('verify', {
      proposal: { actions: [{ id: 'a1', type: 'tool_call', tool: 'launch_rockets', parameters: {} }] },
    });
    assert.equal(r.valid, false);
    assert.deepEqual(r.issues, [
      { action_id: 'a1', severity: 'error', message: "tool 'launch_rockets' is not registered", tier: 'decision_procedure' },
    ]);
    assert.deepEqual(r.execution_levels, [['a1']]);
    assert.deepEqual(r.conflicts, []);
    assert.deepEqual(Object.keys(r).sort(), ['conflicts', 'evidence', 'execution_levels', 'issues', 'simulated_state', 'valid']);
    assert.deepEqual(Object.keys(r.evidence).sort(), ['assumptions', 'checks', 'confidence', 'residual_risks', 'untested_regions']);
    await assertNoCallbacks(c);
  });

  test('a wrong-typed parameter against a registered schema → valid:false (behaviour 41)', async () => {
    const c = await server.authed();
    await c.result('tools.register', [weather]);
    const proposal = (params: unknown) => ({ actions: [{ id: 'w', type: 'tool_call', tool: 'weather', parameters: params }] });
    const bad = await c.result('verify', { proposal: proposal({ city: 'Oslo', days: 'three' }) });
    assert.equal(bad.valid, false);
    assert.equal(bad.issues.length, 1);
    assert.equal(bad.issues[0].severity, 'error');
    assert.match(bad.issues[0].message, /parameters\.days must be integer/);
    const missing = await c.result('verify', { proposal: proposal({ days: 3 }) });
    assert.equal(missing.valid, false);
    assert.match(missing.issues[0].message, /parameters\.city is required/);
    const good = await c.result('verify', { proposal: proposal({ city: 'Oslo', days: 3 }) });
    assert.equal(good.valid, true);
    assert.deepEqual(good.issues, []);
    await assertNoCallbacks(c);
  });

  test('three identical calls → a heuristic issue (behaviour 42)', async () => {
    const c = await server.authed();
    await c.result('tools.register', [search]);
    const call = (id: string) => ({ id, type: 'tool_call', tool: 'search', parameters: { q: 'same' } });
    const r = await c.result('verify', { proposal: { actions: [call('s1'), call('s2'), call('s3')] } });
    const heuristic = r.issues.filter((i: { tier: string }) => i.tier === 'heuristic');
    assert.equal(heuristic.length, 1);
    assert.equal(heuristic[0].action_id, 's3');
    assert.equal(r.valid, true, 'the loop rule warns; it does not invalidate');
    await assertNoCallbacks(c);
  });

  test('tools are per connection: another connection sees them as unregistered', async () => {
    const owner = await server.authed();
    await owner.result('tools.register', [search]);
    const other = await server.authed();
    const r = await other.result('verify', { proposal: { actions: [{ id: 'x', type: 'tool_call', tool: 'search' }] } });
    assert.equal(r.valid, false);
  });

  test('initial_state feeds preconditions and simulated_state; handshake is not required', async () => {
    const c = await server.authed({ handshake: false });
    const proposal = {
      actions: [
        { id: 'w', type: 'state_write', parameters: { key: 'count', value: 2 }, preconditions: [{ key: 'ready', operator: 'eq', value: true }] },
      ],
    };
    const without = await c.result('verify', { proposal });
    assert.equal(without.valid, false);
    const withState = await c.result('verify', { proposal, initial_state: { ready: true } });
    assert.equal(withState.valid, true);
    assert.deepEqual(withState.simulated_state, { ready: true, count: 2 });
    assert.deepEqual(await c.result('state.keys', {}), [], 'verify writes nothing to session state');
  });

  test('a malformed proposal → -32602 naming the action and the field', async () => {
    const c = await server.authed();
    const err = await c.error('verify', { proposal: { actions: [{ id: 'ok', type: 'state_read', parameters: { key: 'k' } }, { id: 'bad', type: 'tool_call' }] } });
    assert.equal(err.code, -32602);
    assert.match(err.message, /^invalid params: /);
    assert.match(err.message, /actions\[1\]\.tool/);
    assert.match(err.message, /'bad'/);
    assert.deepEqual(err.data, { kind: 'invalid', field: 'actions[1].tool', action_id: 'bad' });

    const bad = await c.error('verify', { proposal: { actions: [{ id: 'p', type: 'tool_call', tool: 't', failure_behavior: 'explode' }] } });
    assert.equal(bad.code, -32602);
    assert.deepEqual(bad.data, { kind: 'invalid', field: 'actions[0].failure_behavior', action_id: 'p' });

    const missing = await c.error('verify', {});
    assert.equal(missing.code, -32602);
    const notObject = await c.error('verify', { proposal: { actions: [] }, initial_state: [1] });
    assert.equal(notObject.code, -32602);
  });

  test('verify and verify.monte_carlo are listed by capabilities.list', async () => {
    const c = await server.authed();
    const caps = JSON.stringify(await c.result('capabilities.list', {}));
    assert.match(caps, /"verify"/);
    assert.match(caps, /"verify\.monte_carlo"/);
  });
});

describe('verify.monte_carlo over the wire', () => {
  const server = useServer();

  const proposal = {
    actions: [
      { id: 'f', type: 'tool_call', tool: 'fetch', expected_effects: { fetched: true } },
      { id: 's', type: 'tool_call', tool: 'store', dependencies: ['f'], expected_effects: { stored: true } },
    ],
  };
  const storedGoal = { state_predicate: { key: 'stored', value: true } };

  test('the reference shape: distributions, per-key and per-action rows, provenance, a GoalCondition', async () => {
    const c = await server.authed();
    const params = { proposal, tool_success_rates: { fetch: 0.8 }, goal: storedGoal, rate_window_days: 30, config: { trials: 500, seed: 11, default_success_rate: 0.5, retry_attempts: 0 } };
    const a = await c.result('verify.monte_carlo', params);
    assert.deepEqual(a, await c.result('verify.monte_carlo', params));
    assert.deepEqual([a.trials, a.seed], [500, 11]);
    assert.deepEqual(a.goal_underivable_conditions, []);
    for (const d of [a.tool_calls, a.actions_executed]) assert.deepEqual(Object.keys(d).sort(), ['max', 'mean', 'min', 'p50', 'p95']);
    assert.deepEqual(Object.keys(a.state_distribution[0]).sort(), ['key', 'p_present', 'values']);
    assert.deepEqual(Object.keys(a.state_distribution[0].values[0]).sort(), ['probability', 'value']);
    assert.deepEqual(a.action_outcomes.map((r: { action_id: string }) => r.action_id), ['f', 's']);
    for (const key of ['p_rejected', 'p_failed', 'p_effects_landed', 'mean_blast_radius']) assert.equal(typeof a.action_outcomes[0][key], 'number', key);
    assert.deepEqual(Object.keys(a.rate_provenance).sort(), ['overridden_by_caller', 'tools', 'trajectories_available', 'window_days']);
    assert.deepEqual(a.rate_provenance.overridden_by_caller, ['fetch']);
    assert.deepEqual(a.rate_provenance.tools.map((t: { tool: string; source: string }) => [t.tool, t.source]), [['fetch', 'caller'], ['store', 'default']]);
    assert.ok(a.p_goal_reached > 0.3 && a.p_goal_reached < 0.5, `p_goal_reached ${a.p_goal_reached}`);
    const other = await c.result('verify.monte_carlo', { ...params, config: { trials: 500, seed: 12 } });
    assert.notDeepEqual(other.action_outcomes, a.action_outcomes);
    await assertNoCallbacks(c);
  });

  test('certain success and certain failure; an underivable goal fails closed and is named', async () => {
    const c = await server.authed();
    const sure = await c.result('verify.monte_carlo', { proposal, tool_success_rates: { fetch: 1, store: 1 }, goal: storedGoal });
    assert.equal(sure.p_goal_reached, 1);
    assert.equal(sure.p_all_effects_landed, 1);
    const never = await c.result('verify.monte_carlo', { proposal, config: { default_success_rate: 0 }, goal: { all_of: [storedGoal, { tool_receipts_grounded: {} }] } });
    assert.equal(never.p_goal_reached, 0);
    assert.deepEqual(never.goal_underivable_conditions, ['tool_receipts_grounded']);
    assert.equal(never.action_outcomes[1].p_succeeded, 0);
    const clamped = await c.result('verify.monte_carlo', { proposal, tool_success_rates: { fetch: 1.5, store: -1 } });
    assert.deepEqual(clamped.tool_success_rates, { fetch: 1, store: 0 }, 'rates outside 0..1 are clamped');
  });

  test('out-of-range inputs → -32602', async () => {
    const c = await server.authed();
    assert.equal((await c.error('verify.monte_carlo', { proposal, config: { trials: 0 } })).code, -32602);
    assert.equal((await c.error('verify.monte_carlo', { proposal, config: { seed: -3 } })).code, -32602);
    const big = await c.error('verify.monte_carlo', { proposal, config: { trials: 100_001 } });
    assert.equal(big.code, -32602);
    assert.deepEqual(big.data, { kind: 'invalid', field: 'config.trials' });
    const badProposal = await c.error('verify.monte_carlo', { proposal: { actions: 'nope' } });
    assert.equal(badProposal.code, -32602);
    assert.deepEqual(badProposal.data, { kind: 'invalid', field: 'proposal.actions' });
    assert.equal((await c.error('verify.monte_carlo', { proposal, goal: { state_predicate: { value: 1 } } })).code, -32602);
  });

  test('rates are learned from real dispatches: a tool that failed 3 of 4 times reads (1+1)/(4+2)', async () => {
    const c = await server.authed();
    await c.result('session.init', { tools: [{ name: 'learned_tool' }] });
    for (const ok of [true, false, false, false]) {
      const reply = c.call('proposal.submit', {
        proposal: { actions: [{ id: 'a', type: 'tool_call', tool: 'learned_tool', parameters: {}, failure_behavior: 'skip', max_retries: 0 }] },
      });
      const req = await c.next();
      assert.equal(req.method, 'tools.execute');
      c.send(ok ? { jsonrpc: '2.0', id: req.id, result: { ok: true } } : { jsonrpc: '2.0', id: req.id, error: { code: -32000, message: 'boom' } });
      await reply;
    }
    const plan = { actions: [{ id: 'x', type: 'tool_call', tool: 'learned_tool' }] };
    const r = await c.result('verify.monte_carlo', { proposal: plan, config: { trials: 10 } });
    assert.equal(r.rate_provenance.trajectories_available, true);
    assert.deepEqual(r.rate_provenance.tools, [{ tool: 'learned_tool', rate: 2 / 6, source: 'trajectories', succeeded: 1, dispatched: 4 }]);
    const off = await c.result('verify.monte_carlo', { proposal: plan, rate_window_days: 0, config: { trials: 10 } });
    assert.deepEqual([off.rate_provenance.trajectories_available, off.rate_provenance.tools[0].source], [false, 'default']);
  });

  test('a proposal id submitted again adds only its own dispatches to the learned rates', async () => {
    const c = await server.authed();
    await c.result('session.init', { tools: [{ name: 'resubmitted_tool' }] });
    const proposal = { id: 'same-id', actions: [{ id: 'a', type: 'tool_call', tool: 'resubmitted_tool', parameters: {} }] };
    for (let round = 0; round < 3; round++) {
      const reply = c.call('proposal.submit', { proposal });
      const req = await c.next();
      assert.equal(req.method, 'tools.execute');
      c.send({ jsonrpc: '2.0', id: req.id, result: { ok: true } });
      await reply;
    }
    const plan = { actions: [{ id: 'x', type: 'tool_call', tool: 'resubmitted_tool' }] };
    const r = await c.result('verify.monte_carlo', { proposal: plan, config: { trials: 10 } });
    assert.deepEqual(r.rate_provenance.tools, [{ tool: 'resubmitted_tool', rate: 4 / 5, source: 'trajectories', succeeded: 3, dispatched: 3 }]);
  });

  test('a deny_tool policy and the permission tier refuse actions inside the simulation', async () => {
    const c = await server.authed();
    await c.result('policy.register', { name: 'no-nuke', rule: 'deny_tool', target: 'nuke' });
    const denied = await c.result('verify.monte_carlo', {
      proposal: { actions: [{ id: 'n', type: 'tool_call', tool: 'nuke', expected_effects: { boom: true } }] },
      tool_success_rates: { nuke: 1 },
    });
    assert.deepEqual([denied.action_outcomes[0].p_rejected, denied.action_outcomes[0].p_succeeded, denied.p_all_effects_landed], [1, 0, 0]);
    assert.equal(denied.tool_calls.max, 0);
    const gated = await c.result('verify.monte_carlo', {
      proposal: { actions: [{ id: 'd', type: 'tool_call', tool: 'delete_everything', parameters: {} }] },
      tool_success_rates: { delete_everything: 1 },
    });
    assert.equal(gated.action_outcomes[0].p_rejected, 1);
    assert.equal(gated.action_outcomes[0].blocked_by.gate, 'permission');
  });
});
