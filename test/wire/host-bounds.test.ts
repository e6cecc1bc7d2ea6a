import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { HOST_TOKEN, startServer, useServer } from '../helpers/server.js';
import { waitFor } from '../helpers/raw-client.js';

/** Per-session state bytes, the host ring's bytes, pending approvals, ownership and redaction, each at its bound. */

describe('state.set bytes', () => {
  const server = useServer({ maxStateValueBytes: 100, maxStateBytesPerSession: 300 });

  test('maxStateValueBytes: a value of exactly the bound is stored, one byte more is refused', async () => {
    const c = await server.authed();
    // JSON of a string is its text plus two quotes.
    assert.equal(await c.result('state.set', { key: 'v', value: 'x'.repeat(98) }), 'ok');
    const err = await c.error('state.set', { key: 'w', value: 'x'.repeat(99) });
    assert.equal(err.code, -32603);
    assert.deepEqual(err.data, { kind: 'limit', field: 'value', limit: 100 });
    assert.match(err.message, /101 bytes of JSON; one value may hold at most 100/);
    assert.equal(await c.result('state.exists', { key: 'w' }), false);
  });

  test('maxStateBytesPerSession: keys and values of all tenants count; overwriting and deleting give bytes back', async () => {
    const c = await server.authed();
    await c.result('state.set', { key: 'a', value: 'x'.repeat(98) }); // 1 + 100
    await c.result('state.set', { key: 'b', value: 'x'.repeat(98), tenant_id: 't' }); // "tenant:t:b" 10 + 100
    await c.result('state.set', { key: 'c', value: 'x'.repeat(87 - 1) }); // 1 + 88 → exactly 300
    const err = await c.error('state.set', { key: 'd', value: 1 });
    assert.equal(err.code, -32603);
    assert.deepEqual(err.data, { kind: 'limit', field: 'value', limit: 300 });
    assert.equal(await c.result('state.set', { key: 'c', value: 'x'.repeat(84) }), 'ok', 'a smaller overwrite fits');
    assert.equal(await c.result('state.set', { key: 'd', value: 1 }), 'ok');
    const other = await server.authed();
    assert.equal(await other.result('state.set', { key: 'a', value: 'x'.repeat(98) }), 'ok', 'the bound is per session');
  });
});

describe('the host event ring by bytes and by count', () => {
  const server = useServer({ maxHostEvents: 5, maxHostEventBytes: 4000 });

  test('maxHostEvents: the ring keeps the last 5', async () => {
    const c = await server.authed();
    for (let i = 0; i < 7; i++) await c.result('host.notify', { message: `m${i}` });
    const { events } = await c.result('host.events', { limit: 500 });
    assert.deepEqual(events.map((e: { message: string }) => e.message), ['m2', 'm3', 'm4', 'm5', 'm6']);
  });

  test('maxHostEventBytes: big events push old ones out until the JSON fits; the newest always stays', async () => {
    const c = await server.authed();
    for (let i = 0; i < 5; i++) await c.result('host.notify', { message: `b${i}`, payload: { blob: 'x'.repeat(1500) } });
    const { events } = await c.result('host.events', { limit: 500 });
    assert.deepEqual(events.map((e: { message: string }) => e.message), ['b3', 'b4']);
    assert.ok(server.state.host.ringSize.bytes <= 4000, JSON.stringify(server.state.host.ringSize));
    await c.result('host.notify', { message: 'huge', payload: { blob: 'x'.repeat(10_000) } });
    const after = await c.result('host.events', { limit: 500 });
    assert.deepEqual(after.events.map((e: { message: string }) => e.message), ['huge']);
    const snap = await (await server.authed({ handshake: true })).result('host.subscribe', {});
    assert.deepEqual(snap.events.map((e: { message: string }) => e.message), ['huge']);
  });
});

describe('pending approvals per session', () => {
  const server = useServer({ maxPendingApprovalsPerSession: 3, maxInFlightPerConnection: 8 });

  test('maxPendingApprovalsPerSession: request_approval past the bound is refused; a decision frees a slot', async () => {
    const c = await server.authed();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await c.result('host.request_approval', { title: `t${i}` })).id);
    const err = await c.error('host.request_approval', { title: 'one too many' });
    assert.equal(err.code, -32603);
    assert.deepEqual(err.data, { kind: 'limit', limit: 3 });
    await c.result('host.resolve_approval', { approval_id: ids[0], approved: true });
    assert.equal(server.state.host.pendingCount(), 2, 'the decided one left the pending set');
    assert.ok((await c.result('host.request_approval', { title: 'fits again' })).id);
    await c.close();
    await waitFor(() => server.state.host.pendingCount() === 0, undefined, 'the closed session’s approvals to go');
    const listed = (await (await server.authed()).result('host.approvals', {})).approvals;
    assert.equal(listed.filter((a: { id: string }) => ids.includes(a.id)).length, 0, 'decided ones of a closed session go too');
  });

  test('gated notifications count against the in-flight cap and the pending bound; all go when the sender closes', async () => {
    const c = await server.authed();
    for (let i = 0; i < 200; i++) c.notify('messages.send', { to: 'x', body: `n${i}` });
    // A request behind them is answered, so every notification before it was seen.
    const busy = await c.call('host.agents', {});
    assert.ok('result' in busy || busy.error.code === -32603, JSON.stringify(busy));
    assert.ok(server.state.host.pendingCount() <= 3, `pending ${server.state.host.pendingCount()}`);
    assert.ok(server.state.host.waitingCount <= 3);
    await c.close();
    await waitFor(() => server.state.host.pendingCount() === 0 && server.state.host.waitingCount === 0, undefined, 'the gate waits to end');
  });
});

describe('ownership and redaction', () => {
  const server = useServer();

  test('agents, devices and approvals of a closed session leave the host view', async () => {
    const owner = await server.authed();
    const watcher = await server.authed({ handshake: true });
    await owner.result('host.register_agent', { id: 'ag-gone', name: 'Gone', kind: 'worker' });
    await owner.result('host.register_device', { id: 'dev-gone', name: 'Laptop', platform: 'linux' });
    const ap = await owner.result('host.request_approval', { title: 'please' });
    await watcher.result('host.subscribe', {});
    await owner.close();
    await waitFor(() => server.state.host.getApproval(ap.id) === undefined, undefined, 'the approval to go');
    assert.deepEqual((await watcher.result('host.agents', {})).filter((a: { id: string }) => a.id === 'ag-gone'), []);
    assert.deepEqual((await watcher.result('host.devices', {})).filter((d: { id: string }) => d.id === 'dev-gone'), []);
    const kinds = (await watcher.result('host.events', { limit: 10 })).events.map((e: { kind: string }) => e.kind);
    assert.ok(kinds.includes('agent.unregistered') && kinds.includes('device.removed'), kinds.join(','));
  });

  test('credential-looking keys are redacted for sessions other than the owner and the host', async () => {
    const owner = await server.authed();
    const other = await server.authed({ handshake: true });
    const host = await server.connect();
    await host.result('session.auth', { host_token: HOST_TOKEN });
    const context = { api_key: 'sk-live-123', nested: { password: 'hunter2', page_token: 'p2' }, note: 'visible' };
    await other.result('host.subscribe', {});
    const ap = await owner.result('host.request_approval', { title: 'deploy', context });
    assert.deepEqual(ap.context, context, 'the owner sees its own approval whole');
    const seen = (await other.result('host.approvals', {})).approvals.find((a: { id: string }) => a.id === ap.id);
    assert.deepEqual(seen.context, { api_key: '[redacted]', nested: { password: '[redacted]', page_token: 'p2' }, note: 'visible' });
    const event = await other.next();
    assert.equal(event.method, 'host.event');
    assert.equal(event.params.payload.approval.context.api_key, '[redacted]', 'the broadcast is redacted too');
    const ring = (await other.result('host.events', { limit: 5 })).events.find((e: { kind: string; payload: { approval?: { id: string } } }) => e.kind === 'approval.requested' && e.payload.approval?.id === ap.id);
    assert.equal(ring.payload.approval.context.nested.password, '[redacted]');
    const hostView = (await host.result('host.approvals', {})).approvals.find((a: { id: string }) => a.id === ap.id);
    assert.deepEqual(hostView.context, context, 'the host role sees it whole');
  });

  test('a gate approval shows its params preview redacted to other sessions', async () => {
    const caller = await server.authed();
    const other = await server.authed();
    const pending = caller.call('messages.send', { to: 'x', token: 'abc-secret', body: 'hi' });
    await waitFor(() => server.state.host.pendingCount() > 0, undefined, 'the gate approval');
    const row = (await other.result('host.approvals', {})).approvals.find((a: { status: string; action: string }) => a.status === 'pending' && a.action === 'ws.method:messages.send');
    assert.ok(!row.details.params_preview.includes('abc-secret'), row.details.params_preview);
    assert.match(row.details.params_preview, /"token":"\[redacted\]"/);
    await other.result('host.resolve_approval', { approval_id: row.id, approved: false });
    assert.equal((await pending).error.code, -32003);
  });
});

test('a timed-out gate approval leaves the pending set (status expired)', async () => {
  const server = await startServer({ approvalGate: { enabled: true, methods: ['messages.send'], timeoutMs: 50 } });
  try {
    const c = await server.authed();
    const err = await c.error('messages.send', { to: 'x' });
    assert.equal(err.code, -32003);
    assert.equal(server.state.host.pendingCount(), 0);
    const id = (err.data as { approval_id: string }).approval_id;
    assert.equal(server.state.host.getApproval(id)?.status, 'expired');
  } finally {
    await server.close();
  }
});
