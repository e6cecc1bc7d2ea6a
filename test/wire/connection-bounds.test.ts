import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { AUTH_TOKEN, useServer } from '../helpers/server.js';
import { upgradeStatus, waitFor, type RawClient } from '../helpers/raw-client.js';
import { scaled } from '../helpers/timing.js';

/** Connection caps, the auth deadline and attempt limit, reply and subscriber byte bounds, each at its bound. */

describe('maxConnections', () => {
  const server = useServer({ maxConnections: 3 });

  test('the upgrade past the bound gets HTTP 503; a slot freed is taken again', async () => {
    const open = [await server.authed(), await server.authed(), await server.authed()];
    assert.equal(await upgradeStatus(server.url), 503);
    assert.equal(await open[0]!.result('state.exists', { key: 'k' }), false, 'the open ones keep working');
    await open[0]!.close();
    await waitFor(() => server.state.sessions.size === 2, undefined, 'the closed session to go');
    const again = await server.authed();
    assert.equal(await again.result('state.exists', { key: 'k' }), false);
  });
});

describe('maxUnauthenticatedConnections', () => {
  const server = useServer({ maxUnauthenticatedConnections: 2 });

  test('past the bound of connections waiting to authenticate: 503; authenticating makes room', async () => {
    const a = await server.connect();
    await server.connect();
    assert.equal(await upgradeStatus(server.url), 503);
    await a.result('session.auth', { token: AUTH_TOKEN });
    const c = await server.connect();
    assert.equal((await c.result('session.auth', { token: AUTH_TOKEN })).ok, true);
  });
});

describe('authTimeoutMs', () => {
  const server = useServer({ authTimeoutMs: 100 });

  test('a connection that does not authenticate in time is closed with 1008; an authenticated one stays', async () => {
    const idle = await server.connect();
    const authed = await server.authed();
    const closed = await idle.waitClosed(scaled(5000));
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /auth deadline/);
    assert.equal(await authed.result('state.exists', { key: 'k' }), false);
  });
});

describe('maxAuthFailures', () => {
  const server = useServer({ maxAuthFailures: 3 });

  test('the third wrong token is answered, then the connection closes with 1008', async () => {
    const c = await server.connect();
    for (let i = 0; i < 2; i++) {
      const err = await c.error('session.auth', { token: 'wrong' });
      assert.equal(err.message, 'auth failed: token mismatch');
    }
    assert.equal(c.isOpen, true);
    const last = await c.error('session.auth', { token: 'wrong' });
    assert.match(last.message, /3 failed attempts, closing the connection/);
    const closed = await c.waitClosed();
    assert.equal(closed.code, 1008);
    // The count is per connection: a fresh one may still try.
    const fresh = await server.connect();
    assert.equal((await fresh.error('session.auth', { token: 'wrong' })).message, 'auth failed: token mismatch');
    assert.equal((await fresh.result('session.auth', { token: AUTH_TOKEN })).ok, true);
  });
});

describe('maxReplyBytes and the slow-reader rule', () => {
  const server = useServer({ maxReplyBytes: 64 * 1024, maxOutboundBufferedBytes: 16 * 1024, maxStateValueBytes: 1024 * 1024 });

  test('a reply over the frame limit becomes -32603 kind limit for the same id; the connection keeps answering', async () => {
    const c = await server.authed();
    await c.result('state.set', { key: 'big', value: 'x'.repeat(64 * 1024) });
    const err = await c.error('state.get', { key: 'big' });
    assert.equal(err.code, -32603);
    const data = err.data as { kind: string; limit: number; bytes: number };
    assert.equal(data.kind, 'limit');
    assert.equal(data.limit, 64 * 1024);
    assert.ok(data.bytes > 64 * 1024);
    assert.equal(c.isOpen, true);
    await c.result('state.set', { key: 'fits', value: 'y'.repeat(60 * 1024) });
    assert.equal((await c.result('state.get', { key: 'fits' })).length, 60 * 1024);
  });

  test('one reply larger than the outbound bound reaches a client that reads (the bound is on undrained bytes)', async () => {
    const c = await server.authed();
    await c.result('state.set', { key: 'v', value: 'z'.repeat(40 * 1024) });
    for (let i = 0; i < 3; i++) assert.equal((await c.result('state.get', { key: 'v' })).length, 40 * 1024);
    assert.equal(c.isOpen, true);
  });

  test('a batch whose replies together pass the limit: the results become limit errors, one per id', async () => {
    const c = await server.authed();
    await c.result('state.set', { key: 'half', value: 'h'.repeat(40 * 1024) });
    c.send([1, 2].map((id) => ({ jsonrpc: '2.0', id: `b${id}`, method: 'state.get', params: { key: 'half' } })));
    const replies = await c.next();
    assert.deepEqual(replies.map((r: { id: string }) => r.id).sort(), ['b1', 'b2']);
    for (const r of replies) assert.equal(r.error.data.kind, 'limit');
  });
});

/** Notify from `publisher` in batches until `done()` (or `maxBytes` were sent). */
async function floodUntil(publisher: RawClient, done: () => boolean, maxBytes: number): Promise<void> {
  const payload = { blob: 'p'.repeat(16 * 1024) };
  let sent = 0;
  let id = 0;
  while (sent < maxBytes && !done()) {
    const batch = Array.from({ length: 8 }, () => ({ jsonrpc: '2.0', id: `n${id++}`, method: 'host.notify', params: { payload } }));
    publisher.send(batch);
    await publisher.next();
    sent += 8 * 16 * 1024;
  }
}

describe('host.event subscriber byte bounds', () => {
  const server = useServer({ maxHostSubscriberBytes: 256 * 1024, maxHostEventBytes: 64 * 1024 });

  test('maxHostSubscriberBytes: a subscriber that stops reading is dropped with 1008 and a reason; a reading one stays', async () => {
    const stalled = await server.authed({ handshake: true });
    const reader = await server.authed({ handshake: true });
    const publisher = await server.authed();
    await stalled.result('host.subscribe', {});
    await reader.result('host.subscribe', {});
    let seen = 0;
    reader.ws.on('message', () => seen++);
    stalled.ws.pause();
    await floodUntil(publisher, () => server.state.host.overflowedSubscribers >= 1, 256 * 1024 * 1024);
    stalled.ws.resume();
    const closed = await stalled.waitClosed();
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /slow consumer: host\.event backlog over 262144 bytes/);
    assert.equal(reader.isOpen, true);
    assert.ok(seen > 0);
    assert.ok(server.state.host.overflowedSubscribers >= 1);
    assert.equal(await reader.result('state.exists', { key: 'k' }), false);
  });
});

describe('host.event subscribers together', () => {
  const server = useServer({ maxHostSubscribersTotalBytes: 256 * 1024, maxHostEventBytes: 64 * 1024 });

  test('maxHostSubscribersTotalBytes: past the daemon-wide bound the biggest backlogs are dropped', async () => {
    const stalled = [await server.authed({ handshake: true }), await server.authed({ handshake: true })];
    const publisher = await server.authed();
    for (const s of stalled) {
      await s.result('host.subscribe', {});
      s.ws.pause();
    }
    await floodUntil(publisher, () => server.state.host.overflowedSubscribers >= 1, 256 * 1024 * 1024);
    for (const s of stalled) s.ws.resume();
    await waitFor(() => stalled.some((s) => !s.isOpen), undefined, 'a stalled subscriber to be closed');
    const closed = await stalled.find((s) => !s.isOpen)!.waitClosed();
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /host\.event backlogs over 262144 bytes in all/);
    assert.equal(await publisher.result('state.exists', { key: 'k' }), false);
  });
});

describe('maxHostRegistrationsPerSession', () => {
  const server = useServer({ maxHostRegistrationsPerSession: 2 });

  test('agents and devices together; re-registering an owned one is not counted; removal frees a slot', async () => {
    const c = await server.authed();
    await c.result('host.register_agent', { id: 'r-a', name: 'A', kind: 'k' });
    await c.result('host.register_device', { id: 'r-d', name: 'D', platform: 'linux' });
    await c.result('host.register_agent', { id: 'r-a', name: 'A2', kind: 'k' });
    const err = await c.error('host.register_agent', { id: 'r-b', name: 'B', kind: 'k' });
    assert.equal(err.code, -32603);
    assert.deepEqual(err.data, { kind: 'limit', limit: 2 });
    await c.result('host.unregister_agent', { agent_id: 'r-a' });
    await c.result('host.register_agent', { id: 'r-b', name: 'B', kind: 'k' });
  });
});

describe('maxHostRecordBytes', () => {
  const bound = 1000;
  const server = useServer({ maxHostRecordBytes: bound, maxHostRegistrationsPerSession: 2 });
  const bytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v));

  test('an agent of exactly the bound is stored, one byte more is refused naming the field, and nothing changes', async () => {
    const c = await server.authed();
    const base = await c.result('host.register_agent', { id: 'm-a', name: 'A', kind: 'k', metadata: { pad: '' } });
    const fits = await c.result('host.register_agent', { id: 'm-a', name: 'A', kind: 'k', metadata: { pad: 'x'.repeat(bound - bytes(base)) } });
    assert.equal(bytes(fits), bound);
    const err = await c.error('host.register_agent', { id: 'm-a', name: 'A', kind: 'k', metadata: { pad: 'x'.repeat(bound - bytes(base) + 1) } });
    assert.equal(err.code, -32603);
    assert.deepEqual(err.data, { kind: 'limit', field: 'metadata', limit: bound });
    assert.match(err.message, new RegExp(`agent 'm-a' would be over ${bound} bytes of JSON \\(most of it in metadata\\); one agent may hold at most ${bound}`));
    const [kept] = await c.result('host.agents', {});
    assert.deepEqual(kept.metadata, fits.metadata);

    const display = await c.error('host.register_agent', { id: 'm-b', name: 'B', kind: 'k', display: 'd'.repeat(bound) });
    assert.deepEqual(display.data, { kind: 'limit', field: 'display', limit: bound });
    assert.equal((await c.result('host.agents', {})).length, 1, 'a refused new agent is not registered');

    const task = await c.error('host.set_status', { agent_id: 'm-a', status: 'running', current_task: 't'.repeat(bound) });
    assert.deepEqual(task.data, { kind: 'limit', field: 'current_task', limit: bound });
    assert.equal((await c.result('host.agents', {}))[0].status, 'idle', 'a refused status change changes nothing');
  });

  test('devices: register and update are bounded the same way; a refused new one does not take a registration slot', async () => {
    const c = await server.authed();
    const big = { pad: 'y'.repeat(bound) };
    const refused = await c.error('host.register_device', { id: 'm-d0', name: 'D', platform: 'linux', metadata: big });
    assert.deepEqual(refused.data, { kind: 'limit', field: 'metadata', limit: bound });
    const base = await c.result('host.register_device', { id: 'm-d', name: 'D', platform: 'linux', metadata: { pad: '' } });
    const fits = await c.result('host.update_device', { device_id: 'm-d', metadata: { pad: 'y'.repeat(bound - bytes(base)) } });
    assert.equal(bytes(fits), bound);
    const over = await c.error('host.update_device', { device_id: 'm-d', status: 'paused', metadata: { pad: 'y'.repeat(bound - bytes(base) + 1) } });
    assert.deepEqual(over.data, { kind: 'limit', field: 'metadata', limit: bound });
    const [device] = await c.result('host.devices', {});
    assert.equal(device.status, 'online');
    assert.deepEqual(device.metadata, fits.metadata);
    await c.result('host.register_agent', { id: 'm-slot', name: 'S', kind: 'k' });
  });
});

describe('maxHostRecordBytes for approvals a client raises', () => {
  const server = useServer({ maxHostRecordBytes: 1000, maxPendingApprovalsPerSession: 1 });

  test('an approval whose JSON would pass the bound is refused naming its biggest field, and takes no pending slot', async () => {
    const c = await server.authed();
    const err = await c.error('host.request_approval', { title: 'T', context: { blob: 'c'.repeat(1000) } });
    assert.equal(err.code, -32603);
    assert.deepEqual(err.data, { kind: 'limit', field: 'context', limit: 1000 });
    const huge = await c.error('host.request_approval', { title: 'T', description: 'd'.repeat(4 * 1024 * 1024) });
    assert.deepEqual(huge.data, { kind: 'limit', field: 'description', limit: 1000 });
    const ok = await c.result('host.request_approval', { title: 'T', context: { small: true } });
    assert.equal(ok.status, 'pending');
  });
});

describe('maxHostEventPayloadBytes', () => {
  // Odd, so that a payload of two-byte characters lands exactly on it.
  const bound = 2001;
  const server = useServer({ maxHostEventPayloadBytes: bound });
  const eventCount = (): number => server.state.host.ringSize.events;

  test('host.notify: a payload of exactly the bound (UTF-8 bytes of its JSON) is recorded, one byte more is refused', async () => {
    const c = await server.authed();
    // {"blob":"…"} is 11 bytes around the text; é is two bytes.
    const fits = await c.result('host.notify', { payload: { blob: 'é'.repeat((bound - 11) / 2) } });
    assert.equal(Buffer.byteLength(JSON.stringify(fits.payload)), bound);
    const before = eventCount();
    const err = await c.error('host.notify', { payload: { blob: `${'é'.repeat((bound - 11) / 2)}x` } });
    assert.equal(err.code, -32603);
    assert.deepEqual(err.data, { kind: 'limit', field: 'payload', limit: bound });
    assert.match(err.message, /payload is over 2001 bytes of JSON/);
    const huge = await c.error('host.notify', { payload: { list: Array(200_000).fill({ a: 1 }) } });
    assert.deepEqual(huge.data, { kind: 'limit', field: 'payload', limit: bound });
    assert.equal(eventCount(), before, 'refused events are not recorded');
  });

  test('host.notify: the message is bounded by the same number of bytes', async () => {
    const c = await server.authed();
    assert.equal((await c.result('host.notify', { message: 'm'.repeat(bound) })).message.length, bound);
    const err = await c.error('host.notify', { message: 'm'.repeat(bound + 1) });
    assert.deepEqual(err.data, { kind: 'limit', field: 'message', limit: bound });
  });

  test('host.set_status: its payload too, and a refused change changes nothing', async () => {
    const c = await server.authed();
    await c.result('host.register_agent', { id: 'ev-a', name: 'A', kind: 'k' });
    const err = await c.error('host.set_status', { agent_id: 'ev-a', status: 'running', payload: { blob: 'p'.repeat(bound) } });
    assert.deepEqual(err.data, { kind: 'limit', field: 'payload', limit: bound });
    const [agent] = (await c.result('host.agents', {})).filter((a: { id: string }) => a.id === 'ev-a');
    assert.equal(agent.status, 'idle');
    assert.equal((await c.result('host.set_status', { agent_id: 'ev-a', status: 'running', payload: { n: 1 } })).status, 'running');
  });
});
