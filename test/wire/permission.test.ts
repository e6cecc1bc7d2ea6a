import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test, { after, before, describe } from 'node:test';
import { ServerState, ServerStateConfig } from '../../src/index.js';
import { EventKind } from '../../src/engine/event-kinds.js';
import { actionFingerprint } from '../../src/engine/permission/fingerprint.js';
import { HOST_TOKEN, startServer, type TestServer, useServer } from '../helpers/server.js';
import { removeTempDir, tempDir } from '../helpers/temp.js';

const RM_ACTION = { id: 'a1', type: 'tool_call', tool: 'shell', parameters: { command: 'rm -rf /tmp/x' } };
const WRITE_ACTION = { id: 'a2', type: 'tool_call', tool: 'write_file', parameters: { path: '/tmp/out', content: 'x' } };
const READ_ACTION = { id: 'a3', type: 'tool_call', tool: 'read_file', parameters: { path: '/tmp/out' } };
const RM_FP = actionFingerprint({ type: 'tool_call', tool: 'shell', parameters: { command: 'rm -rf /tmp/x' } });

describe('permission.* over the wire (host token configured)', () => {
  let server: TestServer;
  let dir: string;
  let approvalsPath: string;
  before(async () => {
    dir = tempDir('car-perm-wire-');
    approvalsPath = join(dir, 'home', 'approvals.jsonl');
    server = await startServer({ approvalsPath });
  });
  after(async () => {
    await server.close();
    removeTempDir(dir);
  });

  const host = async () => {
    const c = await server.connect();
    assert.equal((await c.result('session.auth', { host_token: HOST_TOKEN })).role, 'host');
    return c;
  };

  test('34: a session starts at sandbox_edit', async () => {
    const c = await server.authed();
    assert.deepEqual(await c.result('permission.get_tier', {}), { granted_tier: 'sandbox_edit' });
    assert.deepEqual(await c.result('permission.get_tier'), { granted_tier: 'sandbox_edit' });
  });

  test('38: under a host token only the host may change a tier, lowering included (reference ≈4085)', async () => {
    const c = await server.authed();
    const err = await c.error('permission.set_tier', { tier: 'full_access' });
    assert.equal(err.code, -32603);
    assert.match(err.message, /requires the host role/);
    assert.deepEqual(await c.result('permission.get_tier'), { granted_tier: 'sandbox_edit' });
    assert.match((await c.error('permission.set_tier', { tier: 'read_only' })).message, /requires the host role/, 'lowering too');
    assert.deepEqual(await c.result('permission.get_tier'), { granted_tier: 'sandbox_edit' });

    const h = await host();
    assert.deepEqual(await h.result('permission.set_tier', { tier: 'full_access' }), { granted_tier: 'full_access' });
    assert.deepEqual(await h.result('permission.get_tier'), { granted_tier: 'full_access' });
    // the tier is per connection
    assert.deepEqual(await (await server.authed()).result('permission.get_tier'), { granted_tier: 'sandbox_edit' });
  });

  test('set_tier with an unknown tier → -32602', async () => {
    const c = await host();
    const err = await c.error('permission.set_tier', { tier: 'root' });
    assert.equal(err.code, -32602);
    assert.match(err.message, /tier/);
    assert.equal((await c.error('permission.set_tier', {})).code, -32602);
  });

  test('39: classify of an empty proposal → reversible; rows carry the documented fields', async () => {
    const c = await server.authed();
    assert.deepEqual(await c.result('permission.classify', { proposal: { actions: [] } }), {
      classifications: [],
      declared_rollback_contract: 'reversible',
    });
    await c.result('tools.register', [{ name: 'shell' }]);
    const out = await c.result('permission.classify', {
      proposal: { actions: [RM_ACTION, { ...WRITE_ACTION, reversibility: 'compensable' }] },
    });
    assert.equal(out.declared_rollback_contract, 'irreversible');
    const [rm, write] = out.classifications;
    assert.equal(rm.action_id, 'a1');
    assert.equal(rm.tool, 'shell');
    assert.equal(rm.required_tier, 'full_access');
    assert.equal(rm.reversibility, 'irreversible');
    assert.equal(rm.missing_compensation, false);
    assert.equal(write.required_tier, 'sandbox_edit');
    assert.deepEqual([write.reversibility, write.declared_reversibility], ['compensable', 'compensable']);
  });

  test('the reference example: read_secret is full_access + reversible, db_insert sandbox_edit + compensable, on every row', async () => {
    const c = await server.authed();
    const proposal = {
      actions: [
        { id: 'a1', type: 'tool_call', tool: 'read_secret', parameters: { name: 'prod-db' } },
        { id: 'a2', type: 'tool_call', tool: 'db_insert', parameters: { table: 'orders', row: { id: 1 } } },
      ],
    };
    const rows = (await c.result('permission.classify', { proposal })).classifications;
    assert.deepEqual(rows.map((r: Record<string, unknown>) => [r.action_id, r.required_tier, r.reversibility]), [
      ['a1', 'full_access', 'reversible'],
      ['a2', 'sandbox_edit', 'compensable'],
    ]);
    const decisions = (await c.result('permission.evaluate', { proposal })).decisions;
    assert.deepEqual(decisions.map((d: Record<string, unknown>) => [d.action_id, d.decision, d.reversibility]), [
      ['a1', 'needs_approval', 'reversible'],
      ['a2', 'allow', 'compensable'],
    ]);
    const pending = (await c.result('permission.pending', { proposal })).pending;
    assert.deepEqual(pending.map((d: Record<string, unknown>) => [d.action_id, d.reversibility]), [['a1', 'reversible']]);
  });

  test('a malformed proposal → -32602 naming the field', async () => {
    const c = await server.authed();
    const err = await c.error('permission.classify', { proposal: { actions: [{ id: 'x', type: 'tool_call' }] } });
    assert.equal(err.code, -32602);
    assert.match(err.message, /actions\[0\]\.tool/);
    assert.equal((await c.error('permission.evaluate', { proposal: 'nope' })).code, -32602);
  });

  test('39: pending returns only the needs_approval rows', async () => {
    const c = await server.authed();
    const proposal = { actions: [READ_ACTION, WRITE_ACTION, { ...RM_ACTION, id: 'p1', parameters: { command: 'sudo reboot' } }] };
    const evaluated = await c.result('permission.evaluate', { proposal });
    assert.deepEqual(evaluated.decisions.map((d: { decision: string }) => d.decision), ['allow', 'allow', 'needs_approval']);
    assert.equal(evaluated.skill_ceiling, undefined);
    const { pending } = await c.result('permission.pending', { proposal });
    assert.equal(pending.length, 1);
    assert.equal(pending[0].action_id, 'p1');
    assert.equal(pending[0].decision, 'needs_approval');
    assert.equal(pending[0].required, 'full_access');
    assert.equal(pending[0].granted, 'sandbox_edit');
    assert.match(pending[0].fingerprint, /^fp-[0-9a-f]{64}$/);
    assert.deepEqual(await c.result('permission.pending', { proposal: { actions: [READ_ACTION] } }), { pending: [] });
  });

  test('approve / reject need the host role when a host token is configured', async () => {
    const c = await server.authed();
    const err = await c.error('permission.approve', { fingerprint: RM_FP, required_tier: 'full_access' });
    assert.equal(err.code, -32603);
    assert.match(err.message, /host/);
    assert.equal((await c.error('permission.reject', { action: RM_ACTION })).code, -32603);
  });

  test('37: an approval on connection A applies on connection B, and on a fresh ServerState on the same file', async () => {
    const fp = actionFingerprint({ type: 'tool_call', tool: 'deploy', parameters: { env: 'prod' } });
    const action = { id: 'd1', type: 'tool_call', tool: 'deploy', parameters: { env: 'prod' } };
    const b = await server.authed();
    const before1 = await b.result('permission.evaluate', { proposal: { actions: [action] } });
    assert.equal(before1.decisions[0].decision, 'needs_approval');
    assert.equal(before1.decisions[0].fingerprint, fp);

    const a = await host();
    const record = await a.result('permission.approve', { fingerprint: fp, required_tier: 'full_access', reason: 'release day', evidence: { ticket: 12 } });
    assert.equal(record.fingerprint, fp);
    assert.equal(record.decision, 'approved');
    assert.equal(record.required_tier, 'full_access');
    assert.match(record.reviewer, /^conn:[0-9a-f-]{36}$/);
    assert.equal(record.reason, 'release day');
    assert.deepEqual(record.evidence, { ticket: 12 });
    assert.match(record.recorded_at, /^\d{4}-\d\d-\d\dT/);

    const after1 = await b.result('permission.evaluate', { proposal: { actions: [action] } });
    assert.equal(after1.decisions[0].decision, 'allow');
    assert.deepEqual(await b.result('permission.pending', { proposal: { actions: [action] } }), { pending: [] });

    assert.equal(statSync(approvalsPath).mode & 0o777, 0o600);
    const restarted = ServerState.embedded(new ServerStateConfig({ approvalsPath }));
    assert.equal(restarted.approvals.get(fp)?.decision, 'approved');
    assert.equal(restarted.approvals.get(fp)?.reviewer, record.reviewer);
  });

  test('approve {action} computes the fingerprint and tier; ApprovalRecorded lands in the approver\'s event log', async () => {
    const a = await host();
    const action = { id: 'x9', type: 'tool_call', tool: 'send_email', parameters: { to: 'ops@example.com' } };
    const record = await a.result('permission.approve', { action });
    assert.equal(record.fingerprint, actionFingerprint({ type: 'tool_call', tool: 'send_email', parameters: { to: 'ops@example.com' } }));
    assert.equal(record.required_tier, 'full_access');
    const sessions = [...server.state.sessions.values()];
    const events = sessions.flatMap((s) => s.events.all()).filter((e) => e.kind === EventKind.ApprovalRecorded && e.data.fingerprint === record.fingerprint);
    assert.equal(events.length, 1);
    assert.deepEqual(events[0]!.data, { fingerprint: record.fingerprint, decision: 'approved', required_tier: 'full_access', reviewer: record.reviewer });
    const c = await server.authed();
    const out = await c.result('permission.evaluate', { proposal: { actions: [{ ...action, id: 'other-id' }] } });
    assert.equal(out.decisions[0].decision, 'allow', 'the action id is not part of the fingerprint');
  });

  test('an approval with an understated required_tier does not widen access', async () => {
    const action = { id: 'u1', type: 'tool_call', tool: 'shell', parameters: { command: 'rm -rf /var/tmp/u' } };
    const c = await server.authed();
    const { decisions } = await c.result('permission.evaluate', { proposal: { actions: [action] } });
    const a = await host();
    await a.result('permission.approve', { fingerprint: decisions[0].fingerprint, required_tier: 'sandbox_edit' });
    const out = await c.result('permission.evaluate', { proposal: { actions: [action] } });
    assert.equal(out.decisions[0].decision, 'needs_approval');
    assert.match(out.decisions[0].reason, /covers only sandbox_edit/);
  });

  test('reject → deny on every connection, whatever the tier', async () => {
    const action = { id: 'r1', type: 'tool_call', tool: 'write_file', parameters: { path: '/tmp/rejected' } };
    const a = await host();
    const record = await a.result('permission.reject', { action, reason: 'not this file' });
    assert.equal(record.decision, 'rejected');
    assert.equal(record.required_tier, 'sandbox_edit');
    const out = await a.result('permission.evaluate', { proposal: { actions: [action] } });
    assert.equal(out.decisions[0].decision, 'deny');
    assert.match(out.decisions[0].reason, /not this file/);
    const c = await server.authed();
    assert.equal((await c.result('permission.evaluate', { proposal: { actions: [action] } })).decisions[0].decision, 'deny');
    assert.deepEqual(await c.result('permission.pending', { proposal: { actions: [action] } }), { pending: [] }, 'deny is not pending');
  });

  test('approve params: neither form, half a form, both forms, or a bad fingerprint → -32602', async () => {
    const a = await host();
    assert.equal((await a.error('permission.approve', {})).code, -32602);
    assert.equal((await a.error('permission.approve', { fingerprint: RM_FP })).code, -32602);
    assert.equal((await a.error('permission.approve', { fingerprint: RM_FP, required_tier: 'full_access', action: RM_ACTION })).code, -32602);
    assert.equal((await a.error('permission.approve', { fingerprint: 'abc', required_tier: 'full_access' })).code, -32602);
    assert.equal((await a.error('permission.approve', { fingerprint: RM_FP, required_tier: 'god' })).code, -32602);
    assert.equal((await a.error('permission.approve', { action: { type: 'bogus' } })).code, -32602);
    const huge = await a.error('permission.approve', { fingerprint: RM_FP, required_tier: 'full_access', evidence: 'x'.repeat(70_000) });
    assert.equal(huge.code, -32602);
    assert.match(huge.message, /evidence/);
  });

  test('skill: an explicit deployment_tier caps the granted tier; a bare name applies no ceiling', async () => {
    const c = await server.authed();
    const proposal = { actions: [WRITE_ACTION] };
    const capped = await c.result('permission.evaluate', { proposal, skill: { name: 'scribe', deployment_tier: 'read_only' } });
    assert.equal(capped.skill_ceiling, 'read_only');
    assert.equal(capped.decisions[0].decision, 'needs_approval');
    assert.equal(capped.decisions[0].granted, 'read_only');
    const bare = await c.result('permission.evaluate', { proposal, skill: 'scribe' });
    assert.equal(bare.skill_ceiling, undefined);
    assert.equal(bare.decisions[0].decision, 'allow');
    const pending = await c.result('permission.pending', { proposal, skill: { name: 's', deployment_tier: 'read_only' } });
    assert.equal(pending.pending.length, 1);
  });

  test('the ledger file holds one JSON record per line', () => {
    const lines = readFileSync(approvalsPath, 'utf8').trim().split('\n');
    assert.ok(lines.length >= 4);
    for (const line of lines) assert.ok(JSON.parse(line).fingerprint.startsWith('fp-'));
  });
});

describe('permission.* with no host token configured', () => {
  const server = useServer({ hostToken: null });

  test('any session may raise its tier and approve; the reviewer is agent:<id> for a bound agent', async () => {
    const c = await server.authed({ params: { agent_id: 'builder' } });
    assert.deepEqual(await c.result('permission.set_tier', { tier: 'full_access' }), { granted_tier: 'full_access' });
    const record = await c.result('permission.approve', { fingerprint: RM_FP, required_tier: 'full_access' });
    assert.equal(record.reviewer, 'agent:builder');
    const d = await server.authed();
    const out = await d.result('permission.evaluate', { proposal: { actions: [RM_ACTION] } });
    assert.equal(out.decisions[0].decision, 'allow');
    assert.equal(server.state.approvals.path, null, 'in memory by default');
  });
});
