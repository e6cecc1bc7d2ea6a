import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { HostState, MAX_HOST_EVENTS, type HostEvent, type HostEventSink } from '../../src/host/index.js';

function collector(): HostEventSink & { events: HostEvent[]; open: boolean } {
  const sink = {
    open: true,
    events: [] as HostEvent[],
    send(e: HostEvent) {
      sink.events.push(e);
      return true;
    },
  };
  return sink;
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('HostState', () => {
  test('register_agent assigns an id, records agent.registered; ACL on another session', () => {
    const h = new HostState();
    const a = h.registerAgent('s1', { name: 'A', kind: 'worker' });
    assert.match(a.id, /^agent-/);
    assert.equal(a.session_id, 's1');
    assert.equal(a.status, 'idle');
    assert.equal(h.events(1)[0]?.kind, 'agent.registered');
    const msg = `agent '${a.id}' is owned by another session`;
    assert.throws(() => h.registerAgent('s2', { id: a.id, name: 'B', kind: 'x' }), { message: msg });
    assert.throws(() => h.setStatus('s2', { agent_id: a.id, status: 'running' }), { message: msg });
    assert.throws(() => h.unregisterAgent('s2', a.id), { message: msg });
    const updated = h.setStatus('s1', { agent_id: a.id, status: 'running', current_task: 't' });
    assert.equal(updated.status, 'running');
    const ev = h.events(1)[0]!;
    assert.equal(ev.kind, 'agent.status_changed');
    assert.equal((ev.payload as { status: string }).status, 'running');
    h.unregisterAgent('s1', a.id);
    assert.equal(h.listAgents().length, 0);
  });

  test('the event ring keeps the last 500 with a strictly increasing sequence', () => {
    const h = new HostState();
    for (let i = 0; i < 620; i++) h.recordEvent('host.notification', null, String(i));
    const all = h.events(10_000);
    assert.equal(all.length, MAX_HOST_EVENTS);
    assert.equal(all[0]!.message, '120');
    assert.equal(all.at(-1)!.sequence, 620);
    for (let i = 1; i < all.length; i++) assert.equal(all[i]!.sequence, all[i - 1]!.sequence + 1);
    assert.deepEqual(h.events(3).map((e) => e.message), ['617', '618', '619']);
    assert.deepEqual(h.events(0), []);
  });

  test('subscribe is atomic: the snapshot holds earlier events, the stream every later one, once', async () => {
    const h = new HostState();
    h.recordEvent('host.notification', null, 'before');
    const sink = collector();
    const snap = h.subscribe('s1', sink);
    assert.deepEqual(snap.events.map((e) => e.message), ['before']);
    assert.equal(snap.event_sequence, 1);
    h.recordEvent('host.notification', null, 'after');
    assert.equal(sink.events.length, 0, 'delivery happens off the caller’s stack');
    await turn();
    assert.deepEqual(sink.events.map((e) => e.sequence), [2]);
  });

  test('a full subscriber queue loses events for that subscriber only; a closed sink is dropped', async () => {
    const h = new HostState({ subscriberQueue: 10 });
    const fast = collector();
    const slow = { open: true, send: () => false };
    const dead = collector();
    h.subscribe('fast', fast);
    h.subscribe('slow', slow);
    h.subscribe('dead', dead);
    dead.open = false;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 10; i++) h.recordEvent('k', null, null);
      await turn();
    }
    assert.equal(fast.events.length, 50);
    assert.equal(h.lostEvents('fast'), 0);
    assert.equal(h.lostEvents('slow'), 50);
    assert.equal(h.isSubscribed('dead'), false);
    assert.equal(dead.events.length, 0);
    for (let i = 0; i < 15; i++) h.recordEvent('k', null, null);
    await turn();
    assert.equal(fast.events.length, 60);
    assert.equal(h.lostEvents('fast'), 5);
  });

  test('approvals: owned ones resolve only by their session, system ones by anyone, first writer wins', () => {
    const h = new HostState();
    const agent = h.registerAgent('x', { id: 'ag', name: 'A', kind: 'k' });
    const owned = h.createApproval('x', { agent_id: agent.id, title: 'deploy?' });
    assert.equal(h.getAgent('ag')!.status, 'waiting_for_approval');
    assert.equal(owned.client_id, 'x');
    assert.throws(() => h.resolveApproval('y', owned.id, true), /requested by another session/);
    assert.equal(h.resolveApproval('x', owned.id, false, 'no').status, 'denied');
    assert.equal(h.getAgent('ag')!.status, 'idle', 'back to what it was doing before the approval');
    assert.equal(h.resolveApproval('x', owned.id, true).status, 'denied', 'first writer wins');
    const sys = h.createApproval(null, { title: 'gate', action: 'ws.method:m' });
    assert.equal(sys.client_id, null);
    assert.equal(h.resolveApproval('anyone', sys.id, true).status, 'approved');
    assert.throws(() => h.resolveApproval('x', 'approval-nope', true), /unknown approval/);
    assert.throws(() => h.createApproval('y', { agent_id: 'ag', title: 't' }), /owned by another session/);
  });

  test('an agent waits while any of its approvals is pending, then resumes its earlier status (and an event says so)', () => {
    const h = new HostState();
    h.registerAgent('x', { id: 'ag', name: 'A', kind: 'k' });
    h.setStatus('x', { agent_id: 'ag', status: 'running' });
    const first = h.createApproval('x', { agent_id: 'ag', title: 'one' });
    const second = h.createApproval('x', { agent_id: 'ag', title: 'two' });
    assert.equal(h.getAgent('ag')!.status, 'waiting_for_approval');
    h.resolveApproval('x', first.id, true);
    assert.equal(h.getAgent('ag')!.status, 'waiting_for_approval', 'the second still holds it');
    h.expireApproval(second.id, 'nobody decided');
    assert.equal(h.getAgent('ag')!.status, 'running');
    const resumed = h.events(100).find((e) => e.kind === 'agent.status_changed' && (e.payload as { approval_id?: string }).approval_id === second.id);
    assert.deepEqual([(resumed?.payload as { status: string }).status, (resumed?.payload as { previous_status: string }).previous_status], ['running', 'waiting_for_approval']);
    h.createApproval('x', { agent_id: 'ag', title: 'three' });
    h.setStatus('x', { agent_id: 'ag', status: 'paused' });
    const third = [...h.listApprovals()].find((a) => a.title === 'three')!;
    h.resolveApproval('x', third.id, true);
    assert.equal(h.getAgent('ag')!.status, 'paused', 'a status the agent set itself is left alone');
  });

  test('waitForResolution wakes on resolve; a timeout or an abort expires the row out of the pending set', async () => {
    const h = new HostState();
    const a = h.createApproval(null, { title: 't' });
    const waiting = h.waitForResolution(a.id, 5_000);
    assert.equal(h.waitingCount, 1);
    h.resolveApproval('s', a.id, true);
    assert.equal(await waiting, 'approved');
    assert.equal(h.waitingCount, 0);

    const b = h.createApproval(null, { title: 't' });
    assert.equal(await h.waitForResolution(b.id, 20), 'timeout');
    assert.equal(h.getApproval(b.id)!.status, 'expired');
    assert.equal(h.pendingCount(), 0);
    assert.equal(h.waitingCount, 0);
    assert.equal(await h.waitForResolution(b.id, 5_000), 'aborted', 'an expired row answers at once');

    const ac = new AbortController();
    const c = h.createApproval(null, { title: 'c' }, 's1');
    const waitingC = h.waitForResolution(c.id, 5_000, ac.signal);
    assert.equal(h.pendingCount('s1'), 1);
    ac.abort();
    assert.equal(await waitingC, 'aborted');
    assert.equal(h.getApproval(c.id)!.status, 'expired');
    assert.equal(h.pendingCount('s1'), 0);
    assert.equal(h.waitingCount, 0);
    assert.equal(await h.waitForResolution(a.id, 5_000), 'approved', 'already resolved answers at once');
  });

  test('dropSession unsubscribes and removes that session’s approvals, pending and decided, only', () => {
    const h = new HostState();
    h.subscribe('s1', collector());
    const mine = h.createApproval('s1', { title: 'mine' });
    const done = h.createApproval('s1', { title: 'done' });
    h.resolveApproval('s1', done.id, true);
    const other = h.createApproval('s2', { title: 'other' });
    const sys = h.createApproval(null, { title: 'sys' });
    h.dropSession('s1');
    assert.equal(h.isSubscribed('s1'), false);
    assert.deepEqual(
      h.listApprovals().map((a) => a.id).sort(),
      [other.id, sys.id].sort(),
    );
    assert.equal(h.getApproval(mine.id), undefined);
    assert.equal(h.getApproval(done.id), undefined);
  });

  test('devices: owner-only update, device.updated recorded', () => {
    const h = new HostState();
    const d = h.registerDevice('s1', { id: 'mac', name: 'Mac', platform: 'macos' });
    assert.throws(() => h.registerDevice('s2', { id: 'mac', name: 'X', platform: 'y' }), /owned by another session/);
    assert.throws(() => h.updateDevice('s2', { device_id: 'mac', status: 'off' }), /owned by another session/);
    assert.equal(h.updateDevice('s1', { device_id: d.id, status: 'busy' }).status, 'busy');
    assert.equal(h.events(1)[0]!.kind, 'device.updated');
  });
});
