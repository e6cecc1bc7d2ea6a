import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { useServer } from '../helpers/server.js';

describe('policy.* over the wire', () => {
  const server = useServer();

  test('register returns {registered, scope}; list is in registration order', async () => {
    const c = await server.authed();
    assert.deepEqual(await c.result('policy.register', { name: 'no_shell', rule: 'deny_tool', target: 'shell' }), {
      registered: 'no_shell',
      scope: 'global',
    });
    await c.result('policy.register', { name: 'no_rm', rule: 'deny_tool_param', target: 'shell', key: 'command', pattern: 'rm -rf' });
    await c.result('policy.register', { name: 'armed', rule: 'require_state', key: 'armed', value: true });
    assert.deepEqual(await c.result('policy.list', {}), {
      policies: [
        { name: 'no_shell', description: "deny tool 'shell'" },
        { name: 'no_rm', description: "deny tool 'shell' when param 'command' contains 'rm -rf'" },
        { name: 'armed', description: "require state 'armed' == true" },
      ],
      scope: 'global',
    });
    assert.deepEqual((await c.result('policy.list')).scope, 'global', 'params may be omitted');
  });

  test('behaviour 30: the same name twice, then unregister → removed:2; an unknown name → removed:0', async () => {
    const c = await server.authed();
    await c.result('policy.register', { name: 'dup', rule: 'deny_tool', target: 'a' });
    await c.result('policy.register', { name: 'dup', rule: 'deny_tool', target: 'b' });
    assert.equal((await c.result('policy.list', {})).policies.length, 2);
    assert.deepEqual(await c.result('policy.unregister', { name: 'dup' }), { unregistered: 'dup', removed: 2, scope: 'global' });
    assert.deepEqual(await c.result('policy.unregister', { name: 'never' }), { unregistered: 'never', removed: 0, scope: 'global' });
    const missing = await c.error('policy.unregister', {});
    assert.equal(missing.code, -32602);
  });

  test('policies are per connection', async () => {
    const a = await server.authed();
    const b = await server.authed();
    await a.result('policy.register', { name: 'mine', rule: 'deny_tool', target: 'x' });
    assert.deepEqual((await b.result('policy.list', {})).policies, []);
  });

  test('session-scoped registration, listing and unregistering', async () => {
    const c = await server.authed();
    const { session_id } = await c.result('session.policy.open', {});
    await c.result('policy.register', { name: 'g', rule: 'deny_tool', target: 'a' });
    assert.deepEqual(await c.result('policy.register', { name: 's', rule: 'deny_tool', target: 'b', session_id }), {
      registered: 's',
      scope: { session_id },
    });
    const scoped = await c.result('policy.list', { session_id });
    assert.deepEqual(scoped.policies.map((p: { name: string }) => p.name), ['g', 's']);
    assert.deepEqual(scoped.scope, { session_id });
    assert.deepEqual((await c.result('policy.list', {})).policies.map((p: { name: string }) => p.name), ['g']);
    assert.deepEqual(await c.result('policy.unregister', { name: 's', session_id }), { unregistered: 's', removed: 1, scope: { session_id } });
  });

  test('verify reports policy denials as error issues (global and per policy session)', async () => {
    const c = await server.authed();
    await c.result('tools.register', [{ name: 'shell' }, { name: 'fetch' }]);
    await c.result('policy.register', { name: 'no_shell', rule: 'deny_tool', target: 'shell' });
    const { session_id } = await c.result('session.policy.open', {});
    await c.result('policy.register', { name: 'no_fetch', rule: 'deny_tool', target: 'fetch', session_id });
    const proposal = {
      actions: [
        { id: 's', type: 'tool_call', tool: 'shell', parameters: { command: 'ls' } },
        { id: 'f', type: 'tool_call', tool: 'fetch' },
      ],
    };
    const plain = await c.result('verify', { proposal });
    assert.equal(plain.valid, false);
    const denials = (r: { issues: { action_id: string; message: string; severity: string }[] }): string[] =>
      r.issues.filter((i) => /denied by policy/.test(i.message)).map((i) => `${i.action_id}:${i.severity}`);
    assert.deepEqual(denials(plain), ['s:error']);
    const scoped = await c.result('verify', { proposal, session_id });
    assert.deepEqual(denials(scoped).sort(), ['f:error', 's:error']);
    assert.equal(c.pendingFrames, 0, 'verify calls no tool');
    const unknown = await c.error('verify', { proposal, session_id: 'sess-nope' });
    assert.match(unknown.message, /unknown policy session/);
  });

  test('bad registrations: unknown rule and missing fields are -32602; deny_tool_callback is unsupported', async () => {
    const c = await server.authed();
    const unknown = await c.error('policy.register', { name: 'x', rule: 'allow_everything' });
    assert.equal(unknown.code, -32602);
    assert.match(unknown.message, /unknown rule "allow_everything"; expected one of deny_tool, deny_tool_param, require_state/);
    const noTarget = await c.error('policy.register', { name: 'x', rule: 'deny_tool' });
    assert.equal(noTarget.code, -32602);
    assert.match(noTarget.message, /needs a non-empty 'target'/);
    const noName = await c.error('policy.register', { rule: 'deny_tool', target: 't' });
    assert.equal(noName.code, -32602);
    const callback = await c.error('policy.register', { name: 'x', rule: 'deny_tool_callback', target: 't' });
    assert.equal(callback.code, -32603);
    assert.match(callback.message, /not supported on the daemon/);
    const unknownSession = await c.error('policy.register', { name: 'x', rule: 'deny_tool', target: 't', session_id: 'sess-nope' });
    assert.equal(unknownSession.code, -32603);
    assert.match(unknownSession.message, /unknown policy session 'sess-nope'/);
    assert.deepEqual((await c.result('policy.list', {})).policies, [], 'nothing was registered');
  });
});
