import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { useServer } from '../helpers/server.js';

describe('session.init and the policy sub-contexts', () => {
  const server = useServer();

  test('session.init registers tools and policies and returns the runtime session id', async () => {
    const c = await server.authed();
    const res = await c.result('session.init', {
      tools: [{ name: 'search', description: 'find things', parameters: { type: 'object' } }, { name: 'shell' }],
      policies: [
        { name: 'no_shell', rule: 'deny_tool', target: 'shell' },
        { name: 'no_rm', rule: 'deny_tool_param', target: 'search', key: 'q', pattern: 'secret' },
      ],
    });
    assert.equal(typeof res.session_id, 'string');
    assert.ok(res.session_id.length > 0);
    assert.equal(res.tools_registered, 2);
    assert.equal(res.policies_registered, 2);
    const tools = await c.result('tools.list');
    assert.deepEqual(tools.tools.map((t: { name: string }) => t.name).filter((n: string) => n === 'search' || n === 'shell'), ['search', 'shell']);
    assert.deepEqual((await c.result('policy.list', {})).policies.map((p: { name: string }) => p.name), ['no_shell', 'no_rm']);

    // The same id again, and it names the global scope.
    const again = await c.result('session.init', {});
    assert.equal(again.session_id, res.session_id);
    assert.deepEqual(again, { session_id: res.session_id, tools_registered: 0, policies_registered: 0 });
    assert.equal((await c.result('policy.list', { session_id: res.session_id })).scope, 'global');

    const other = await server.authed();
    assert.notEqual((await other.result('session.init', { tools: [] })).session_id, res.session_id);
  });

  test('a bad policy in session.init registers nothing', async () => {
    const c = await server.authed();
    const err = await c.error('session.init', {
      tools: [{ name: 'x' }],
      policies: [{ name: 'ok', rule: 'deny_tool', target: 'a' }, { name: 'bad', rule: 'deny_tool_param', target: 'a' }],
    });
    assert.equal(err.code, -32602);
    assert.match(err.message, /needs a non-empty 'key'/);
    assert.deepEqual((await c.result('policy.list', {})).policies, []);
    assert.equal((await c.result('tools.list')).tools.some((t: { name: string }) => t.name === 'x'), false);
    const badTool = await c.error('session.init', { tools: [{ description: 'no name' }] });
    assert.equal(badTool.code, -32602);
  });

  test('session.policy.open returns fresh ids; close → {closed:true} then false; behaviour 32: unknown → false', async () => {
    const c = await server.authed();
    const a = await c.result('session.policy.open', {});
    const b = await c.result('session.policy.open');
    assert.match(a.session_id, /^sess-[0-9a-f]{12}$/);
    assert.notEqual(a.session_id, b.session_id);
    assert.deepEqual(await c.result('session.policy.close', { session_id: a.session_id }), { closed: true });
    assert.deepEqual(await c.result('session.policy.close', { session_id: a.session_id }), { closed: false });
    assert.deepEqual(await c.result('session.policy.close', { session_id: 'sess-unknown' }), { closed: false });
    assert.equal((await c.error('session.policy.close', {})).code, -32602);
    // A sub-context belongs to its connection.
    const other = await server.authed();
    assert.deepEqual(await other.result('session.policy.close', { session_id: b.session_id }), { closed: false });
  });

  test('behaviour 33: session.bindSubstrate with an unknown connector', async () => {
    const c = await server.authed();
    const err = await c.error('session.bindSubstrate', { connector: 'github' });
    assert.equal(err.code, -32603);
    assert.equal(err.message, "connector 'github' is not connected");
    assert.equal((await c.error('session.bindSubstrate', {})).code, -32602);
  });

  test('session.bindSandbox preflights Docker and says why it cannot bind (reference params)', async () => {
    const c = await server.authed();
    const err = await c.error('session.bindSandbox', { working_dir: '/tmp/work', image: 'python:3.11-slim', network: 'none', memory: '512m', cpus: '1.0', pids_limit: 256, command_timeout_secs: 30 });
    assert.equal(err.code, -32603);
    assert.match(err.message, /^session\.bindSandbox preflight (failed: no Docker engine|failed: the Docker engine|passed)/);
    assert.match(err.message, /does not fall back to unsandboxed execution|nothing was bound/);
    assert.equal((await c.error('session.bindSandbox', { working_dir: 'relative/dir' })).code, -32602);
    assert.equal((await c.error('session.bindSandbox', { working_dir: '/tmp', command_timeout_secs: 0 })).code, -32602);
  });
});
