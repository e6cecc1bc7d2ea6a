import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import type { RawClient, Frame } from '../helpers/raw-client.js';
import { delay } from '../helpers/raw-client.js';
import { startServer, type TestServer, useServer } from '../helpers/server.js';
import { proposalDeadlineMs } from '../../src/methods/proposal.js';
import { ServerStateConfig } from '../../src/index.js';

/** Open a client with these tools registered; returns it and its runtime session id. */
async function clientWithTools(server: TestServer, tools: string[]): Promise<{ c: RawClient; sessionId: string }> {
  const c = await server.authed();
  const init = await c.result('session.init', { tools: tools.map((name) => ({ name })) });
  return { c, sessionId: init.session_id };
}

function answer(c: RawClient, req: Frame, result: unknown): void {
  c.send({ jsonrpc: '2.0', id: req.id, result });
}

describe('proposal.submit over the wire', () => {
  const server = useServer({ toolTimeoutMs: 2000, toolCallbackGraceMs: 50 });

  test('behaviours 18/19: one tools.execute per tool_call with the documented fields; the answer is the output', async () => {
    const { c, sessionId } = await clientWithTools(server, ['search']);
    const reply = c.call('proposal.submit', {
      proposal: { id: 'p-18', actions: [{ id: 'a0', type: 'tool_call', tool: 'search', parameters: { q: 'car' }, timeout_ms: 30_000 }] },
    });
    const req = await c.next();
    assert.equal(req.method, 'tools.execute');
    assert.equal(typeof req.id, 'string');
    assert.equal(req.params.request_id, req.id);
    assert.equal(req.params.attempt, 1);
    assert.equal(req.params.action_id, 'a0');
    assert.equal(req.params.tool, 'search');
    assert.deepEqual(req.params.parameters, { q: 'car' });
    assert.deepEqual(req.params.params, { q: 'car' });
    assert.equal(req.params.session_id, sessionId);
    assert.equal(req.params.timeout_ms, 30_000);
    answer(c, req, { hits: [1, 2] });
    const res = (await reply).result;
    assert.equal(res.proposal_id, 'p-18');
    assert.equal(res.results[0].status, 'succeeded');
    assert.deepEqual(res.results[0].output, { hits: [1, 2] });
    assert.equal(res.results[0].error, null);
    assert.equal(res.cost.tool_calls, 1);
    assert.equal(res.cost.actions_executed, 1);
    assert.equal(c.pendingFrames, 0);
  });

  test('behaviour 19: a client error reply fails the action (abort applies); the submit itself succeeds', async () => {
    const { c } = await clientWithTools(server, ['broken', 'next']);
    const reply = c.call('proposal.submit', {
      proposal: {
        actions: [
          { id: 'w', type: 'state_write', parameters: { key: 'k', value: 1 } },
          { id: 'a1', type: 'tool_call', tool: 'broken', dependencies: ['w'] },
          { id: 'a2', type: 'tool_call', tool: 'next', dependencies: ['a1'] },
        ],
      },
    });
    const req = await c.next();
    c.send({ jsonrpc: '2.0', id: req.id, error: { code: -32000, message: 'tool unavailable' } });
    const envelope = await reply;
    assert.ok('result' in envelope, JSON.stringify(envelope));
    const res = envelope.result;
    assert.deepEqual(res.results.map((r: Frame) => r.status), ['succeeded', 'failed', 'skipped']);
    assert.equal(res.results[1].error, 'tool unavailable');
    assert.equal(res.results[0].rolled_back, true);
    assert.equal(await c.result('state.exists', { key: 'k' }), false, 'the write was rolled back');
    assert.equal(c.pendingFrames, 0, 'no callback for the skipped action');
  });

  test('behaviour 20: a retry arrives as attempt 2 with a new request_id', async () => {
    const { c } = await clientWithTools(server, ['flaky']);
    const reply = c.call('proposal.submit', {
      proposal: { actions: [{ id: 'r1', type: 'tool_call', tool: 'flaky', failure_behavior: 'retry', max_retries: 2 }] },
    });
    const first = await c.next();
    assert.equal(first.params.attempt, 1);
    answer(c, first, { error: 'try again' });
    const second = await c.next();
    assert.equal(second.method, 'tools.execute');
    assert.equal(second.params.attempt, 2);
    assert.equal(second.params.action_id, 'r1');
    assert.notEqual(second.id, first.id);
    assert.equal(second.params.request_id, second.id);
    answer(c, second, 'done');
    const res = (await reply).result;
    assert.equal(res.results[0].status, 'succeeded');
    assert.equal(res.results[0].output, 'done');
    assert.equal(res.cost.retries, 1);
    assert.equal(res.cost.tool_calls, 2);
  });

  test('behaviour 21: a callback outliving timeout_ms gets tools.cancel and the action fails', async () => {
    const { c } = await clientWithTools(server, ['sleepy']);
    const reply = c.call('proposal.submit', {
      proposal: { actions: [{ id: 'slow', type: 'tool_call', tool: 'sleepy', timeout_ms: 30 }] },
    });
    const req = await c.next();
    const cancel = await c.next(3000);
    assert.equal(cancel.method, 'tools.cancel');
    assert.ok(!('id' in cancel));
    assert.equal(cancel.params.request_id, req.id);
    assert.equal(cancel.params.action_id, 'slow');
    assert.match(cancel.params.reason, /timed out/);
    const res = (await reply).result;
    assert.equal(res.results[0].status, 'failed');
    assert.match(res.results[0].error, /callback timed out/);
    answer(c, req, 'too late'); // ignored
  });

  test('behaviour 25: a streaming action fails over the WebSocket executor; no callback is sent', async () => {
    const { c } = await clientWithTools(server, ['tail_log']);
    const res = await c.result('proposal.submit', {
      proposal: { actions: [{ id: 's', type: 'tool_call', tool: 'tail_log', invocation_mode: 'streaming' }] },
    });
    assert.equal(res.results[0].status, 'failed');
    assert.match(res.results[0].error, /does not support streaming\/long-running invocation/);
    assert.equal(c.pendingFrames, 0);
  });

  test('behaviour 29: deny_tool shell rejects the shell action and sends no callback', async () => {
    const { c } = await clientWithTools(server, ['shell']);
    await c.result('policy.register', { name: 'no_shell', rule: 'deny_tool', target: 'shell' });
    const res = await c.result('proposal.submit', {
      proposal: { actions: [{ id: 'sh', type: 'tool_call', tool: 'shell', parameters: { command: 'ls' } }] },
    });
    assert.equal(res.results[0].status, 'rejected');
    assert.deepEqual(res.violations, [{ policy_name: 'no_shell', action_id: 'sh', reason: "tool 'shell' is denied" }]);
    assert.equal(res.cost.tool_calls, 0);
    assert.equal(res.cost.actions_rejected, 1);
    await delay(30);
    assert.equal(c.pendingFrames, 0, 'no tools.execute was sent');
  });

  test('behaviour 31: a sub-context policy applies only when proposal.submit names its session_id', async () => {
    const { c } = await clientWithTools(server, ['fetch_page']);
    const { session_id } = await c.result('session.policy.open', {});
    await c.result('policy.register', { name: 'no_fetch', rule: 'deny_tool', target: 'fetch_page', session_id });
    const proposal = { actions: [{ id: 'f', type: 'tool_call', tool: 'fetch_page' }] };

    const scoped = await c.result('proposal.submit', { proposal, session_id });
    assert.equal(scoped.results[0].status, 'rejected');
    assert.equal(c.pendingFrames, 0);

    const unscoped = c.call('proposal.submit', { proposal });
    const req = await c.next();
    assert.equal(req.method, 'tools.execute');
    answer(c, req, 'page');
    assert.equal((await unscoped).result.results[0].status, 'succeeded');

    // The sub-context's id is what the callback carries when it is named.
    await c.result('session.policy.close', { session_id });
    const closed = await c.call('proposal.submit', { proposal, session_id });
    assert.equal(closed.error.code, -32603);
    assert.match(closed.error.message, /unknown policy session/);
  });

  test('a named policy session is stamped on the callback as session_id', async () => {
    const { c } = await clientWithTools(server, ['t']);
    const { session_id } = await c.result('session.policy.open', {});
    const reply = c.call('proposal.submit', { proposal: { actions: [{ id: 'x', type: 'tool_call', tool: 't' }] }, session_id });
    const req = await c.next();
    assert.equal(req.params.session_id, session_id);
    answer(c, req, 1);
    await reply;
  });

  test('a malformed proposal is -32602 naming the action and field', async () => {
    const c = await server.authed();
    const err = await c.error('proposal.submit', { proposal: { actions: [{ id: 'a1', type: 'tool_call' }] } });
    assert.equal(err.code, -32602);
    assert.match(err.message, /^invalid params: actions\[0\]\.tool \(action 'a1'\) is required/);
    assert.deepEqual(err.data, { kind: 'invalid', field: 'actions[0].tool', action_id: 'a1' });
    const missing = await c.error('proposal.submit', {});
    assert.equal(missing.code, -32602);
  });

  test('unregistered tools are rejected by the validator without a callback', async () => {
    const c = await server.authed();
    const res = await c.result('proposal.submit', { proposal: { actions: [{ id: 'u', type: 'tool_call', tool: 'never_registered' }] } });
    assert.equal(res.results[0].status, 'rejected');
    assert.match(res.results[0].error, /unknown tool 'never_registered'/);
    assert.equal(c.pendingFrames, 0);
  });

  test('parameters that break a registered schema are rejected', async () => {
    const c = await server.authed();
    await c.result('tools.register', [{ name: 'typed', parameters: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } }]);
    const res = await c.result('proposal.submit', { proposal: { actions: [{ id: 'x', type: 'tool_call', tool: 'typed', parameters: { n: 'one' } }] } });
    assert.equal(res.results[0].status, 'rejected');
    assert.match(res.results[0].error, /schema of tool 'typed'/);
    assert.equal(c.pendingFrames, 0);
  });

  test('scope.tenantId selects the tenant state view', async () => {
    const c = await server.authed();
    const res = await c.result('proposal.submit', {
      proposal: {
        actions: [
          { id: 'w', type: 'state_write', parameters: { key: 'k', value: 'for t1' } },
          { id: 'r', type: 'state_read', parameters: { key: 'k' }, dependencies: ['w'] },
        ],
      },
      scope: { tenantId: 't1', callerId: 'me' },
    });
    assert.equal(res.results[1].output, 'for t1');
    assert.equal(await c.result('state.get', { key: 'k', tenant_id: 't1' }), 'for t1');
    assert.equal(await c.result('state.get', { key: 'k' }), null);
    const bad = await c.error('proposal.submit', { proposal: { actions: [] }, scope: { tenantId: 'a:b' } });
    assert.equal(bad.code, -32602);
  });

  test('two independent tool calls are in flight together; outputs flow through $id.output', async () => {
    const { c } = await clientWithTools(server, ['left', 'right', 'join']);
    const reply = c.call('proposal.submit', {
      proposal: {
        actions: [
          { id: 'l', type: 'tool_call', tool: 'left' },
          { id: 'r', type: 'tool_call', tool: 'right' },
          { id: 'j', type: 'tool_call', tool: 'join', parameters: { a: '$l.output', b: '$r.output.v' }, dependencies: ['l', 'r'] },
        ],
      },
    });
    const one = await c.next();
    const two = await c.next();
    assert.deepEqual([one.params.tool, two.params.tool].sort(), ['left', 'right']);
    answer(c, two, { v: `${two.params.tool}!` });
    answer(c, one, { v: `${one.params.tool}!` });
    const joined = await c.next();
    assert.deepEqual(joined.params.parameters, { a: { v: 'left!' }, b: 'right!' });
    answer(c, joined, 'joined');
    const res = (await reply).result;
    assert.deepEqual(res.results.map((r: Frame) => r.status), ['succeeded', 'succeeded', 'succeeded']);
  });
});

describe('proposal.submit deadline', () => {
  test('behaviour 17: a proposal whose budget exceeds the default deadline is not cut at the default', async () => {
    const server = await startServer({ handlerTimeoutMs: 200, toolCallbackGraceMs: 50 });
    try {
      const { c } = await clientWithTools(server, ['long']);
      const reply = c.call('proposal.submit', {
        proposal: { actions: [{ id: 'a', type: 'tool_call', tool: 'long', timeout_ms: 30_000 }] },
      });
      const req = await c.next();
      await delay(400); // well past the 200 ms default
      answer(c, req, 'finished');
      const envelope = await reply;
      assert.ok('result' in envelope, JSON.stringify(envelope));
      assert.equal(envelope.result.results[0].output, 'finished');

      // An ordinary method is still cut at the default.
      const slow = await c.call('test.sleep', { ms: 1000 });
      assert.equal(slow.error.code, -32004);
    } finally {
      await server.close();
    }
  });

  test('the deadline is the summed budgets times attempts plus 15 s, never below the default', () => {
    const config = new ServerStateConfig({ handlerTimeoutMs: 1000, toolTimeoutMs: 300_000, toolCallbackGraceMs: 5000 });
    assert.equal(proposalDeadlineMs({ actions: [] }, config), 15_000);
    assert.equal(proposalDeadlineMs('garbage', config), 15_000);
    assert.equal(proposalDeadlineMs({ actions: [{ timeout_ms: 10_000 }] }, config), 15_000 + 15_000);
    assert.equal(
      proposalDeadlineMs({ actions: [{ timeout_ms: 10_000, failure_behavior: 'retry', max_retries: 2 }, {}] }, config),
      3 * 15_000 + 300_000 + 15_000,
    );
    assert.equal(proposalDeadlineMs({ actions: [{ failure_behavior: 'retry' }] }, config), 4 * 300_000 + 15_000, 'max_retries defaults to 3');
    const big = new ServerStateConfig({ handlerTimeoutMs: 10_000_000 });
    assert.equal(proposalDeadlineMs({ actions: [{ timeout_ms: 1 }] }, big), 10_000_000);
  });
});
