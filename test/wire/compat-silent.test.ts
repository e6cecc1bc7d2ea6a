import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { AUTH_TOKEN, HOST_TOKEN, useServer } from '../helpers/server.js';

/** Behaviours the upstream reference leaves open, as this daemon pins them. */
describe('where the reference is silent', () => {
  const server = useServer();

  test('re-authenticating with the plain token drops the host role and any tier only the host could grant', async () => {
    const c = await server.connect();
    assert.equal((await c.result('session.auth', { host_token: HOST_TOKEN })).role, 'host');
    assert.deepEqual(await c.result('permission.set_tier', { tier: 'full_access' }), { granted_tier: 'full_access' });
    const again = await c.result('session.auth', { token: AUTH_TOKEN });
    assert.equal(again.role, undefined);
    assert.match((await c.error('permission.set_tier', { tier: 'full_access' })).message, /requires the host role/);
    assert.deepEqual(await c.result('permission.get_tier'), { granted_tier: 'sandbox_edit' });
    const back = await c.result('session.auth', { host_token: HOST_TOKEN });
    assert.equal(back.role, 'host', 'the host token restores it');
  });

  test('host event history is immutable: a later status change does not rewrite the registered event', async () => {
    const c = await server.authed();
    const agent = await c.result('host.register_agent', { id: 'history-1', name: 'Historian', kind: 'k' });
    assert.equal(agent.status, 'idle');
    const registered = (await c.result('host.events', { limit: 500 })).events.find(
      (e: { kind: string; agent_id: string }) => e.kind === 'agent.registered' && e.agent_id === 'history-1',
    );
    await c.result('host.set_status', { agent_id: 'history-1', status: 'running', current_task: 'digging' });
    const later = (await c.result('host.events', { limit: 500 })).events.find((e: { id: string }) => e.id === registered.id);
    assert.deepEqual(later, registered);
    assert.equal(later.payload.agent.status, 'idle');
    const stored = server.state.host.events(500).find((e) => e.id === registered.id)!;
    assert.ok(Object.isFrozen(stored) && Object.isFrozen(stored.payload));
  });

  test('host.unregister_agent of an unknown id is {ok: false}; of an owned one {ok: true}', async () => {
    const c = await server.authed();
    assert.deepEqual(await c.result('host.unregister_agent', { agent_id: 'nobody-here' }), { ok: false });
    await c.result('host.register_agent', { id: 'leaver', name: 'Leaver', kind: 'k' });
    assert.deepEqual(await c.result('host.unregister_agent', { agent_id: 'leaver' }), { ok: true });
    assert.deepEqual(await c.result('host.unregister_agent', { agent_id: 'leaver' }), { ok: false });
  });
});
