import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { HOST_TOKEN, useServer } from '../helpers/server.js';
import type { RawClient } from '../helpers/raw-client.js';

/** Run writes are owner-binding only (upstream): the caller's agent binding must be the run's agent. */

describe('runs ownership', () => {
  const server = useServer();
  let seq = 0;
  const agent = (id = `own-${++seq}`): Promise<RawClient> => server.authed({ params: { agent_id: id } });

  test('runs.complete by a stranger, an unbound session or the host is refused as not found; the run stays open', async () => {
    const owner = await agent();
    const { run_id } = await owner.result('runs.start', { intent: 'mine' });
    const host = await server.connect();
    await host.result('session.auth', { host_token: HOST_TOKEN });
    for (const other of [await agent(), await server.authed(), host]) {
      const err = await other.error('runs.complete', { run_id, outcome: { status: 'hijacked' } });
      assert.equal(err.code, -32603);
      assert.match(err.message, /not found/);
    }
    const trace = await owner.result('runs.get_trace', { run_id });
    assert.equal(trace.records.at(-1).kind, 'started', 'still open');
    assert.deepEqual(await owner.result('runs.complete', { run_id, outcome: { status: 'done' } }), { run_id, ok: true });
  });

  test('the connection that started a run for another agent cannot write it', async () => {
    const starter = await server.authed();
    const { run_id } = await starter.result('runs.start', { intent: 'for someone', agent_id: 'own-target' });
    assert.equal((await starter.result('runs.record_turns', { run_id, turns: [{}] })).dropped, 'run_not_found');
    assert.match((await starter.error('runs.complete', { run_id, outcome: { status: 'x' } })).message, /not found/);
    assert.match((await starter.error('runs.get_trace', { run_id })).message, /can be read only by its agent or the host/);
  });

  test('runs.start with another agent\'s idempotency_key is refused without naming that agent', async () => {
    const owner = await agent('own-secret-agent');
    await owner.result('runs.start', { intent: 'x', idempotency_key: 'shared-key' });
    const other = await agent();
    const err = await other.error('runs.start', { intent: 'y', idempotency_key: 'shared-key' });
    assert.equal(err.code, -32603);
    assert.equal((err.data as { kind: string }).kind, 'conflict');
    assert.ok(!JSON.stringify(err).includes('own-secret-agent'), JSON.stringify(err));
    assert.deepEqual(await owner.result('runs.start', { intent: 'again', idempotency_key: 'shared-key' }), {
      run_id: 'shared-key',
      agent_id: 'own-secret-agent',
    });
  });
});
