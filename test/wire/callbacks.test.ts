import assert from 'node:assert/strict';
import test, { after, before, describe } from 'node:test';
import { delay, waitFor } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

describe('server→client tool callbacks (WsToolExecutor)', () => {
  let server: TestServer;
  before(async () => {
    // The default wait is long, so that no test answering a callback races it.
    server = await startServer({ toolCallbackGraceMs: 50 });
  });
  after(async () => {
    await server.close();
  });

  test('the client receives tools.execute with id "cb-0" and the documented params', async () => {
    const c = await server.authed();
    const outcome = c.call('test.callback', {
      tool: 'weather',
      parameters: { city: 'Oslo' },
      action_id: 'act-1',
      timeout_ms: 30_000,
      session_id: 'sess-9',
    });
    const req = await c.next();
    assert.equal(req.jsonrpc, '2.0');
    assert.equal(req.method, 'tools.execute');
    assert.equal(req.id, 'cb-0');
    assert.deepEqual(req.params, {
      action_id: 'act-1',
      tool: 'weather',
      parameters: { city: 'Oslo' },
      params: { city: 'Oslo' },
      attempt: 1,
      request_id: 'cb-0',
      timeout_ms: 30_000,
      session_id: 'sess-9',
    });
    c.send({ jsonrpc: '2.0', id: req.id, result: { temp_c: -3 } });
    const reply = await outcome;
    assert.equal(reply.result.ok, true);
    assert.deepEqual(reply.result.output, { temp_c: -3 });
    assert.equal(typeof reply.result.durationMs, 'number');
  });

  test('without timeout_ms/session_id those fields are absent; action_id defaults to ""', async () => {
    const c = await server.authed();
    const outcome = c.call('test.callback', { tool: 'noop' });
    const req = await c.next();
    assert.deepEqual(req.params, {
      action_id: '',
      tool: 'noop',
      parameters: {},
      params: {},
      attempt: 1,
      request_id: req.id,
    });
    c.send({ jsonrpc: '2.0', id: req.id, result: null });
    assert.deepEqual((await outcome).result.output, null);
  });

  test('callback ids increase per connection starting at cb-0; a new connection starts again', async () => {
    const c = await server.authed();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const outcome = c.call('test.callback', { tool: 'count', parameters: { i }, attempt: i + 1 });
      const req = await c.next();
      ids.push(req.id);
      assert.equal(req.params.request_id, req.id);
      assert.equal(req.params.attempt, i + 1);
      c.send({ jsonrpc: '2.0', id: req.id, result: i });
      assert.equal((await outcome).result.output, i);
    }
    assert.deepEqual(ids, ['cb-0', 'cb-1', 'cb-2']);

    const other = await server.authed();
    const outcome = other.call('test.callback', { tool: 'count' });
    const req = await other.next();
    assert.equal(req.id, 'cb-0');
    other.send({ jsonrpc: '2.0', id: req.id, result: 'x' });
    assert.equal((await outcome).result.ok, true);
  });

  test('concurrent callbacks on one connection are matched by id', async () => {
    const c = await server.authed();
    const first = c.call('test.callback', { tool: 'one' });
    const second = c.call('test.callback', { tool: 'two' });
    const reqA = await c.next();
    const reqB = await c.next();
    // Answer in reverse order.
    c.send({ jsonrpc: '2.0', id: reqB.id, result: `out-${reqB.params.tool}` });
    c.send({ jsonrpc: '2.0', id: reqA.id, result: `out-${reqA.params.tool}` });
    assert.equal((await first).result.output, 'out-one');
    assert.equal((await second).result.output, 'out-two');
  });

  test('a client error reply is a tool failure {ok:false, reason:"tool_error"}, not a transport error', async () => {
    const c = await server.authed();
    const outcome = c.call('test.callback', { tool: 'broken' });
    const req = await c.next();
    c.send({ jsonrpc: '2.0', id: req.id, error: { code: -32000, message: 'tool exploded' } });
    const reply = await outcome;
    assert.ok('result' in reply, 'the embedder method itself succeeds');
    assert.equal(reply.result.ok, false);
    assert.equal(reply.result.reason, 'tool_error');
    assert.equal(reply.result.error, 'tool exploded');
    assert.equal(reply.result.code, -32000);
    assert.equal(c.isOpen, true);
    assert.equal(await c.result('state.exists', { key: 'k' }), false);
  });

  test('a response without "jsonrpc" is still accepted as the callback answer', async () => {
    const c = await server.authed();
    const outcome = c.call('test.callback', { tool: 'lenient' });
    const req = await c.next();
    c.send({ id: req.id, result: 'fine' });
    assert.equal((await outcome).result.output, 'fine');
  });

  test('no answer within timeout_ms: the client gets tools.cancel at timeout_ms (no grace), the outcome is a timeout', async () => {
    const c = await server.authed();
    const started = Date.now();
    const outcome = c.call('test.callback', { tool: 'sleepy', action_id: 'act-slow', timeout_ms: 50 });
    const req = await c.next();
    assert.equal(req.method, 'tools.execute');
    const cancel = await c.next();
    const elapsed = Date.now() - started;
    assert.equal(cancel.jsonrpc, '2.0');
    assert.equal(cancel.method, 'tools.cancel');
    assert.ok(!('id' in cancel), 'tools.cancel is a notification');
    assert.equal(cancel.params.request_id, req.id);
    assert.equal(cancel.params.action_id, 'act-slow');
    assert.match(cancel.params.reason, /timed out/);
    assert.ok(elapsed >= 45, `cancelled after ${elapsed} ms, before timeout_ms`);

    const reply = await outcome;
    assert.equal(reply.result.ok, false);
    assert.equal(reply.result.reason, 'timeout');
    assert.match(reply.result.error, /^tool 'sleepy' callback timed out \(0\.05s\)/);

    // A late answer is ignored: nothing comes back for it, and the connection is fine.
    c.send({ jsonrpc: '2.0', id: req.id, result: 'too late' });
    c.send({ jsonrpc: '2.0', id: 'probe', method: 'state.exists', params: { key: 'k' } });
    const next = await c.next();
    assert.deepEqual(next, { jsonrpc: '2.0', id: 'probe', result: false });
    assert.equal(c.isOpen, true);
  });

  test('without timeout_ms the executor waits toolTimeoutMs', async () => {
    const short = await startServer({ toolTimeoutMs: 150, toolCallbackGraceMs: 50 });
    try {
      const c = await short.authed();
      const started = Date.now();
      const outcome = c.call('test.callback', { tool: 'default-budget' });
      await c.next(); // tools.execute
      const cancel = await c.next();
      assert.equal(cancel.method, 'tools.cancel');
      const reply = await outcome;
      assert.equal(reply.result.reason, 'timeout');
      assert.ok(Date.now() - started >= 140);
      assert.match(reply.result.error, /timed out \(0\.15s\)/);
    } finally {
      await short.close();
    }
  });

  test('a reply with an unknown id is ignored (no error frame back; the connection is fine)', async () => {
    const c = await server.authed();
    c.send({ jsonrpc: '2.0', id: 'cb-999', result: 'who asked?' });
    c.send({ jsonrpc: '2.0', id: 'cb-998', error: { code: 1, message: 'nobody' } });
    c.send({ jsonrpc: '2.0', id: 'probe', method: 'state.exists', params: { key: 'k' } });
    const next = await c.next();
    assert.deepEqual(next, { jsonrpc: '2.0', id: 'probe', result: false });

    // And a real callback still works afterwards.
    const outcome = c.call('test.callback', { tool: 't' });
    const req = await c.next();
    assert.equal(req.id, 'cb-0');
    c.send({ jsonrpc: '2.0', id: req.id, result: 1 });
    assert.equal((await outcome).result.ok, true);
  });

  test('closing the connection while a callback is pending fails it promptly ("disconnected")', async () => {
    const c = await server.authed();
    const sessionsBefore = server.state.sessions.size;
    const index = server.hooks.outcomes.length;
    void c.call('test.callback', { tool: 'orphan', timeout_ms: 10_000 }).catch(() => undefined);
    const req = await c.next();
    assert.equal(req.method, 'tools.execute');
    const pending = server.hooks.outcomes[index];
    assert.ok(pending, 'the executor was started');

    await c.close();
    const outcome = await pending;
    assert.equal(outcome.ok, false);
    // "disconnected", not "timeout": it failed on the close, not at the end of its 10 s budget.
    assert.ok(!outcome.ok && outcome.reason === 'disconnected', JSON.stringify(outcome));
    await waitFor(() => server.state.sessions.size === sessionsBefore - 1, undefined, 'session removal');
  });

  test('a callback started on an already-closed channel fails as disconnected', async () => {
    const c = await server.authed();
    const session = [...server.state.sessions.values()].at(-1)!;
    await c.close();
    await waitFor(() => !session.channel.isOpen);
    const outcome = await session.toolExecutor.execute({ tool: 'late', parameters: {} });
    assert.equal(outcome.ok, false);
    assert.ok(!outcome.ok && outcome.reason === 'disconnected');
  });

  test('an AbortSignal cancels a pending callback and notifies the client', async () => {
    const c = await server.authed();
    const session = [...server.state.sessions.values()].at(-1)!;
    const controller = new AbortController();
    const outcomePromise = session.toolExecutor.execute({ tool: 'cancel-me', parameters: {}, actionId: 'a9' }, controller.signal);
    const req = await c.next();
    assert.equal(req.method, 'tools.execute');
    controller.abort(new Error('user pressed stop'));
    const outcome = await outcomePromise;
    assert.ok(!outcome.ok && outcome.reason === 'cancelled');
    assert.match(outcome.ok ? '' : outcome.error, /cancelled: user pressed stop/);
    const cancel = await c.next();
    assert.deepEqual(cancel, {
      jsonrpc: '2.0',
      method: 'tools.cancel',
      params: { request_id: req.id, action_id: 'a9', reason: "tool 'cancel-me' callback cancelled: user pressed stop" },
    });
    await delay(1);
  });
});
