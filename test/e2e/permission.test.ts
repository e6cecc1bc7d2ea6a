import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { authTokenPath, hostTokenPath, RawClient, RpcFailure, startDaemon, tempDir } from './helpers.js';

const RM = { id: 'a1', type: 'tool_call', tool: 'shell', parameters: { command: 'rm -rf /tmp/x' } };

interface Decision {
  action_id: string;
  fingerprint: string;
  decision: string;
  required: string;
}

test('an approval made through the host token survives a daemon restart on the same CAR_HOME', async (t) => {
  const carHome = tempDir(t);

  const run1 = await startDaemon(t, { carHome });
  const hostClient = await RawClient.connect(t, run1.url);
  assert.deepEqual(await hostClient.result('session.auth', { host_token: readFileSync(hostTokenPath(carHome), 'utf8') }), {
    ok: true,
    auth_enabled: true,
    role: 'host',
  });
  const agent = await RawClient.connect(t, run1.url);
  await agent.result('session.auth', { token: readFileSync(authTokenPath(carHome), 'utf8') });
  await assert.rejects(agent.result('permission.approve', { action: RM }), (err: RpcFailure) => err.code === -32603 && /host/.test(err.message));

  const before = (await agent.result('permission.evaluate', { proposal: { actions: [RM] } })) as { decisions: Decision[] };
  assert.equal(before.decisions[0]?.decision, 'needs_approval');
  assert.equal(before.decisions[0]?.required, 'full_access');
  const fingerprint = before.decisions[0]!.fingerprint;
  const record = (await hostClient.result('permission.approve', { fingerprint, required_tier: 'full_access' })) as Record<string, unknown>;
  assert.equal(record.fingerprint, fingerprint);
  assert.equal(record.decision, 'approved');
  assert.deepEqual(await run1.stop(), { code: 0, signal: null });

  const ledger = join(carHome, 'approvals.jsonl');
  assert.equal(statSync(ledger).mode & 0o777, 0o600);
  assert.equal(readFileSync(ledger, 'utf8').trim().split('\n').length, 1);

  const run2 = await startDaemon(t, { carHome });
  const client = await RawClient.connect(t, run2.url);
  await client.result('session.auth', { token: readFileSync(authTokenPath(carHome), 'utf8') });
  const after = (await client.result('permission.evaluate', { proposal: { actions: [RM] } })) as { decisions: Decision[] };
  assert.equal(after.decisions[0]?.fingerprint, fingerprint);
  assert.equal(after.decisions[0]?.decision, 'allow');
  assert.deepEqual(await client.result('permission.pending', { proposal: { actions: [RM] } }), { pending: [] });
  assert.deepEqual(await run2.stop(), { code: 0, signal: null });
});
