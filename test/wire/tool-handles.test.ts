import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { defineMethod } from '../../src/index.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** Embedder methods standing in for a detached tool: open a handle, push chunks into it. */
const handleMethods = [
  defineMethod({
    name: 'test.handle.open',
    summary: 'Open a detached tool handle on this session.',
    params: z.object({ tool: z.string(), action_id: z.string().optional() }),
    handler: (p, { session }) => session.toolHandles.open(p.tool, p.action_id),
  }),
  defineMethod({
    name: 'test.handle.push',
    summary: 'Push one chunk into a handle.',
    params: z.object({ handle: z.string(), chunk: z.any() }),
    handler: (p, { session }) => session.toolHandles.push(p.handle, p.chunk),
  }),
];

describe('tools.poll / tools.cancel / tools.stream.subscribe', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ methods: handleMethods });
  });

  after(() => server.close());

  test('tools.poll of an unknown handle → null; tools.cancel of an unknown handle → {cancelled:false}', async () => {
    const c = await server.authed();
    assert.equal(await c.result('tools.poll', { handle: 'b41dfc2a9e01' }), null);
    assert.deepEqual(await c.result('tools.cancel', { handle: 'b41dfc2a9e01' }), { cancelled: false });
  });

  test('tools.poll and tools.cancel without handle → -32602 naming it', async () => {
    const c = await server.authed();
    for (const method of ['tools.poll', 'tools.cancel']) {
      const reply = await c.call(method, {});
      assert.equal(reply.error.code, -32602);
      assert.match(reply.error.message, /^invalid params: handle is required/);
    }
  });

  test('poll drains chunks, then reports the terminal status once, then null', async () => {
    const c = await server.authed();
    const h = await c.result('test.handle.open', { tool: 'tail_log', action_id: 'a1' });
    await c.result('test.handle.push', { handle: h, chunk: { kind: 'text', text: 'line 1\n' } });
    const first = await c.result('tools.poll', { handle: h });
    assert.deepEqual(first, {
      handle: h,
      tool: 'tail_log',
      action_id: 'a1',
      status: 'running',
      chunks: [{ kind: 'text', text: 'line 1\n' }],
    });
    assert.deepEqual((await c.result('tools.poll', { handle: h })).chunks, []);
    await c.result('test.handle.push', { handle: h, chunk: { kind: 'done', result: { exit: 0 } } });
    const last = await c.result('tools.poll', { handle: h });
    assert.equal(last.status, 'succeeded');
    assert.deepEqual(last.result, { exit: 0 });
    assert.equal(await c.result('tools.poll', { handle: h }), null);
  });

  test('tools.cancel seals a running handle as cancelled', async () => {
    const c = await server.authed();
    const h = await c.result('test.handle.open', { tool: 'job' });
    assert.deepEqual(await c.result('tools.cancel', { handle: h }), { cancelled: true });
    assert.equal((await c.result('tools.poll', { handle: h })).status, 'cancelled');
  });

  test('handles are per connection', async () => {
    const a = await server.authed();
    const b = await server.authed();
    const h = await a.result('test.handle.open', { tool: 'job' });
    assert.equal(await b.result('tools.poll', { handle: h }), null);
  });

  test('tools.stream.subscribe is idempotent and pushes tools.stream.event for each chunk', async () => {
    const c = await server.authed();
    assert.deepEqual(await c.result('tools.stream.subscribe', {}), { subscribed: true });
    assert.deepEqual(await c.result('tools.stream.subscribe', {}), { subscribed: true });
    const h = await c.result('test.handle.open', { tool: 'job' });
    await c.result('test.handle.push', { handle: h, chunk: { kind: 'text', text: 'line 2\n' } });
    const event = await c.next();
    assert.deepEqual(event, {
      jsonrpc: '2.0',
      method: 'tools.stream.event',
      params: { handle: h, chunk: { kind: 'text', text: 'line 2\n' } },
    });
  });
});
