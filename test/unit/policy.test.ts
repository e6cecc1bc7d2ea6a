import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import {
  PolicyEngine,
  PolicyError,
  PolicySet,
  compilePolicy,
  evaluatePolicy,
  recordLookup,
  stateMatches,
  type Policy,
} from '../../src/engine/policy/index.js';

const noState = recordLookup({});

function deny(policy: Policy, tool: string | undefined, parameters: Record<string, unknown> = {}, state = noState): string | null {
  return evaluatePolicy(policy, { id: 'a1', tool, parameters }, state);
}

describe('policy rules', () => {
  test('deny_tool denies exactly the target tool', () => {
    const p = compilePolicy({ name: 'no_shell', rule: 'deny_tool', target: 'shell' });
    assert.equal(deny(p, 'shell'), "tool 'shell' is denied");
    assert.equal(deny(p, 'shell2'), null);
    assert.equal(deny(p, 'Shell'), null);
    assert.equal(deny(p, undefined), null);
  });

  test('deny_tool_param: tool matches and the string form of params[key] contains the pattern', () => {
    const p = compilePolicy({ name: 'no_rm', rule: 'deny_tool_param', target: 'shell', key: 'command', pattern: 'rm -rf' });
    assert.equal(deny(p, 'shell', { command: 'sudo rm -rf /' }), "param 'command' matches denied pattern 'rm -rf'");
    assert.equal(deny(p, 'shell', { command: 'ls -la' }), null);
    assert.equal(deny(p, 'shell', { other: 'rm -rf' }), null, 'another key does not count');
    assert.equal(deny(p, 'bash', { command: 'rm -rf' }), null, 'another tool does not count');
    // Non-string values are compared through their JSON text.
    assert.notEqual(deny(p, 'shell', { command: ['rm -rf', '/'] }), null);
    const n = compilePolicy({ name: 'no_42', rule: 'deny_tool_param', target: 't', key: 'n', pattern: '42' });
    assert.notEqual(deny(n, 't', { n: 1420 }), null);
    assert.equal(deny(n, 't', { n: 7 }), null);
  });

  test('require_state denies any action unless state[key] equals the value', () => {
    const p = compilePolicy({ name: 'armed', rule: 'require_state', key: 'armed', value: true });
    assert.match(deny(p, 'anything') ?? '', /state 'armed' is not set, required true/);
    assert.equal(deny(p, undefined, {}, recordLookup({ armed: true })), null, 'non-tool actions too');
    assert.match(deny(p, 'x', {}, recordLookup({ armed: false })) ?? '', /state 'armed' is false, required true/);
  });

  test('require_state compares a JSON-text value sensibly', () => {
    assert.equal(stateMatches(true, 'true'), true);
    assert.equal(stateMatches('true', 'true'), true);
    assert.equal(stateMatches(3, '3'), true);
    assert.equal(stateMatches({ a: [1] }, '{"a":[1]}'), true);
    assert.equal(stateMatches('ok', 'ok'), true);
    assert.equal(stateMatches('3', 3), true, 'a stored JSON string against a typed value');
    assert.equal(stateMatches(false, 'true'), false);
    assert.equal(stateMatches('not json', true), false);
    assert.equal(stateMatches(null, null), true);
    assert.equal(stateMatches({ b: 2, a: 1 }, { a: 1, b: 2 }), true);
  });

  test('registration checks: missing fields, unknown rules, deny_tool_callback', () => {
    assert.throws(() => compilePolicy({ name: 'x', rule: 'deny_tool' }), (e: unknown) => e instanceof PolicyError && e.kind === 'invalid' && e.field === 'target');
    assert.throws(() => compilePolicy({ name: 'x', rule: 'deny_tool_param', target: 't', key: 'k' }), /needs a non-empty 'pattern'/);
    assert.throws(() => compilePolicy({ name: 'x', rule: 'require_state', key: 'k' }), /needs a 'value'/);
    assert.throws(() => compilePolicy({ name: '', rule: 'deny_tool', target: 't' }), /non-empty name/);
    assert.throws(() => compilePolicy({ name: 'x', rule: 'allow_all' }), (e: unknown) => e instanceof PolicyError && e.kind === 'invalid' && /unknown rule/.test(e.message));
    assert.throws(
      () => compilePolicy({ name: 'x', rule: 'deny_tool_callback', target: 't' }),
      (e: unknown) => e instanceof PolicyError && e.reason === 'unsupported' && e.kind === 'unavailable' && /not supported on the daemon/.test(e.message),
    );
  });

  test('a PolicySet reports every violation, in order', () => {
    const set = new PolicySet([
      compilePolicy({ name: 'p1', rule: 'deny_tool', target: 'shell' }),
      compilePolicy({ name: 'p2', rule: 'deny_tool', target: 'other' }),
      compilePolicy({ name: 'p3', rule: 'deny_tool_param', target: 'shell', key: 'c', pattern: 'x' }),
    ]);
    const found = set.check({ id: 'a', tool: 'shell', parameters: { c: 'xx' } }, noState);
    assert.deepEqual(found.map((d) => d.policy_name), ['p1', 'p3']);
    assert.deepEqual(PolicySet.empty.check({ id: 'a', tool: 'shell', parameters: {} }, noState), []);
  });
});

describe('PolicyEngine scopes', () => {
  test('register appends without dedup; unregister removes every policy of that name', () => {
    const e = new PolicyEngine('conn-1');
    assert.equal(e.register({ name: 'p', rule: 'deny_tool', target: 'a' }), 'global');
    e.register({ name: 'p', rule: 'deny_tool', target: 'b' });
    assert.equal(e.size, 2);
    assert.deepEqual(e.unregister('p'), { removed: 2, scope: 'global' });
    assert.deepEqual(e.unregister('p'), { removed: 0, scope: 'global' });
    assert.equal(e.size, 0);
  });

  test('list is in registration order with descriptions; a sub-context stacks on the globals', () => {
    const e = new PolicyEngine('conn-1');
    e.register({ name: 'g1', rule: 'deny_tool', target: 'a' });
    const s = e.open();
    assert.match(s, /^sess-[0-9a-f]{12}$/);
    assert.deepEqual(e.register({ name: 's1', rule: 'deny_tool_param', target: 't', key: 'k', pattern: 'p' }, s), { session_id: s });
    e.register({ name: 'g2', rule: 'require_state', key: 'mode', value: 'safe' });
    assert.deepEqual(e.list(), {
      policies: [
        { name: 'g1', description: "deny tool 'a'" },
        { name: 'g2', description: "require state 'mode' == safe" },
      ],
      scope: 'global',
    });
    assert.deepEqual(
      e.list(s).policies.map((p) => p.name),
      ['g1', 's1', 'g2'],
    );
    assert.equal(e.list(s).policies[1]?.description, "deny tool 't' when param 'k' contains 'p'");
    assert.deepEqual(e.list(s).scope, { session_id: s });
    // The connection's own id names the global scope.
    assert.equal(e.list('conn-1').scope, 'global');
  });

  test('sub-context policies apply only to proposals that name it', () => {
    const e = new PolicyEngine('conn-1');
    const s = e.open();
    const other = e.open();
    e.register({ name: 'no_a', rule: 'deny_tool', target: 'a' }, s);
    const subject = { id: 'x', tool: 'a', parameters: {} };
    assert.equal(e.policySet().check(subject, noState).length, 0);
    assert.equal(e.policySet(other).check(subject, noState).length, 0);
    assert.equal(e.policySet(s).check(subject, noState).length, 1);
  });

  test('policy sets are frozen when taken', () => {
    const e = new PolicyEngine('conn-1');
    const before = e.policySet();
    e.register({ name: 'no_a', rule: 'deny_tool', target: 'a' });
    assert.equal(before.size, 0);
    assert.equal(e.policySet().size, 1);
  });

  test('unregister: with a session id it counts that sub-context and the globals; without, every scope', () => {
    const e = new PolicyEngine('conn-1');
    const s1 = e.open();
    const s2 = e.open();
    for (const scope of [undefined, s1, s2]) e.register({ name: 'p', rule: 'deny_tool', target: 'a' }, scope);
    assert.deepEqual(e.unregister('p', s1), { removed: 2, scope: { session_id: s1 } });
    assert.equal(e.policySet(s2).size, 1);
    e.register({ name: 'p', rule: 'deny_tool', target: 'a' }, s1);
    assert.deepEqual(e.unregister('p'), { removed: 2, scope: 'global' });
    assert.equal(e.size, 0);
  });

  test('close drops a sub-context; unknown ids are refused or false', () => {
    const e = new PolicyEngine('conn-1');
    const s = e.open();
    e.register({ name: 'p', rule: 'deny_tool', target: 'a' }, s);
    assert.equal(e.close(s), true);
    assert.equal(e.close(s), false);
    assert.equal(e.close('nope'), false);
    assert.equal(e.size, 0);
    assert.throws(() => e.register({ name: 'p', rule: 'deny_tool', target: 'a' }, s), (err: unknown) => err instanceof PolicyError && err.reason === 'unknown_session' && err.kind === 'not_found');
    assert.throws(() => e.policySet('nope'), /unknown policy session 'nope'/);
    assert.throws(() => e.list('nope'), /unknown policy session/);
  });

  test('limits on policies and sub-contexts', () => {
    const e = new PolicyEngine('c', { maxPolicies: 2, maxSessions: 1 });
    e.register({ name: 'a', rule: 'deny_tool', target: 'a' });
    e.register({ name: 'b', rule: 'deny_tool', target: 'b' });
    assert.throws(() => e.register({ name: 'c', rule: 'deny_tool', target: 'c' }), (err: unknown) => err instanceof PolicyError && err.kind === 'limit');
    assert.throws(() => e.validate([{ name: 'c', rule: 'deny_tool', target: 'c' }]), /too many policies/);
    e.unregister('a');
    e.validate([{ name: 'c', rule: 'deny_tool', target: 'c' }]);
    e.open();
    assert.throws(() => e.open(), /too many policy sessions/);
  });

  test('validate refuses a bad definition without registering anything', () => {
    const e = new PolicyEngine('c');
    assert.throws(() => e.validate([{ name: 'a', rule: 'deny_tool', target: 'a' }, { name: 'b', rule: 'deny_tool' }]), /target/);
    assert.equal(e.size, 0);
  });
});
