import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { buildDag } from '../../src/engine/dag.js';
import { parseProposal } from '../../src/engine/ir.js';
import { equivalent, MAX_TEST_STATES, optimize, simulate, simulateTrace, VerifyInputError } from '../../src/engine/verify/index.js';

const proposal = (actions: unknown[]) => parseProposal({ id: 'p', actions });

describe('simulate', () => {
  test('applies state writes and declared effects level by level', () => {
    const p = proposal([
      { id: 'a', type: 'state_write', parameters: { key: 'x', value: 1 } },
      { id: 'b', type: 'tool_call', tool: 't', state_dependencies: ['x'], expected_effects: { x: 2, y: 'done' } },
    ]);
    assert.deepEqual(simulate(p), { x: 2, y: 'done' });
    assert.deepEqual(simulate(p, { z: true }), { z: true, x: 2, y: 'done' });
  });

  test("like the executor, expected_effects are applied after a state_write's own value", () => {
    const p = proposal([{ id: 'a', type: 'state_write', parameters: { key: 'x', value: 1 }, expected_effects: { x: 9 } }]);
    assert.deepEqual(simulate(p), { x: 9 });
  });

  test('a failed precondition blocks the action and its dependents drop out', () => {
    const p = proposal([
      { id: 'a', type: 'tool_call', tool: 't', preconditions: [{ key: 'go', operator: 'eq', value: true }], expected_effects: { a: 1 } },
      { id: 'b', type: 'tool_call', tool: 't', dependencies: ['a'], expected_effects: { b: 1 } },
      { id: 'c', type: 'tool_call', tool: 't', expected_effects: { c: 1 } },
    ]);
    assert.deepEqual(simulate(p), { c: 1 });
    assert.deepEqual(simulate(p, { go: true }), { go: true, a: 1, b: 1, c: 1 });
    const trace = simulateTrace(p);
    assert.deepEqual(trace.blocked, ['a']);
    assert.deepEqual(trace.dropped, ['b']);
    assert.deepEqual(trace.applied, ['c']);
  });

  test('a missing state dependency blocks; the initial state can supply it', () => {
    const p = proposal([{ id: 'a', type: 'tool_call', tool: 't', state_dependencies: ['cfg'], expected_effects: { ok: 1 } }]);
    assert.deepEqual(simulate(p), {});
    assert.deepEqual(simulate(p, { cfg: 0 }), { cfg: 0, ok: 1 });
  });

  test('state-ordered dependents of a blocked writer drop out too', () => {
    const p = proposal([
      { id: 'w', type: 'tool_call', tool: 't', preconditions: [{ key: 'never', operator: 'exists' }], expected_effects: { k: 1 } },
      { id: 'r', type: 'tool_call', tool: 't', state_dependencies: ['k'], expected_effects: { r: 1 } },
    ]);
    assert.deepEqual(simulate(p, { k: 0 }), { k: 0 });
  });

  test('cyclic actions never run; the input state is not mutated', () => {
    const initial = { v: 1 };
    const p = proposal([
      { id: 'a', type: 'tool_call', tool: 't', dependencies: ['b'], expected_effects: { v: 2 } },
      { id: 'b', type: 'tool_call', tool: 't', dependencies: ['a'], expected_effects: { v: 3 } },
    ]);
    assert.deepEqual(simulate(p, initial), { v: 1 });
    assert.deepEqual(simulateTrace(p).dropped, ['a', 'b']);
    assert.deepEqual(initial, { v: 1 });
  });
});

describe('equivalent', () => {
  const setX = (v: number) => proposal([{ id: 'a', type: 'state_write', parameters: { key: 'x', value: v } }]);

  test('defaults to two probe states when omitted or empty', () => {
    assert.deepEqual(equivalent(setX(1), setX(1)), { equivalent: true, states_tested: 2, used_default_states: true, tier: 'sampled' });
    assert.deepEqual(equivalent(setX(1), setX(2), []), {
      equivalent: false,
      states_tested: 2,
      used_default_states: true,
      tier: 'sampled',
    });
  });

  test('different plans with the same outcome are equivalent on the given states', () => {
    const viaEffect = proposal([{ id: 't', type: 'tool_call', tool: 'x', expected_effects: { x: 1 } }]);
    const r = equivalent(setX(1), viaEffect, [{ x: 0 }, { y: 5 }, {}]);
    assert.deepEqual(r, { equivalent: true, states_tested: 3, used_default_states: false, tier: 'sampled' });
  });

  test('probe states can tell plans apart that defaults cannot', () => {
    const guarded = proposal([
      { id: 'a', type: 'state_write', parameters: { key: 'x', value: 1 }, preconditions: [{ key: 'lock', operator: 'not_exists' }] },
    ]);
    assert.equal(equivalent(setX(1), guarded).equivalent, true);
    assert.equal(equivalent(setX(1), guarded, [{ lock: true }]).equivalent, false);
  });

  test(`more than ${MAX_TEST_STATES} states is a typed input error`, () => {
    const states = Array.from({ length: MAX_TEST_STATES + 1 }, () => ({}));
    assert.throws(() => equivalent(setX(1), setX(1), states), (err: unknown) => err instanceof VerifyInputError && err.field === 'test_states');
    assert.equal(equivalent(setX(1), setX(1), states.slice(1)).states_tested, MAX_TEST_STATES);
  });
});

describe('optimize', () => {
  test('drops state dependencies on keys no action writes, reporting them per action', () => {
    const p = proposal([
      { id: 'a', type: 'tool_call', tool: 't', expected_effects: { made: 1 } },
      { id: 'b', type: 'tool_call', tool: 't', state_dependencies: ['made', 'external', 'cfg'] },
      { id: 'c', type: 'tool_call', tool: 't', state_dependencies: ['cfg'] },
      { id: 'd', type: 'state_write', parameters: { key: 'w', value: 1 } },
      { id: 'e', type: 'tool_call', tool: 't', state_dependencies: ['w'] },
    ]);
    const before = JSON.stringify(p);
    const { proposal: out, pruned } = optimize(p);
    assert.deepEqual(pruned, { b: ['external', 'cfg'], c: ['cfg'] });
    assert.deepEqual(
      out.actions.map((a) => [a.id, a.state_dependencies]),
      [
        ['a', []],
        ['b', ['made']],
        ['c', []],
        ['d', []],
        ['e', ['w']],
      ],
    );
    assert.equal(JSON.stringify(p), before, 'the input proposal is untouched');
    assert.equal(out.id, p.id);
    assert.ok(buildDag(out.actions).levels.length <= buildDag(p.actions).levels.length);
  });

  test('never reorders or removes actions; nothing to prune gives an empty map', () => {
    const p = proposal([
      { id: 'z', type: 'state_write', parameters: { key: 'k', value: 1 } },
      { id: 'y', type: 'tool_call', tool: 't', state_dependencies: ['k'] },
    ]);
    const r = optimize(p);
    assert.deepEqual(r.pruned, {});
    assert.deepEqual(r.proposal.actions.map((a) => a.id), ['z', 'y']);
    assert.deepEqual(r.proposal.actions, p.actions);
  });
});
