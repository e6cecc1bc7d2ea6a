import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { parseProposal, type Action } from '../../src/engine/ir.js';
import type { ToolDefinition } from '../../src/engine/tool-registry.js';
import { verify, type VerifyIssue, type VerifyResult } from '../../src/engine/verify/index.js';

const proposal = (actions: unknown[]) => parseProposal({ id: 'p', actions });

function tool(name: string, parameters: unknown = {}): ToolDefinition {
  return { name, description: '', parameters, idempotent: false };
}

function registry(...defs: ToolDefinition[]): (name: string) => ToolDefinition | undefined {
  const byName = new Map(defs.map((d) => [d.name, d]));
  return (name) => byName.get(name);
}

function only(result: VerifyResult, pattern: RegExp): VerifyIssue[] {
  return result.issues.filter((i) => pattern.test(i.message));
}

function check(result: VerifyResult, name: string) {
  const c = result.evidence.checks.find((x) => x.name === name);
  assert.ok(c, `evidence has check ${name}`);
  return c;
}

describe('verify: result shape', () => {
  test('a clean proposal is valid with levels, state and evidence', () => {
    const r = verify(
      proposal([
        { id: 'w', type: 'state_write', parameters: { key: 'x', value: 1 } },
        { id: 'r', type: 'state_read', parameters: { key: 'x' }, state_dependencies: ['x'] },
        { id: 't', type: 'tool_call', tool: 'echo', parameters: { s: 'hi' }, expected_effects: { done: true } },
      ]),
      { tools: registry(tool('echo')) },
    );
    assert.equal(r.valid, true);
    assert.deepEqual(r.issues, []);
    assert.deepEqual(r.execution_levels, [['w', 't'], ['r']]);
    assert.deepEqual(r.simulated_state, { x: 1, done: true });
    assert.deepEqual(r.conflicts, []);
    assert.ok(r.evidence.checks.length >= 9);
    for (const c of r.evidence.checks) {
      assert.equal(typeof c.verifies, 'string');
      assert.equal(typeof c.cannot_verify, 'string');
      assert.equal(c.findings, 0);
    }
    assert.ok(r.evidence.confidence > 0 && r.evidence.confidence <= 1);
    assert.ok(Array.isArray(r.evidence.assumptions) && Array.isArray(r.evidence.untested_regions));
    assert.ok(r.evidence.residual_risks.length > 0);
  });

  test('an empty proposal is valid', () => {
    const r = verify(proposal([]));
    assert.equal(r.valid, true);
    assert.deepEqual(r.execution_levels, []);
    assert.deepEqual(r.simulated_state, {});
  });

  test('the initial state carries into simulated_state and is not mutated', () => {
    const initial = { a: 1 };
    const r = verify(proposal([{ id: 'w', type: 'state_write', parameters: { key: 'b', value: 2 } }]), { initialState: initial });
    assert.deepEqual(r.simulated_state, { a: 1, b: 2 });
    assert.deepEqual(initial, { a: 1 });
  });

  test('the result is plain JSON', () => {
    const r = verify(proposal([{ id: 'w', type: 'state_write', parameters: { key: '__proto__', value: 1 } }]));
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
    assert.equal(Object.getPrototypeOf(r.simulated_state), Object.prototype);
    assert.deepEqual(Object.keys(r.simulated_state), ['__proto__']);
  });
});

describe('verify: tools and parameters', () => {
  test('an unregistered tool is an error with tier decision_procedure', () => {
    const r = verify(proposal([{ id: 'a1', type: 'tool_call', tool: 'ghost' }]), { tools: registry(tool('echo')) });
    assert.equal(r.valid, false);
    assert.deepEqual(r.issues, [
      { action_id: 'a1', severity: 'error', message: "tool 'ghost' is not registered", tier: 'decision_procedure' },
    ]);
    assert.equal(check(r, 'unknown_tools').findings, 1);
  });

  test('without a tools lookup the tool and schema checks are skipped and say so', () => {
    const r = verify(proposal([{ id: 'a1', type: 'tool_call', tool: 'ghost' }]));
    assert.equal(r.valid, true);
    assert.equal(check(r, 'unknown_tools').ran, false);
    assert.equal(check(r, 'parameter_schemas').ran, false);
    assert.ok(r.evidence.untested_regions.some((u) => u.startsWith('unknown_tools')));
  });

  test('an unregistered compensation tool warns', () => {
    const r = verify(
      proposal([{ id: 'a1', type: 'tool_call', tool: 'echo', compensation: { type: 'tool', tool: 'undo' } }]),
      { tools: registry(tool('echo')) },
    );
    assert.equal(r.valid, true);
    assert.equal(r.issues[0]?.severity, 'warning');
    assert.match(r.issues[0]?.message ?? '', /compensation tool 'undo'/);
  });

  test('wrong-typed and missing parameters against the registered schema are errors', () => {
    const schema = { type: 'object', required: ['city', 'days'], properties: { city: { type: 'string' }, days: { type: 'integer' } } };
    const r = verify(proposal([{ id: 'a1', type: 'tool_call', tool: 'weather', parameters: { city: 42 } }]), {
      tools: registry(tool('weather', schema)),
    });
    assert.equal(r.valid, false);
    assert.deepEqual(
      r.issues.map((i) => [i.action_id, i.severity, i.tier, i.message]),
      [
        ['a1', 'error', 'decision_procedure', "parameters.days is required (schema of tool 'weather')"],
        ['a1', 'error', 'decision_procedure', "parameters.city must be string (got integer) (schema of tool 'weather')"],
      ],
    );
  });

  test('nested and union schema rules apply; output references are skipped', () => {
    const schema = {
      type: 'object',
      properties: {
        opts: { type: 'object', properties: { limit: { type: ['integer', 'null'] }, tags: { type: 'array', items: { type: 'string' } } } },
        body: { type: 'string' },
      },
    };
    const tools = registry(tool('send', schema), tool('fetch'));
    const ok = verify(
      proposal([
        { id: 'a1', type: 'tool_call', tool: 'fetch' },
        { id: 'a2', type: 'tool_call', tool: 'send', dependencies: ['a1'], parameters: { opts: { limit: null, tags: ['x'] }, body: '$a1.output' } },
      ]),
      { tools },
    );
    assert.equal(ok.valid, true, JSON.stringify(ok.issues));
    const bad = verify(
      proposal([{ id: 'a2', type: 'tool_call', tool: 'send', parameters: { opts: { limit: 1.5, tags: ['x', 3] } } }]),
      { tools },
    );
    assert.deepEqual(
      bad.issues.map((i) => i.message.split(' (schema')[0]),
      ['parameters.opts.limit must be integer or null (got number)', 'parameters.opts.tags[1] must be string (got integer)'],
    );
  });
});

describe('verify: output references', () => {
  test('a reference to a missing action, to itself, or to an action not ordered before warns', () => {
    const r = verify(
      proposal([
        { id: 'a1', type: 'tool_call', tool: 't', parameters: { v: '$nope.output' } },
        { id: 'a2', type: 'tool_call', tool: 't', parameters: { v: '$a2.output' } },
        { id: 'a3', type: 'tool_call', tool: 't', parameters: { v: ['$a1.output.x'] } },
        { id: 'a4', type: 'tool_call', tool: 't', dependencies: ['a1'], parameters: { v: '$a1.output' } },
      ]),
    );
    assert.equal(r.valid, true);
    const refs = only(r, /output/);
    assert.deepEqual(
      refs.map((i) => [i.action_id, i.severity]),
      [
        ['a1', 'warning'],
        ['a2', 'warning'],
        ['a3', 'warning'],
      ],
    );
    assert.match(refs[2]?.message ?? '', /not ordered after 'a1'/);
  });
});

describe('verify: preconditions and state reads', () => {
  test('a precondition nothing provides is an error (impossible plan)', () => {
    const r = verify(proposal([{ id: 'a1', type: 'tool_call', tool: 't', preconditions: [{ key: 'ready', operator: 'eq', value: true }] }]));
    assert.equal(r.valid, false);
    assert.equal(r.issues.length, 1);
    assert.equal(r.issues[0]?.tier, 'decision_procedure');
    assert.match(r.issues[0]?.message ?? '', /precondition 'ready eq true' can never hold/);
  });

  test('the initial state or an earlier declared effect satisfies a precondition', () => {
    const pre = [{ key: 'n', operator: 'gte', value: 2 }];
    const byInitial = verify(proposal([{ id: 'a1', type: 'tool_call', tool: 't', preconditions: pre }]), { initialState: { n: 5 } });
    assert.equal(byInitial.valid, true);
    const byEffect = verify(
      proposal([
        { id: 'a0', type: 'tool_call', tool: 't', expected_effects: { n: 3 } },
        { id: 'a1', type: 'tool_call', tool: 't', dependencies: ['a0'], preconditions: pre },
      ]),
    );
    assert.equal(byEffect.valid, true);
  });

  test('a writer that is not ordered before the check does not count', () => {
    const r = verify(
      proposal([
        { id: 'a1', type: 'tool_call', tool: 't', preconditions: [{ key: 'k', operator: 'exists' }] },
        { id: 'a2', type: 'state_write', parameters: { key: 'k', value: 1 } },
      ]),
    );
    assert.equal(r.valid, false);
    assert.match(r.issues[0]?.message ?? '', /does not hold before this action runs \(writers of 'k': 'a2'\)/);
  });

  test("a blocked action's effects still apply, so its dependents are not reported too", () => {
    const r = verify(
      proposal([
        { id: 'a1', type: 'tool_call', tool: 't', preconditions: [{ key: 'gate', operator: 'exists' }], expected_effects: { k: 1 } },
        { id: 'a2', type: 'tool_call', tool: 't', dependencies: ['a1'], preconditions: [{ key: 'k', operator: 'eq', value: 1 }] },
      ]),
    );
    assert.deepEqual(r.issues.map((i) => i.action_id), ['a1']);
    assert.deepEqual(r.simulated_state, { k: 1 });
  });

  test('a precondition on a value only known at run time is assumed to hold', () => {
    const r = verify(
      proposal([
        { id: 'a1', type: 'tool_call', tool: 't' },
        { id: 'a2', type: 'state_write', dependencies: ['a1'], parameters: { key: 'k', value: '$a1.output' } },
        { id: 'a3', type: 'tool_call', tool: 't', dependencies: ['a2'], preconditions: [{ key: 'k', operator: 'gt', value: 3 }, { key: 'k', operator: 'exists' }] },
      ]),
    );
    assert.equal(r.valid, true, JSON.stringify(r.issues));
    assert.ok(r.evidence.assumptions.some((a) => /1 precondition/.test(a)));
    assert.deepEqual(r.simulated_state, {}, 'a value known only at run time is not in simulated_state');
  });

  test('reading a key nobody writes and the initial state lacks is an error; present initially is fine', () => {
    const actions = [
      { id: 'r1', type: 'state_read', parameters: { key: 'cfg' } },
      { id: 'r2', type: 'tool_call', tool: 't', state_dependencies: ['token'] },
      { id: 'r3', type: 'tool_call', tool: 't', read_set: ['other'] },
    ];
    const r = verify(proposal(actions));
    assert.equal(r.valid, false);
    assert.deepEqual(
      only(r, /reads state key/).map((i) => [i.action_id, i.severity]),
      [
        ['r1', 'error'],
        ['r2', 'error'],
        ['r3', 'error'],
      ],
    );
    assert.equal(verify(proposal(actions), { initialState: { cfg: 1, token: 'x', other: null } }).valid, true);
  });

  test('reading a key written only by an unordered action warns', () => {
    const r = verify(
      proposal([
        { id: 'r', type: 'state_read', parameters: { key: 'k' } },
        { id: 'w', type: 'state_write', parameters: { key: 'k', value: 1 } },
      ]),
    );
    assert.equal(r.valid, true);
    assert.deepEqual(r.issues.map((i) => [i.action_id, i.severity]), [['r', 'warning']]);
    assert.match(r.issues[0]?.message ?? '', /before any action ordered ahead of it writes it/);
  });

  test('actions in one level do not see each other; write_set keys count as present', () => {
    const r = verify(
      proposal([
        { id: 'a', type: 'tool_call', tool: 'lock', write_set: ['lock'] },
        { id: 'b', type: 'tool_call', tool: 't', preconditions: [{ key: 'lock', operator: 'exists' }] },
        { id: 'c', type: 'tool_call', tool: 'u', dependencies: ['a'], preconditions: [{ key: 'lock', operator: 'exists' }] },
      ]),
    );
    assert.deepEqual(r.issues.map((i) => i.action_id), ['b']);
  });
});

describe('verify: policies', () => {
  test('policy denials are error issues; the checker sees the state the walk reached', () => {
    const seen: Record<string, unknown>[] = [];
    const r = verify(
      proposal([
        { id: 'w', type: 'state_write', parameters: { key: 'mode', value: 'prod' } },
        { id: 's', type: 'tool_call', tool: 'shell', dependencies: ['w'] },
      ]),
      {
        policyViolations: (a: Action, state) => {
          seen.push({ ...state });
          return a.tool === 'shell' && state.mode === 'prod' ? [{ policy_name: 'no-shell', reason: 'shell is denied in prod' }] : [];
        },
      },
    );
    assert.equal(r.valid, false);
    assert.deepEqual(r.issues, [
      { action_id: 's', severity: 'error', message: "denied by policy 'no-shell': shell is denied in prod", tier: 'decision_procedure' },
    ]);
    assert.deepEqual(seen, [{}, { mode: 'prod' }]);
    assert.equal(check(r, 'policies').ran, true);
  });

  test('without a policy checker the policies check is recorded as not run', () => {
    assert.equal(check(verify(proposal([])), 'policies').ran, false);
  });
});

describe('verify: write conflicts', () => {
  test('two unordered writers of one key give a triple and a warning, not an error', () => {
    const r = verify(
      proposal([
        { id: 'a', type: 'state_write', parameters: { key: 'k', value: 1 } },
        { id: 'b', type: 'tool_call', tool: 't', expected_effects: { k: 2 } },
        { id: 'c', type: 'tool_call', tool: 't', dependencies: ['a', 'b'], expected_effects: { k: 3 } },
      ]),
    );
    assert.equal(r.valid, true);
    assert.deepEqual(r.conflicts, [['a', 'b', 'k']]);
    assert.deepEqual(r.issues, [
      {
        action_id: 'b',
        severity: 'warning',
        message: "writes 'k', as 'a' does, and neither is ordered before the other",
        tier: 'decision_procedure',
      },
    ]);
  });

  test('ordering through a chain (explicit or state-derived) removes the conflict', () => {
    const r = verify(
      proposal([
        { id: 'a', type: 'tool_call', tool: 't', expected_effects: { k: 1, m: 1 } },
        { id: 'mid', type: 'tool_call', tool: 't', state_dependencies: ['m'] },
        { id: 'b', type: 'tool_call', tool: 't', dependencies: ['mid'], expected_effects: { k: 2 } },
        { id: 'c', type: 'tool_call', tool: 't', write_set: ['k'] },
      ]),
    );
    assert.deepEqual(r.conflicts, [
      ['a', 'c', 'k'],
      ['b', 'c', 'k'],
    ]);
  });

  test('every unordered pair is listed, per key', () => {
    const r = verify(
      proposal([
        { id: 'a', type: 'tool_call', tool: 't', expected_effects: { k: 1, j: 1 } },
        { id: 'b', type: 'tool_call', tool: 't', expected_effects: { k: 2 } },
        { id: 'c', type: 'tool_call', tool: 't', expected_effects: { k: 3, j: 2 } },
      ]),
    );
    assert.deepEqual(r.conflicts, [
      ['a', 'b', 'k'],
      ['a', 'c', 'k'],
      ['b', 'c', 'k'],
      ['a', 'c', 'j'],
    ]);
  });
});

describe('verify: repeated calls (the heuristic rule)', () => {
  test('three identical calls give one heuristic warning; the only heuristic issue', () => {
    const call = (id: string, parameters: unknown) => ({ id, type: 'tool_call', tool: 'search', parameters });
    const r = verify(
      proposal([
        call('a1', { q: 'x', n: { a: 1, b: 2 } }),
        call('a2', { n: { b: 2, a: 1 }, q: 'x' }),
        call('a3', { q: 'x', n: { a: 1, b: 2 } }),
        call('a4', { q: 'y' }),
        call('a5', { q: 'y' }),
      ]),
    );
    assert.equal(r.valid, true);
    assert.deepEqual(r.issues, [
      {
        action_id: 'a3',
        severity: 'warning',
        message: "tool 'search' is called 3 times with identical parameters ('a1', 'a2', 'a3'); possible loop",
        tier: 'heuristic',
      },
    ]);
    assert.equal(check(r, 'repeated_calls').tier, 'heuristic');
    for (const c of r.evidence.checks.filter((x) => x.name !== 'repeated_calls')) assert.equal(c.tier, 'decision_procedure');
  });

  test('two identical calls, or the same parameters on different tools, do not trip it', () => {
    const r = verify(
      proposal([
        { id: 'a1', type: 'tool_call', tool: 'x', parameters: { q: 1 } },
        { id: 'a2', type: 'tool_call', tool: 'x', parameters: { q: 1 } },
        { id: 'a3', type: 'tool_call', tool: 'y', parameters: { q: 1 } },
      ]),
    );
    assert.deepEqual(r.issues, []);
  });
});

describe('verify: cycles and limits', () => {
  test('actions on a cycle and those waiting on it are errors and in no level', () => {
    const r = verify(
      proposal([
        { id: 'a', type: 'tool_call', tool: 'a', dependencies: ['b'] },
        { id: 'b', type: 'tool_call', tool: 'b', dependencies: ['a'] },
        { id: 'c', type: 'tool_call', tool: 'c', dependencies: ['b'] },
        { id: 'd', type: 'tool_call', tool: 'd' },
      ]),
    );
    assert.equal(r.valid, false);
    assert.deepEqual(r.execution_levels, [['d']]);
    assert.deepEqual(
      r.issues.map((i) => [i.action_id, i.severity]),
      [
        ['a', 'error'],
        ['b', 'error'],
        ['c', 'error'],
      ],
    );
    assert.match(r.issues[0]?.message ?? '', /dependency cycle with 'b'/);
    assert.match(r.issues[2]?.message ?? '', /waits on actions caught in a dependency cycle/);
  });

  test('a cycle through state dependencies is found too', () => {
    const r = verify(
      proposal([
        { id: 'a', type: 'tool_call', tool: 't', state_dependencies: ['y'], expected_effects: { x: 1 } },
        { id: 'b', type: 'tool_call', tool: 't', state_dependencies: ['x'], expected_effects: { y: 1 } },
      ]),
    );
    assert.deepEqual(only(r, /cycle/).map((i) => i.action_id), ['a', 'b']);
    assert.deepEqual(r.execution_levels, []);
  });

  test('a self-dependency only warns', () => {
    const r = verify(proposal([{ id: 'a', type: 'tool_call', tool: 't', dependencies: ['a'] }]));
    assert.equal(r.valid, true);
    assert.match(r.issues[0]?.message ?? '', /itself/);
  });

  test('more than maxActions actions is an error naming the first action past the limit', () => {
    const actions = Array.from({ length: 4 }, (_, i) => ({ id: `a${i}`, type: 'tool_call', tool: 't', parameters: { i } }));
    const r = verify(proposal(actions), { maxActions: 3 });
    assert.equal(r.valid, false);
    assert.deepEqual(r.issues, [
      { action_id: 'a3', severity: 'error', message: 'the proposal has 4 actions; at most 3 are allowed', tier: 'decision_procedure' },
    ]);
    assert.equal(verify(proposal(actions), { maxActions: 4 }).valid, true);
    const many = Array.from({ length: 1001 }, (_, i) => ({ id: `a${i}`, type: 'tool_call', tool: 't', parameters: { i } }));
    assert.equal(verify(proposal(many)).issues[0]?.action_id, 'a1000', 'the default limit is 1000');
  });
});

describe('verify: one pass over a messy plan', () => {
  test('every kind of problem is reported together and valid is false', () => {
    const r = verify(
      proposal([
        { id: 'u', type: 'tool_call', tool: 'ghost' },
        { id: 's', type: 'tool_call', tool: 'typed', parameters: { n: 'x' } },
        { id: 'p', type: 'tool_call', tool: 'typed', parameters: { n: 1 }, preconditions: [{ key: 'nope', operator: 'exists' }] },
        { id: 'w1', type: 'state_write', parameters: { key: 'k', value: 1 } },
        { id: 'w2', type: 'state_write', parameters: { key: 'k', value: 2 } },
        { id: 'l1', type: 'tool_call', tool: 'typed', parameters: { n: 9 } },
        { id: 'l2', type: 'tool_call', tool: 'typed', parameters: { n: 9 } },
        { id: 'l3', type: 'tool_call', tool: 'typed', parameters: { n: 9 } },
      ]),
      { tools: registry(tool('typed', { properties: { n: { type: 'integer' } } })) },
    );
    assert.equal(r.valid, false);
    assert.deepEqual(
      r.issues.map((i) => [i.action_id, i.severity, i.tier]),
      [
        ['u', 'error', 'decision_procedure'],
        ['s', 'error', 'decision_procedure'],
        ['p', 'error', 'decision_procedure'],
        ['w2', 'warning', 'decision_procedure'],
        ['l3', 'warning', 'heuristic'],
      ],
    );
    assert.deepEqual(r.conflicts, [['w1', 'w2', 'k']]);
  });
});

describe('verify: large proposals', () => {
  // How fast is a bench figure (bench/verify.ts); here, that they finish with capped output.
  test('a 20,000-action cycle and 3,000 unordered writers of one key are reported and capped', () => {
    const n = 20_000;
    const ring = proposal(Array.from({ length: n }, (_, i) => ({ id: `c${i}`, type: 'state_write', dependencies: [`c${(i + 1) % n}`], parameters: { key: `k${i}`, value: i } })));
    const r = verify(ring, { maxActions: n });
    assert.equal(r.issues.length, n);
    assert.match(r.issues[0]?.message ?? '', /cycle with 'c1', 'c2', 'c3', 'c4', 'c5' and 19994 more/);
    const writers = proposal(Array.from({ length: 3000 }, (_, i) => ({ id: `w${i}`, type: 'state_write', parameters: { key: 'k', value: i } })));
    const w = verify(writers, { maxActions: 3000 });
    assert.equal(w.conflicts.length, 1000, 'conflicts are capped');
    assert.ok(w.evidence.residual_risks.some((x) => /first 1000 conflicts/.test(x)));
  });
});
