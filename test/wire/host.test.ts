import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import type { RawClient, Frame } from '../helpers/raw-client.js';
import { useServer } from '../helpers/server.js';

/** The next `host.event` of `kind` (other frames are skipped). */
async function nextEvent(c: RawClient, kind: string): Promise<Frame> {
  for (;;) {
    const f = await c.next(3000);
    if (f.method === 'host.event' && f.params.kind === kind) return f.params;
  }
}

describe('host.* over the wire', () => {
  const server = useServer();

  async function subscriber(): Promise<RawClient> {
    const c = await server.authed({ handshake: true });
    await c.result('host.subscribe', {});
    return c;
  }

  test('host.subscribe needs the handshake (-32005), then answers the snapshot with identity', async () => {
    const c = await server.authed();
    const err = await c.error('host.subscribe', {});
    assert.equal(err.code, -32005);
    await c.result('server.handshake', { protocol_version: 2 });
    const snap = await c.result('host.subscribe', {});
    assert.equal(snap.subscribed, true);
    for (const key of ['agents', 'devices', 'approvals', 'events']) assert.ok(Array.isArray(snap[key]), key);
    assert.equal(snap.identity.pid, process.pid);
    assert.equal(snap.identity.manifest_role, 'none');
    assert.equal(snap.identity.manifest_path, null);
    assert.equal(typeof snap.identity.version, 'string');
  });

  test('49: register_agent without id assigns one and broadcasts agent.registered', async () => {
    const watcher = await subscriber();
    const agent = await server.authed();
    const a = await agent.result('host.register_agent', { name: 'Researcher', kind: 'research' });
    assert.match(a.id, /^agent-/);
    assert.equal(a.status, 'idle');
    const ev = await nextEvent(watcher, 'agent.registered');
    assert.equal(ev.agent_id, a.id);
    assert.match(ev.id, /^event-/);
    assert.equal(typeof ev.sequence, 'number');
    assert.ok(!Number.isNaN(Date.parse(ev.timestamp)));
    const listed = await watcher.result('host.agents', {});
    assert.ok(listed.some((x: Frame) => x.id === a.id));
  });

  test('50/51: a non-owner cannot set_status, unregister, or re-register the agent', async () => {
    const owner = await server.authed();
    const other = await server.authed();
    await owner.result('host.register_agent', { id: 'acl-1', name: 'A', kind: 'k' });
    const msg = "agent 'acl-1' is owned by another session";
    for (const [method, params] of [
      ['host.set_status', { agent_id: 'acl-1', status: 'running' }],
      ['host.unregister_agent', { agent_id: 'acl-1' }],
      ['host.register_agent', { id: 'acl-1', name: 'B', kind: 'k' }],
    ] as const) {
      const err = await other.error(method, params);
      assert.equal(err.code, -32603, method);
      assert.equal(err.message, msg, method);
    }
    assert.deepEqual(await owner.result('host.unregister_agent', { agent_id: 'acl-1' }), { ok: true });
  });

  test('52: set_status by the owner broadcasts agent.status_changed; bad status is -32602', async () => {
    const watcher = await subscriber();
    const owner = await server.authed();
    await owner.result('host.register_agent', { id: 'st-1', name: 'A', kind: 'k' });
    const a = await owner.result('host.set_status', { agent_id: 'st-1', status: 'completed', message: 'done' });
    assert.equal(a.status, 'completed');
    const ev = await nextEvent(watcher, 'agent.status_changed');
    assert.equal(ev.agent_id, 'st-1');
    assert.equal(ev.message, 'done');
    assert.equal(ev.payload.status, 'completed');
    assert.equal((await owner.error('host.set_status', { agent_id: 'st-1', status: 'dancing' })).code, -32602);
  });

  test('53: request_approval{agent_id} moves the agent to waiting_for_approval and broadcasts', async () => {
    const watcher = await subscriber();
    const owner = await server.authed();
    await owner.result('host.register_agent', { id: 'ap-1', name: 'A', kind: 'k' });
    const ap = await owner.result('host.request_approval', { agent_id: 'ap-1', title: 'Deploy?' });
    assert.match(ap.id, /^approval-/);
    assert.equal(ap.status, 'pending');
    assert.deepEqual(ap.options, ['approve', 'deny']);
    const ev = await nextEvent(watcher, 'approval.requested');
    assert.equal(ev.payload.approval.id, ap.id);
    const agents = await watcher.result('host.agents', {});
    assert.equal(agents.find((x: Frame) => x.id === 'ap-1').status, 'waiting_for_approval');
  });

  test('54: session Y cannot resolve X’s approval; the alias resolution:"deny" works; first writer wins', async () => {
    const x = await server.authed();
    const y = await server.authed();
    const ap = await x.result('host.request_approval', { title: 'mine' });
    const err = await y.error('host.resolve_approval', { approval_id: ap.id, approved: true });
    assert.equal(err.code, -32603);
    const r = await x.result('host.resolve_approval', { approval_id: ap.id, resolution: 'deny', notes: 'no' });
    assert.equal(r.status, 'denied');
    assert.equal(r.notes, 'no');
    const again = await x.result('host.resolve_approval', { approval_id: ap.id, approved: true });
    assert.equal(again.status, 'denied');
    assert.equal((await x.error('host.resolve_approval', { approval_id: ap.id })).code, -32602);
  });

  test('55: register_device with another session’s id is refused; update_device by owner → device.updated', async () => {
    const watcher = await subscriber();
    const owner = await server.authed();
    const other = await server.authed();
    const d = await owner.result('host.register_device', { id: 'dev-1', name: 'Mac', platform: 'macos' });
    assert.equal(d.session_id !== undefined, true);
    assert.equal((await other.error('host.register_device', { id: 'dev-1', name: 'X', platform: 'y' })).code, -32603);
    assert.equal((await other.error('host.update_device', { device_id: 'dev-1', status: 'x' })).code, -32603);
    await owner.result('host.update_device', { device_id: 'dev-1', status: 'busy' });
    for (;;) {
      const ev = await nextEvent(watcher, 'device.updated');
      if (ev.payload.device.status === 'busy') break;
    }
    const devices = await other.result('host.devices', {});
    assert.equal(devices.find((x: Frame) => x.id === 'dev-1').status, 'busy');
  });

  test('host.notify records host.notification; host.events returns the newest, limit respected', async () => {
    const watcher = await subscriber();
    const c = await server.authed();
    const ev = await c.result('host.notify', { message: 'hello', payload: { n: 1 } });
    assert.equal(ev.kind, 'host.notification');
    const seen = await nextEvent(watcher, 'host.notification');
    assert.equal(seen.id, ev.id);
    const { events } = await c.result('host.events', { limit: 1 });
    assert.equal(events.length, 1);
    assert.equal(events[0].id, ev.id);
    const { approvals } = await c.result('host.approvals', {});
    assert.ok(Array.isArray(approvals));
  });

  test('subscribe snapshot and stream neither lose nor duplicate events around the subscribe', async () => {
    const emitter = await server.authed();
    const c = await server.authed({ handshake: true });
    const pumping = (async () => {
      for (let i = 0; i < 60; i++) await emitter.result('host.notify', { kind: 'race', message: String(i) });
    })();
    await emitter.result('host.notify', { kind: 'race', message: 'first' });
    const snap = await c.result('host.subscribe', {});
    await pumping;
    const last = await emitter.result('host.notify', { kind: 'race', message: 'end' });
    const streamed: number[] = [];
    for (;;) {
      const ev = await nextEvent(c, 'race');
      streamed.push(ev.sequence);
      if (ev.sequence === last.sequence) break;
    }
    const start = snap.event_sequence as number;
    assert.equal(streamed[0], start + 1, 'stream starts right after the snapshot');
    for (let i = 1; i < streamed.length; i++) assert.equal(streamed[i], streamed[i - 1]! + 1);
    assert.ok(snap.events.every((e: Frame) => e.sequence <= start));
  });

  test('disconnect unsubscribes and reaps the session’s pending approvals', async () => {
    const c = await server.authed({ handshake: true });
    await c.result('host.subscribe', {});
    const ap = await c.result('host.request_approval', { title: 'bye' });
    const before = server.state.host.subscriberCount;
    await c.close();
    const deadline = Date.now() + 2000;
    while (server.state.host.getApproval(ap.id) !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(server.state.host.getApproval(ap.id), undefined);
    assert.equal(server.state.host.subscriberCount, before - 1);
  });
});
