import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { EventKind } from '../../src/engine/event-kinds.js';
import { actionFingerprint } from '../../src/engine/permission/fingerprint.js';
import { delay } from '../helpers/raw-client.js';
import { HOST_TOKEN, useServer } from '../helpers/server.js';

describe('proposal.submit behind the permission gate (behaviours 35, 36)', () => {
  const server = useServer();

  const host = async () => {
    const c = await server.connect();
    await c.result('session.auth', { host_token: HOST_TOKEN });
    return c;
  };

  test('35: one full_access action → every action rejected, no callback, no state written, the error names the fingerprint', async () => {
    const c = await server.authed();
    await c.result('tools.register', [{ name: 'shell' }, { name: 'echo' }]);
    const proposal = {
      id: 'p-35',
      actions: [
        { id: 'w', type: 'state_write', parameters: { key: 'written', value: 1 } },
        { id: 'e', type: 'tool_call', tool: 'echo', parameters: { msg: 'hi' } },
        { id: 'a1', type: 'tool_call', tool: 'shell', parameters: { command: 'rm -rf /tmp/x' }, dependencies: ['w'] },
      ],
    };
    const fp = actionFingerprint({ type: 'tool_call', tool: 'shell', parameters: { command: 'rm -rf /tmp/x' } });
    const err = await c.error('proposal.submit', { proposal });
    assert.equal(err.code, -32603);
    assert.equal(
      err.message,
      `permission denied: action 'a1' (fingerprint ${fp}) requires full_access, session is granted sandbox_edit; approve it with permission.approve`,
    );
    const data = err.data as { blocked: Record<string, unknown>[]; results: { action_id: string; status: string }[] };
    assert.deepEqual(
      data.blocked.map((b) => [b.action_id, b.fingerprint, b.required, b.granted, b.decision]),
      [['a1', fp, 'full_access', 'sandbox_edit', 'needs_approval']],
    );
    assert.deepEqual(data.results.map((r) => [r.action_id, r.status]), [
      ['w', 'rejected'],
      ['e', 'rejected'],
      ['a1', 'rejected'],
    ]);
    await delay(50);
    assert.equal(c.pendingFrames, 0, 'no tools.execute was sent');
    assert.equal(await c.result('state.get', { key: 'written' }), null);
    assert.equal(await c.result('state.exists', { key: 'written' }), false);

    const session = [...server.state.sessions.values()].find((s) => s.events.all().some((e) => e.proposal_id === 'p-35'))!;
    const events = session.events.all().filter((e) => e.proposal_id === 'p-35');
    const gate = events.filter((e) => e.kind === EventKind.GateRejection);
    assert.equal(gate.length, 1);
    assert.equal(gate[0]!.data.gate, 'permission');
    const decisions = events.filter((e) => e.kind === EventKind.PermissionDecision);
    assert.equal(decisions.reduce((n, e) => n + (e.data.count as number), 0), 3, 'every action decided once');
    assert.ok(decisions.some((e) => e.action_id === 'a1' && e.data.decision !== 'allow'));
    assert.ok(!events.some((e) => e.kind === EventKind.ActionSucceeded || e.kind === EventKind.ActionFailed));
  });

  test('36: approve the blocked fingerprint, resubmit → the action executes', async () => {
    const c = await server.authed();
    await c.result('tools.register', [{ name: 'shell' }]);
    const proposal = { actions: [{ id: 'a1', type: 'tool_call', tool: 'shell', parameters: { command: 'rm -rf /tmp/car-36' } }] };
    const err = await c.error('proposal.submit', { proposal });
    const blocked = (err.data as { blocked: { fingerprint: string; required: string }[] }).blocked[0]!;

    const h = await host();
    await h.result('permission.approve', { fingerprint: blocked.fingerprint, required_tier: blocked.required });

    const pending = c.call('proposal.submit', { proposal });
    const req = await c.next();
    assert.equal(req.method, 'tools.execute');
    assert.equal(req.params.tool, 'shell');
    assert.deepEqual(req.params.parameters, { command: 'rm -rf /tmp/car-36' });
    c.send({ jsonrpc: '2.0', id: req.id, result: { stdout: '', code: 0 } });
    const reply = await pending;
    assert.ok('result' in reply, JSON.stringify(reply));
    assert.equal(reply.result.results[0].action_id, 'a1');
    assert.equal(reply.result.results[0].status, 'succeeded');
    assert.deepEqual(reply.result.results[0].output, { stdout: '', code: 0 });
  });

  test('an approval recorded with an understated tier still blocks submit', async () => {
    const c = await server.authed();
    await c.result('tools.register', [{ name: 'shell' }]);
    const proposal = { actions: [{ id: 'a1', type: 'tool_call', tool: 'shell', parameters: { command: 'sudo rm /etc/hosts' } }] };
    const fp = (await c.result('permission.evaluate', { proposal })).decisions[0].fingerprint;
    await (await host()).result('permission.approve', { fingerprint: fp, required_tier: 'read_only' });
    const err = await c.error('proposal.submit', { proposal });
    assert.equal(err.code, -32603);
    assert.match(err.message, new RegExp(fp));
    await delay(20);
    assert.equal(c.pendingFrames, 0);
  });

  test('within the tier nothing is asked: shell "echo hi" runs at the default tier', async () => {
    const c = await server.authed();
    await c.result('tools.register', [{ name: 'shell' }]);
    const pending = c.call('proposal.submit', {
      proposal: { actions: [{ id: 'a1', type: 'tool_call', tool: 'shell', parameters: { command: 'echo hi' } }] },
    });
    const req = await c.next();
    c.send({ jsonrpc: '2.0', id: req.id, result: { stdout: 'hi\n', stderr: '', code: 0 } });
    const reply = await pending;
    assert.equal(reply.result.results[0].status, 'succeeded');
  });

  test('a lowered tier blocks an edit: the message names required and granted tiers', async () => {
    const c = await server.connect();
    await c.result('session.auth', { host_token: HOST_TOKEN });
    await c.result('tools.register', [{ name: 'write_file' }]);
    await c.result('permission.set_tier', { tier: 'read_only' });
    const err = await c.error('proposal.submit', {
      proposal: { actions: [{ id: 'w1', type: 'tool_call', tool: 'write_file', parameters: { path: '/tmp/a', content: 'x' } }] },
    });
    assert.equal(err.code, -32603);
    assert.match(err.message, /action 'w1' \(fingerprint fp-[0-9a-f]{64}\) requires sandbox_edit, session is granted read_only/);
    await delay(20);
    assert.equal(c.pendingFrames, 0);
  });

  test('a rejected fingerprint blocks submit even at full_access', async () => {
    const h = await host();
    await h.result('tools.register', [{ name: 'write_file' }]);
    await h.result('permission.set_tier', { tier: 'full_access' });
    const action = { id: 'w2', type: 'tool_call', tool: 'write_file', parameters: { path: '/tmp/never' } };
    await h.result('permission.reject', { action, reason: 'never' });
    const err = await h.error('proposal.submit', { proposal: { actions: [action] } });
    assert.equal(err.code, -32603);
    assert.match(err.message, /was rejected/);
    assert.equal((err.data as { blocked: { decision: string }[] }).blocked[0]!.decision, 'deny');
  });
});
