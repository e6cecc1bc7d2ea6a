import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { actionFingerprint } from '../../src/engine/permission/fingerprint.js';
import type { Frame, RawClient } from '../helpers/raw-client.js';
import { HOST_TOKEN, startServer, useServer, type TestServer } from '../helpers/server.js';
import { scaled } from '../helpers/timing.js';

function answer(c: RawClient, req: Frame, result: unknown): void {
  c.send({ jsonrpc: '2.0', id: req.id, result });
}

async function clientWith(server: TestServer, tools: string[]): Promise<RawClient> {
  const c = await server.authed();
  await c.result('tools.register', tools.map((name) => ({ name })));
  return c;
}

const statuses = (res: Frame): Record<string, string> =>
  Object.fromEntries(res.results.map((r: Frame) => [r.action_id, r.status]));

describe('executor semantics over the wire', () => {
  const server = useServer();

  test('timeout_ms is exact: tools.cancel and the failure come at timeout_ms, not timeout_ms + the callback grace', async () => {
    // A ten-minute grace: were it added to the action's budget, nothing would come back in time.
    const graceful = await startServer({ toolCallbackGraceMs: 600_000 });
    try {
      const c = await clientWith(graceful, ['sleepy']);
      const reply = c.call('proposal.submit', {
        proposal: { actions: [{ id: 'slow', type: 'tool_call', tool: 'sleepy', timeout_ms: 100 }] },
      });
      const req = await c.next();
      assert.equal(req.method, 'tools.execute');
      assert.equal(req.params.timeout_ms, 100);
      const cancel = await c.next(scaled(10_000));
      assert.equal(cancel.method, 'tools.cancel');
      assert.equal(cancel.params.request_id, req.id);
      assert.match(cancel.params.reason, /timed out \(0\.1s\)/);
      const res = (await reply).result;
      assert.equal(res.results[0].status, 'failed');
      assert.match(res.results[0].error, /callback timed out \(0\.1s\)/);
    } finally {
      await graceful.close();
    }
  });

  test('a dependent of a skipped action is rejected (actions_rejected); its own failure_behavior applies', async () => {
    const c = await clientWith(server, ['bad', 'after']);
    const reply = c.call('proposal.submit', {
      proposal: {
        actions: [
          { id: 'a', type: 'tool_call', tool: 'bad', failure_behavior: 'skip' },
          { id: 'b', type: 'tool_call', tool: 'after', dependencies: ['a'], failure_behavior: 'skip' },
          { id: 'c', type: 'state_write', parameters: { key: 'dep-k', value: 1 }, dependencies: ['b'] },
        ],
      },
    });
    const req = await c.next();
    answer(c, req, { error: 'nope' });
    const res = (await reply).result;
    assert.deepEqual(statuses(res), { a: 'skipped', b: 'rejected', c: 'rejected' });
    assert.match(res.results[1].error, /dependency 'a' did not succeed \(skipped\)/);
    assert.match(res.results[2].error, /dependency 'b' did not succeed \(rejected\)/);
    assert.equal(res.cost.actions_rejected, 2);
    assert.equal(res.cost.actions_skipped, 1);
    assert.equal(res.cost.tool_calls, 1);
    assert.equal(c.pendingFrames, 0, 'no callback for the rejected dependent');
  });

  test('the permission tier is decided on the substituted parameters: an action that turns dangerous at run time is rejected unless approved', async () => {
    const c = await clientWith(server, ['plan', 'shell']);
    const command = 'rm -rf /tmp/car-exec-runtime';
    const proposal = {
      actions: [
        { id: 'a1', type: 'tool_call', tool: 'plan' },
        { id: 'a2', type: 'tool_call', tool: 'shell', parameters: { command: '$a1.output' }, dependencies: ['a1'] },
      ],
    };
    const fp = actionFingerprint({ type: 'tool_call', tool: 'shell', parameters: { command } });

    const reply = c.call('proposal.submit', { proposal });
    answer(c, await c.next(), command);
    const res = (await reply).result;
    assert.deepEqual(statuses(res), { a1: 'succeeded', a2: 'rejected' });
    assert.match(res.results[1].error, new RegExp(`fingerprint ${fp}: requires full_access, session is granted sandbox_edit`));
    assert.equal(res.cost.actions_rejected, 1);
    assert.equal(c.pendingFrames, 0, 'the shell call was never sent');

    const host = await server.connect();
    await host.result('session.auth', { host_token: HOST_TOKEN });
    await host.result('permission.approve', { fingerprint: fp, required_tier: 'full_access' });
    const again = c.call('proposal.submit', { proposal });
    answer(c, await c.next(), command);
    const shell = await c.next();
    assert.equal(shell.params.tool, 'shell');
    assert.deepEqual(shell.params.parameters, { command });
    answer(c, shell, { code: 0 });
    assert.deepEqual(statuses((await again).result), { a1: 'succeeded', a2: 'succeeded' });
  });

  test('policies are checked before every attempt: a retry after a sibling broke require_state is rejected', async () => {
    const c = await clientWith(server, ['flaky']);
    await c.result('state.set', { key: 'mode', value: 'live' });
    await c.result('policy.register', { name: 'live-only', rule: 'require_state', key: 'mode', value: 'live' });
    try {
      const reply = c.call('proposal.submit', {
        proposal: {
          actions: [
            { id: 'r', type: 'tool_call', tool: 'flaky', failure_behavior: 'retry', max_retries: 3 },
            { id: 'freeze', type: 'state_write', parameters: { key: 'mode', value: 'frozen' }, failure_behavior: 'skip' },
          ],
        },
      });
      const first = await c.next();
      assert.equal(first.params.attempt, 1);
      answer(c, first, { error: 'try again' });
      const res = (await reply).result;
      assert.deepEqual(statuses(res), { r: 'rejected', freeze: 'succeeded' });
      assert.match(res.results[0].error, /denied by policy 'live-only': state 'mode' is "?frozen"?, required "?live"?/);
      assert.deepEqual(res.violations, [{ policy_name: 'live-only', action_id: 'r', reason: res.violations[0].reason }]);
      assert.equal(res.cost.tool_calls, 1, 'the second attempt was never dispatched');
      assert.equal(c.pendingFrames, 0);
      assert.equal(await c.result('state.get', { key: 'mode' }), 'live', 'the abort rolled the write back');
    } finally {
      await c.result('policy.unregister', { name: 'live-only' });
    }
  });

  test('eager scheduling: a fast chain runs to the end while an unrelated slow action is still out', async () => {
    const c = await clientWith(server, ['slow', 'fast']);
    const reply = c.call('proposal.submit', {
      proposal: {
        actions: [
          { id: 's', type: 'tool_call', tool: 'slow' },
          { id: 'f1', type: 'tool_call', tool: 'fast' },
          { id: 'f2', type: 'tool_call', tool: 'fast', dependencies: ['f1'] },
          { id: 'f3', type: 'tool_call', tool: 'fast', dependencies: ['f2'] },
        ],
      },
    });
    const first = [await c.next(), await c.next()];
    const slow = first.find((f) => f.params.action_id === 's');
    const f1 = first.find((f) => f.params.action_id === 'f1');
    assert.ok(slow && f1);
    answer(c, f1, 1);
    const f2 = await c.next();
    assert.equal(f2.params.action_id, 'f2', 'f2 starts before the slow action answered');
    answer(c, f2, 2);
    const f3 = await c.next();
    assert.equal(f3.params.action_id, 'f3');
    answer(c, f3, 3);
    answer(c, slow, 'done');
    const res = (await reply).result;
    assert.deepEqual(statuses(res), { s: 'succeeded', f1: 'succeeded', f2: 'succeeded', f3: 'succeeded' });
  });

  test('an abort cancels in-flight calls with tools.cancel, starts nothing more, and rolls state back', async () => {
    const c = await clientWith(server, ['slow', 'bad', 'later']);
    const reply = c.call('proposal.submit', {
      proposal: {
        actions: [
          { id: 'w', type: 'state_write', parameters: { key: 'abort-k', value: 1 } },
          { id: 's', type: 'tool_call', tool: 'slow' },
          { id: 'b', type: 'tool_call', tool: 'bad', dependencies: ['w'] },
          { id: 'l', type: 'tool_call', tool: 'later', dependencies: ['b'] },
        ],
      },
    });
    const calls = [await c.next(), await c.next()];
    const slow = calls.find((f) => f.params.action_id === 's');
    const bad = calls.find((f) => f.params.action_id === 'b');
    assert.ok(slow && bad);
    answer(c, bad, { error: 'broken' });
    const cancel = await c.next(scaled(10_000));
    assert.equal(cancel.method, 'tools.cancel');
    assert.equal(cancel.params.request_id, slow.id);
    assert.equal(cancel.params.action_id, 's');
    assert.match(cancel.params.reason, /proposal aborted \(action 'b' failed\)/);
    const res = (await reply).result;
    assert.deepEqual(statuses(res), { w: 'succeeded', s: 'failed', b: 'failed', l: 'skipped' });
    assert.equal(res.results[0].rolled_back, true);
    assert.equal(await c.result('state.exists', { key: 'abort-k' }), false);
    answer(c, slow, 'too late');
    assert.equal(c.pendingFrames, 0, 'nothing was dispatched after the abort');
  });
});
