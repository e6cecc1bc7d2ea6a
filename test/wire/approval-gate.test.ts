import assert from 'node:assert/strict';
import test, { after, before, describe } from 'node:test';
import { z } from 'zod';
import { defineMethod, DEFAULT_GATED_METHODS, ServerStateConfig } from '../../src/index.js';
import { waitFor, type Frame, type RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { scaled } from '../helpers/timing.js';

let ran = 0;
const gatedMethod = defineMethod({
  name: 'test.gated',
  summary: 'A high-risk embedder method.',
  params: z.object({ text: z.string().optional() }),
  handler: (p) => {
    ran++;
    return { done: true, text: p.text ?? null };
  },
});

async function nextRequested(c: RawClient): Promise<Frame> {
  for (;;) {
    const f = await c.next();
    if (f.method === 'host.event' && f.params.kind === 'approval.requested') return f.params.payload.approval;
  }
}

describe('approval gate', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      methods: [gatedMethod],
      // Long enough that no approving test races it; the timeout itself has a server of its own.
      approvalGate: { enabled: true, methods: [...DEFAULT_GATED_METHODS, 'test.gated'], timeoutMs: scaled(60_000) },
    });
  });
  after(async () => {
    await server.close();
  });

  test('defaults: enabled, the six integrations, 60 s', () => {
    const d = ServerStateConfig.defaults().approvalGate;
    assert.equal(d.enabled, true);
    assert.equal(d.timeoutMs, 60_000);
    assert.deepEqual([...d.methods], [
      'automation.run_applescript',
      'automation.run_powershell',
      'automation.shortcuts.run',
      'messages.send',
      'mail.send',
      'vision.ocr',
    ]);
    assert.throws(() => new ServerStateConfig({ approvalGate: { enabled: true, methods: [], timeoutMs: 0 } }), RangeError);
  });

  test('57: a gated call parks, broadcasts approval.requested, and runs once approved from another connection', async () => {
    const host = await server.authed({ handshake: true });
    await host.result('host.subscribe', {});
    const caller = await server.authed();
    const before = ran;
    const pending = caller.call('test.gated', { text: 'secret-ish' });
    const approval = await nextRequested(host);
    assert.equal(approval.action, 'ws.method:test.gated');
    assert.equal(approval.client_id, null);
    assert.equal(approval.status, 'pending');
    assert.match(approval.details.params_preview, /secret-ish/);
    assert.equal(ran, before, 'the handler has not run yet');
    const resolved = await host.result('host.resolve_approval', { approval_id: approval.id, approved: true });
    assert.equal(resolved.status, 'approved');
    const reply = await pending;
    assert.deepEqual(reply.result, { done: true, text: 'secret-ish' });
    assert.equal(ran, before + 1);
  });

  test('deny → -32003 and the connection stays open; resolution:"approve" alias also releases', async () => {
    const host = await server.authed({ handshake: true });
    await host.result('host.subscribe', {});
    const caller = await server.authed();
    const denied = caller.call('test.gated', {});
    const a1 = await nextRequested(host);
    await host.result('host.resolve_approval', { approval_id: a1.id, approved: false });
    const r1 = await denied;
    assert.equal(r1.error.code, -32003);
    assert.equal(r1.error.data.approval_id, a1.id);
    const ok = caller.call('test.gated', {});
    const a2 = await nextRequested(host);
    await host.result('host.resolve_approval', { approval_id: a2.id, resolution: 'approve' });
    assert.equal((await ok).result.done, true);
  });

  test('56: unresolved within the timeout → -32003, the row expires out of the pending set, the connection stays open', async () => {
    const short = await startServer({
      methods: [gatedMethod],
      approvalGate: { enabled: true, methods: ['test.gated'], timeoutMs: 150 },
    });
    try {
      const caller = await short.authed();
      const t0 = Date.now();
      const err = await caller.error('test.gated', {});
      const waited = Date.now() - t0;
      assert.equal(err.code, -32003);
      assert.ok(waited >= 140, `waited ${waited} ms`);
      const id = (err.data as { approval_id: string }).approval_id;
      assert.equal(short.state.host.getApproval(id)?.status, 'expired');
      assert.equal(short.state.host.pendingCount(), 0);
      assert.equal(short.state.host.waitingCount, 0, 'no waiter or timer left behind');
      assert.ok(caller.isOpen);
      assert.equal((await caller.result('host.agents', {})).length >= 0, true);
    } finally {
      await short.close();
    }
  });

  test('a system (gate) approval can be resolved by any authenticated session', async () => {
    const host = await server.authed({ handshake: true });
    await host.result('host.subscribe', {});
    const caller = await server.authed();
    const stranger = await server.authed();
    const pending = caller.call('test.gated', {});
    const { id } = await nextRequested(host);
    await stranger.result('host.resolve_approval', { approval_id: id, approved: true });
    assert.equal((await pending).result.done, true);
  });

  test('default gated methods answer "not supported on this platform" after approval', async () => {
    const host = await server.authed({ handshake: true });
    await host.result('host.subscribe', {});
    const caller = await server.authed();
    const pending = caller.call('mail.send', { to: 'x', body: 'hi' });
    const a = await nextRequested(host);
    assert.equal(a.action, 'ws.method:mail.send');
    await host.result('host.resolve_approval', { approval_id: a.id, approved: true });
    const reply = await pending;
    assert.equal(reply.error.code, -32603);
    assert.match(reply.error.message, /not supported on this platform/);
  });

  test('a disconnect while parked releases the waiter', async () => {
    const caller = await server.authed();
    void caller.call('test.gated', {}).catch(() => undefined);
    await waitFor(() => server.state.host.waitingCount === 1, undefined, 'the call to park');
    await caller.close();
    await waitFor(() => server.state.host.waitingCount === 0, undefined, 'the waiter to be released');
  });
});

describe('approval gate switched off (--no-approvals)', () => {
  test('57: the gated method runs at once and no approval is created', async () => {
    const server = await startServer({
      methods: [gatedMethod],
      approvalGate: { enabled: false, methods: ['test.gated'], timeoutMs: 1000 },
    });
    try {
      const c = await server.authed();
      assert.equal((await c.result('test.gated', {})).done, true);
      assert.equal(server.state.host.listApprovals().length, 0);
      const err = await c.error('automation.shortcuts.run', {});
      assert.match(err.message, /not supported on this platform/);
    } finally {
      await server.close();
    }
  });
});
