import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { EventKind } from '../../src/engine/event-kinds.js';
import type { Frame, RawClient } from '../helpers/raw-client.js';
import { HOST_TOKEN, startServer, useServer, type TestServer } from '../helpers/server.js';

function answer(c: RawClient, req: Frame, result: unknown): void {
  c.send({ jsonrpc: '2.0', id: req.id, result });
}

const call = (id: string, tool: string, parameters: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Frame => ({
  id,
  type: 'tool_call',
  tool,
  parameters,
  ...extra,
});

async function withServer(overrides: Parameters<typeof startServer>[0], fn: (server: TestServer) => Promise<void>): Promise<void> {
  const server = await startServer(overrides);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

/**
 * Submit, answer every tools.execute at once with `answerOf(frame)` (an Error becomes an error
 * reply carrying its `data`), and return the result and the calls seen.
 */
async function submit(c: RawClient, proposal: unknown, answerOf: (req: Frame) => unknown = () => 'ok'): Promise<{ res: Frame; calls: Frame[] }> {
  const calls: Frame[] = [];
  const onMessage = (data: Buffer): void => {
    const f = JSON.parse(data.toString('utf8')) as Frame;
    if (f.method !== 'tools.execute') return;
    calls.push(f);
    const out = answerOf(f);
    if (out instanceof Error) c.send({ jsonrpc: '2.0', id: f.id, error: { code: -32000, message: out.message, data: (out as Frame).data } });
    else answer(c, f, out);
  };
  c.ws.on('message', onMessage);
  let envelope: Frame;
  try {
    envelope = await c.call('proposal.submit', { proposal });
  } finally {
    c.ws.off('message', onMessage);
  }
  // The callbacks were also queued for next(); they are answered already.
  while (c.pendingFrames > 0) await c.next();
  if (!('result' in envelope)) throw new Error(JSON.stringify(envelope));
  return { res: envelope.result, calls };
}

const statuses = (res: Frame): string[] => res.results.map((r: Frame) => r.status);

describe('tool result cache and rate limits', () => {
  const server = useServer();

  test('an idempotent tool with cache_ttl_secs answers identical parameters from the cache; the hit is an event', async () => {
    const c = await server.authed();
    await c.result('tools.register', [{ name: 'lookup', idempotent: true, cache_ttl_secs: 3600 }, { name: 'plain' }]);
    let n = 0;
    const first = await submit(c, { actions: [call('a', 'lookup', { q: 1, opts: { x: 1, y: 2 } })] }, () => ({ n: ++n }));
    assert.equal(first.calls.length, 1);
    assert.deepEqual(first.res.results[0].output, { n: 1 });
    // Same parameters in another key order: cached. Other parameters: called.
    const second = await submit(
      c,
      { id: 'p-cache', actions: [call('b', 'lookup', { opts: { y: 2, x: 1 }, q: 1 }), call('d', 'lookup', { q: 2 })] },
      () => ({ n: ++n }),
    );
    assert.deepEqual(second.calls.map((f) => f.params.action_id), ['d']);
    assert.deepEqual(second.res.results[0].output, { n: 1 });
    assert.deepEqual(statuses(second.res), ['succeeded', 'succeeded']);
    assert.equal(second.res.cost.tool_calls, 1);
    const events = await c.result('events.query', { kinds: [EventKind.ToolCacheHit], proposal_id: 'p-cache' });
    const hits = events.events;
    assert.equal(hits.length, 1);
    assert.equal(hits[0].action_id, 'b');
    assert.equal(hits[0].data.tool, 'lookup');
    // A tool that is not idempotent is never cached.
    const plain = await submit(c, { actions: [call('p1', 'plain', { q: 1 }), call('p2', 'plain', { q: 1 }, { dependencies: ['p1'] })] });
    assert.equal(plain.calls.length, 2);
  });

  test('toolCacheMaxEntries at its bound: the least recently used result is dropped', async () => {
    await withServer({ toolCacheMaxEntries: 2 }, async (s) => {
      const c = await s.authed();
      await c.result('tools.register', [{ name: 'lookup', idempotent: true, cache_ttl_secs: 3600 }]);
      const seq = (ids: number[]): Frame => ({
        actions: ids.map((q, i) => call(`a${i}`, 'lookup', { q }, i > 0 ? { dependencies: [`a${i - 1}`] } : {})),
      });
      const filled = await submit(c, seq([1, 2]));
      assert.equal(filled.calls.length, 2);
      assert.equal((await submit(c, seq([1, 2]))).calls.length, 0, 'two entries fit');
      assert.equal((await submit(c, seq([3]))).calls.length, 1);
      const after = await submit(c, seq([2, 3, 1]));
      assert.deepEqual(after.calls.map((f) => f.params.parameters.q), [1], 'q=1 was the least recently used and went');
    });
  });

  test('toolCacheMaxBytes at its bound: a result larger than the bound is not cached', async () => {
    await withServer({ toolCacheMaxBytes: 200 }, async (s) => {
      const c = await s.authed();
      await c.result('tools.register', [{ name: 'big', idempotent: true, cache_ttl_secs: 3600 }]);
      const small = { actions: [call('a', 'big', { q: 'small' })] };
      const large = { actions: [call('a', 'big', { q: 'large' })] };
      await submit(c, small, () => 'x'.repeat(100));
      assert.equal((await submit(c, small)).calls.length, 0, 'under the bound: cached');
      await submit(c, large, () => 'x'.repeat(300));
      assert.equal((await submit(c, large, () => 'x'.repeat(300))).calls.length, 1, 'over the bound: not cached');
    });
  });

  test('rate_limit is enforced per tool: calls past max_calls in the window are rejected without a callback', async () => {
    const c = await server.authed();
    await c.result('tools.register', [{ name: 'limited', rate_limit: { max_calls: 2, interval_secs: 3600 } }, { name: 'free' }]);
    const { res, calls } = await submit(c, {
      actions: [
        call('a', 'limited', { i: 1 }, { failure_behavior: 'skip' }),
        call('b', 'limited', { i: 2 }, { failure_behavior: 'skip' }),
        call('c', 'limited', { i: 3 }, { failure_behavior: 'skip' }),
        call('f', 'free', {}, { failure_behavior: 'skip' }),
      ],
    });
    assert.deepEqual(statuses(res), ['succeeded', 'succeeded', 'rejected', 'succeeded']);
    assert.match(res.results[2].error, /rate limit of tool 'limited' reached: at most 2 calls per 3600 s/);
    assert.equal(calls.filter((f) => f.params.tool === 'limited').length, 2);
    assert.equal(res.cost.actions_rejected, 1);
    const bad = await c.error('tools.register', [{ name: 'x', rate_limit: { max_calls: 0, interval_secs: 1 } }]);
    assert.equal(bad.code, -32602);
  });
});

describe('the built-in messaging.send tool', () => {
  const server = useServer();
  const send = (id: string, extra: Record<string, unknown> = {}): Frame =>
    call(id, 'messaging.send', { channel: 'teams', kind: 'direct', to: 'user@example.invalid', body: 'Build is green.', ...extra });

  /** messaging.send needs full_access, so each distinct send is approved by a host first. */
  async function approved(s: TestServer, ...actions: Frame[]): Promise<void> {
    const host = await s.connect();
    await host.result('session.auth', { host_token: HOST_TOKEN });
    for (const action of actions) await host.result('permission.approve', { action });
    await host.close();
  }

  test('a fresh session lists messaging.send', async () => {
    const c = await server.authed();
    const list = await c.result('tools.list');
    assert.deepEqual(list.tools.map((t: Frame) => t.name), ['messaging.send']);
    assert.equal(list.count, 1);
    assert.deepEqual(list.tools[0].parameters.required, ['channel', 'kind', 'to', 'body']);
  });

  test('a send is delivered through tools.execute of messaging.channel_send, and de-duplicated on idempotency_key', async () => {
    const c = await server.authed();
    await approved(server, send('m', { idempotency_key: 'k-1' }), send('n'));
    const first = await submit(c, { actions: [send('m', { idempotency_key: 'k-1' })] }, () => ({ message_id: 'msg-1' }));
    assert.equal(first.calls.length, 1);
    assert.equal(first.calls[0].params.tool, 'messaging.channel_send');
    assert.deepEqual(first.calls[0].params.parameters, {
      channel: 'teams',
      kind: 'direct',
      to: 'user@example.invalid',
      body: 'Build is green.',
    });
    assert.equal(first.res.results[0].status, 'succeeded');
    assert.equal(first.res.results[0].output.delivered, true);
    assert.equal(first.res.results[0].output.message_id, 'msg-1');

    const again = await submit(c, { actions: [send('m', { idempotency_key: 'k-1' })] });
    assert.equal(again.calls.length, 0, 'the repeated key was not sent again');
    assert.equal(again.res.results[0].output.deduplicated, true);
    assert.equal(again.res.results[0].output.message_id, 'msg-1');

    const noKey = await submit(c, { actions: [send('n'), send('n2')] }, () => null);
    assert.equal(noKey.calls.length, 2, 'without a key every send goes out');
  });

  test('invalid parameters are rejected before anything is sent', async () => {
    const c = await server.authed();
    await approved(server, send('m', { kind: 'broadcast' }));
    const { res, calls } = await submit(c, { actions: [send('m', { kind: 'broadcast' })] });
    assert.equal(res.results[0].status, 'rejected');
    assert.match(res.results[0].error, /kind/);
    assert.equal(calls.length, 0);
  });

  test('an "unknown tool" answer becomes a clear failure', async () => {
    const c = await server.authed();
    await approved(server, send('m', { to: 'nobody@example.invalid' }));
    const { res } = await submit(c, { actions: [send('m', { to: 'nobody@example.invalid' })] }, () => new Error('unknown tool: messaging.channel_send'));
    assert.equal(res.results[0].status, 'failed');
    assert.match(res.results[0].error, /the host does not implement messaging\.channel_send/);
  });

  test('messagingMaxIdempotencyKeys at its bound: the oldest key is forgotten', async () => {
    await withServer({ messagingMaxIdempotencyKeys: 2 }, async (s) => {
      const c = await s.authed();
      await approved(s, ...['a', 'b', 'c'].map((key) => send('m', { idempotency_key: key })));
      for (const key of ['a', 'b']) assert.equal((await submit(c, { actions: [send('m', { idempotency_key: key })] })).calls.length, 1);
      assert.equal((await submit(c, { actions: [send('m', { idempotency_key: 'a' })] })).calls.length, 0, 'two keys fit');
      assert.equal((await submit(c, { actions: [send('m', { idempotency_key: 'c' })] })).calls.length, 1);
      assert.equal((await submit(c, { actions: [send('m', { idempotency_key: 'a' })] })).calls.length, 1, "'a' was the oldest and went");
    });
  });
});

describe('TerminalToolError fail-stop', () => {
  const server = useServer();

  test('a tool error with data.terminal halts the session until session.clear_halt', async () => {
    const c = await server.authed();
    await c.result('tools.register', [{ name: 'fatal' }, { name: 'ok' }]);
    const { res } = await submit(
      c,
      {
        id: 'p-halt',
        actions: [
          { id: 'w', type: 'state_write', parameters: { key: 'halt-k', value: 1 } },
          call('t', 'fatal', {}, { dependencies: ['w'], failure_behavior: 'retry', max_retries: 3 }),
          call('n', 'ok', {}, { dependencies: ['t'] }),
        ],
      },
      () => Object.assign(new Error('disk on fire'), { data: { terminal: true } }),
    );
    assert.deepEqual(statuses(res), ['succeeded', 'failed', 'skipped']);
    assert.equal(res.results[1].terminal, true);
    assert.equal(res.results[0].rolled_back, true);
    assert.equal(res.cost.tool_calls, 1, 'a terminal error is not retried');
    assert.equal(res.halted, true);
    assert.equal(await c.result('state.exists', { key: 'halt-k' }), false);

    const refused = await c.error('proposal.submit', { proposal: { actions: [call('x', 'ok')] } });
    assert.equal(refused.code, -32603);
    assert.match(refused.message, /session halted: action 't' of proposal 'p-halt' raised a terminal tool error \(disk on fire\)/);
    assert.equal(c.pendingFrames, 0);

    const sessionId = (await c.result('session.init', {})).session_id;
    const host = await server.connect();
    await host.result('session.auth', { host_token: HOST_TOKEN });
    const agent = await server.authed();
    assert.equal((await agent.error('session.clear_halt', { session_id: sessionId })).code, -32603, 'host role required');
    const cleared = await host.result('session.clear_halt', { session_id: sessionId });
    assert.equal(cleared.cleared, true);
    assert.equal(cleared.halt.action_id, 't');
    assert.deepEqual(statuses((await submit(c, { actions: [call('x', 'ok')] })).res), ['succeeded']);
    assert.equal((await host.result('session.clear_halt', { session_id: sessionId })).cleared, false);
  });
});
