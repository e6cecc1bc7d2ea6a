import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import test, { describe } from 'node:test';
import { delay, waitFor, type RawClient } from '../helpers/raw-client.js';
import { ServerStateConfig } from '../../src/index.js';
import { type TestServer, useServer } from '../helpers/server.js';

type Frame = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const echoProposal = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  source: 'wire-test',
  actions: [{ id: 'e', type: 'tool_call', tool: 'echo', parameters: { msg: 'top-secret', n: 7 }, ...extra }],
});

async function agentWithEcho(server: TestServer): Promise<RawClient> {
  const c = await server.authed();
  await c.result('tools.register', [{ name: 'echo' }]);
  return c;
}

/** Answer the one tools.execute callback the agent is sent. */
async function answerEcho(agent: RawClient): Promise<void> {
  const req = await agent.next();
  assert.equal(req.method, 'tools.execute');
  agent.send({ jsonrpc: '2.0', id: req.id, result: { echoed: true } });
}

async function nextIntent(sup: RawClient): Promise<Frame> {
  const frame = await sup.next();
  assert.equal(frame.method, 'supervision.intent');
  assert.equal(frame.id, undefined, 'a notification');
  return frame.params;
}

describe('supervision over the wire (behaviours 58–63)', () => {
  const server = useServer();

  test('58: subscribe{} → subscribed, the 30 s default timeout, one supervisor; unsubscribe reports it', async () => {
    const sup = await server.authed();
    assert.deepEqual(await sup.result('supervision.subscribe', {}), { subscribed: true, decision_timeout_ms: 30000, supervisors: 1 });
    assert.deepEqual(await sup.result('supervision.subscribe', { filter: { tools: ['x'] } }), {
      subscribed: true,
      decision_timeout_ms: 30000,
      supervisors: 1,
    });
    const other = await server.authed();
    assert.equal((await other.result('supervision.subscribe')).supervisors, 2);
    assert.deepEqual(await sup.result('supervision.unsubscribe', {}), { subscribed: false, was_subscribed: true });
    assert.deepEqual(await sup.result('supervision.unsubscribe', {}), { subscribed: false, was_subscribed: false });
    await other.close();
    await waitFor(() => server.state.supervision.supervisorCount === 0, undefined, 'disconnect to unsubscribe');
  });

  test('59/60: a proposal on another connection blocks, the intent has keys and digest only; allow lets it run', async () => {
    const sup = await server.authed();
    await sup.result('supervision.subscribe', {});
    const agent = await agentWithEcho(server);
    const { session_id: sess } = await agent.result('session.policy.open');
    const reply = agent.call('proposal.submit', { proposal: echoProposal('p-59'), session_id: sess });
    const intent = await nextIntent(sup);
    assert.equal(intent.proposal_id, 'p-59');
    assert.equal(intent.source, 'wire-test');
    assert.equal(intent.session_id, sess);
    assert.equal(intent.reversibility, 'irreversible');
    assert.match(intent.created_at, /^\d{4}-\d\d-\d\dT/);
    assert.equal(intent.actions.length, 1);
    const a = intent.actions[0];
    assert.deepEqual(Object.keys(a).sort(), ['action_type', 'id', 'parameter_keys', 'parameters_digest', 'reversibility', 'tool']);
    assert.deepEqual([a.id, a.action_type, a.tool, a.reversibility], ['e', 'tool_call', 'echo', 'irreversible']);
    assert.deepEqual(a.parameter_keys, ['msg', 'n']);
    assert.equal(a.parameters_digest, createHash('sha256').update('{"msg":"top-secret","n":7}').digest('hex'));
    assert.ok(!JSON.stringify(intent).includes('top-secret'), 'no parameter values');

    await delay(50);
    assert.equal(agent.pendingFrames, 0, 'blocked: no tools.execute yet');
    const pending = (await sup.result('supervision.pending')).intents;
    assert.deepEqual(pending.map((i: Frame) => i.id), [intent.id]);

    assert.deepEqual(await sup.result('supervision.decide', { intent_id: intent.id, decision: { kind: 'allow' } }), { decided: true });
    await answerEcho(agent);
    const res = await reply;
    assert.equal(res.result.results[0].status, 'succeeded');
    assert.deepEqual((await sup.result('supervision.pending')).intents, []);
    await sup.close();
  });

  test('60: deny → -32603 naming the intent and the reason; nothing runs, nothing is written', async () => {
    const sup = await server.authed();
    await sup.result('supervision.subscribe', {});
    const agent = await agentWithEcho(server);
    const proposal = {
      id: 'p-60',
      actions: [{ id: 'w', type: 'state_write', parameters: { key: 'k60', value: 1 } }, ...echoProposal('x').actions],
    };
    const reply = agent.call('proposal.submit', { proposal });
    const intent = await nextIntent(sup);
    await sup.result('supervision.decide', { intent_id: intent.id, decision: { kind: 'deny', reason: 'not today' } });
    const res = await reply;
    assert.equal(res.error.code, -32603);
    assert.match(res.error.message, new RegExp(`intent ${intent.id}.*denied.*not today`));
    assert.equal(res.error.data.intent_id, intent.id);
    await delay(50);
    assert.equal(agent.pendingFrames, 0, 'no tools.execute');
    assert.equal(await agent.result('state.exists', { key: 'k60' }), false);
    await sup.close();
  });

  test('allow does not bypass the permission gate', async () => {
    const sup = await server.authed();
    await sup.result('supervision.subscribe', {});
    const agent = await server.authed();
    await agent.result('tools.register', [{ name: 'shell' }]);
    const reply = agent.call('proposal.submit', {
      proposal: { id: 'p-perm', actions: [{ id: 's', type: 'tool_call', tool: 'shell', parameters: { command: 'rm -rf /tmp/x' } }] },
    });
    const intent = await nextIntent(sup);
    await sup.result('supervision.decide', { intent_id: intent.id, decision: { kind: 'allow' } });
    const res = await reply;
    assert.equal(res.error.code, -32603);
    assert.match(res.error.message, /^permission denied/);
    await sup.close();
  });

  test('escalate parks the proposal on the host approval ledger: approve runs it, deny rejects it', async () => {
    const sup = await server.authed();
    await sup.result('supervision.subscribe', {});
    const human = await server.authed();
    const agent = await agentWithEcho(server);

    const reply = agent.call('proposal.submit', { proposal: echoProposal('p-esc') });
    const intent = await nextIntent(sup);
    await sup.result('supervision.decide', { intent_id: intent.id, decision: { kind: 'escalate', reason: 'ask a human' } });
    let approval: Frame | undefined;
    await waitFor(() => (approval = server.state.host.listApprovals().find((a) => a.action === 'supervision.escalate' && a.status === 'pending')) !== undefined);
    assert.equal(approval!.client_id, null, 'a system approval');
    assert.equal(approval!.description, 'ask a human');
    assert.ok(!JSON.stringify(approval).includes('top-secret'), 'the ledger sees no parameter values');
    assert.deepEqual((await sup.result('supervision.pending')).intents, [], 'the intent itself is decided');
    await delay(30);
    assert.equal(agent.pendingFrames, 0, 'still parked');
    await human.result('host.resolve_approval', { approval_id: approval!.id, approved: true });
    await answerEcho(agent);
    assert.equal((await reply).result.results[0].status, 'succeeded');

    const denied = agent.call('proposal.submit', { proposal: echoProposal('p-esc-2') });
    const i2 = await nextIntent(sup);
    await sup.result('supervision.decide', { intent_id: i2.id, decision: { kind: 'escalate', reason: 'again' } });
    let a2: Frame | undefined;
    await waitFor(() => (a2 = server.state.host.listApprovals().find((a) => a.action === 'supervision.escalate' && a.status === 'pending')) !== undefined);
    await human.result('host.resolve_approval', { approval_id: a2!.id, approved: false });
    const res = await denied;
    assert.equal(res.error.code, -32603);
    assert.match(res.error.message, new RegExp(`intent ${i2.id} was escalated \\(again\\) and approval ${a2!.id} was denied`));
    assert.equal(res.error.data.approval_id, a2!.id);
    await delay(30);
    assert.equal(agent.pendingFrames, 0, 'nothing ran');
    await sup.close();
  });

  test('62: decide on an unknown or decided intent → error; deny/escalate without a reason → error', async () => {
    const sup = await server.authed();
    await sup.result('supervision.subscribe', {});
    const unknown = await sup.error('supervision.decide', { intent_id: 'intent-nope', decision: { kind: 'allow' } });
    assert.equal(unknown.code, -32603);
    assert.match(unknown.message, /no pending intent intent-nope/);

    const agent = await agentWithEcho(server);
    const reply = agent.call('proposal.submit', { proposal: echoProposal('p-62') });
    const intent = await nextIntent(sup);
    const noReason = await sup.error('supervision.decide', { intent_id: intent.id, decision: { kind: 'deny' } });
    assert.equal(noReason.code, -32602);
    const noReasonEsc = await sup.error('supervision.decide', { intent_id: intent.id, decision: { kind: 'escalate' } });
    assert.equal(noReasonEsc.code, -32602);
    const badKind = await sup.error('supervision.decide', { intent_id: intent.id, decision: { kind: 'maybe' } });
    assert.equal(badKind.code, -32602);
    await sup.result('supervision.decide', { intent_id: intent.id, decision: { kind: 'allow' } });
    const again = await sup.error('supervision.decide', { intent_id: intent.id, decision: { kind: 'allow' } });
    assert.equal(again.code, -32603);
    assert.match(again.message, /already decided/);
    await answerEcho(agent);
    assert.equal((await reply).result.results[0].status, 'succeeded');
    await sup.close();
  });

  test('63: min_reversibility compensable holds irreversible, lets reversible through; tools filter', async () => {
    const sup = await server.authed();
    await sup.result('supervision.subscribe', { filter: { min_reversibility: 'compensable' } });
    const agent = await agentWithEcho(server);
    const reversible = await agent.result('proposal.submit', {
      proposal: { id: 'p-rev', actions: [{ id: 'w', type: 'state_write', parameters: { key: 'r', value: 1 }, reversibility: 'reversible' }] },
    });
    assert.equal(reversible.results[0].status, 'succeeded', 'not held');
    assert.equal(sup.pendingFrames, 0);

    const reply = agent.call('proposal.submit', { proposal: echoProposal('p-irr') });
    const intent = await nextIntent(sup);
    assert.equal(intent.proposal_id, 'p-irr');
    await sup.result('supervision.decide', { intent_id: intent.id, decision: { kind: 'allow' } });
    await answerEcho(agent);
    assert.equal((await reply).result.results[0].status, 'succeeded');

    await sup.result('supervision.subscribe', { filter: { tools: ['other'] } });
    const free = agent.call('proposal.submit', { proposal: echoProposal('p-free') });
    await answerEcho(agent);
    assert.equal((await free).result.results[0].status, 'succeeded');
    assert.equal(sup.pendingFrames, 0);
    await sup.close();
  });

  test('every matching supervisor receives the intent; pending lists oldest first', async () => {
    const s1 = await server.authed();
    const s2 = await server.authed();
    const agent = await agentWithEcho(server);
    const { session_id: sess } = await agent.result('session.policy.open');
    await s1.result('supervision.subscribe', {});
    await s2.result('supervision.subscribe', { filter: { sessions: [sess] } });
    const r1 = agent.call('proposal.submit', { proposal: echoProposal('p-a') });
    const i1 = await nextIntent(s1);
    const r2 = agent.call('proposal.submit', { proposal: echoProposal('p-b'), session_id: sess });
    const i2 = await nextIntent(s1);
    const i2b = await nextIntent(s2);
    assert.equal(i2b.id, i2.id);
    assert.equal(s2.pendingFrames, 0, 's2 did not see p-a');
    assert.deepEqual((await s2.result('supervision.pending')).intents.map((i: Frame) => i.proposal_id), ['p-a', 'p-b']);
    await s2.result('supervision.decide', { intent_id: i1.id, decision: { kind: 'deny', reason: 'no' } });
    await s1.result('supervision.decide', { intent_id: i2.id, decision: { kind: 'deny', reason: 'no' } });
    assert.equal((await r1).error.code, -32603);
    assert.equal((await r2).error.code, -32603);
    await s1.close();
    await s2.close();
  });
});

describe('supervision decision timeout (behaviour 61)', () => {
  const server = useServer({ supervisionDecisionTimeoutMs: 200 });

  test('61: no decision → rejected at the timeout, even after the supervisor disconnected', async () => {
    const sup = await server.authed();
    assert.equal((await sup.result('supervision.subscribe', {})).decision_timeout_ms, 200);
    const agent = await agentWithEcho(server);
    const started = Date.now();
    const reply = agent.call('proposal.submit', { proposal: echoProposal('p-61') });
    const intent = await nextIntent(sup);
    await sup.close();
    await waitFor(() => server.state.supervision.supervisorCount === 0, undefined, 'the supervisor to leave');
    // The verdict is the timeout's, not the disconnect's: the intent waited on without its supervisor.
    const res = await reply;
    const waited = Date.now() - started;
    assert.equal(res.error.code, -32603);
    assert.match(res.error.message, new RegExp(`no decision on intent ${intent.id} within 200 ms`));
    assert.equal(res.error.data.kind, 'timeout');
    assert.ok(waited >= 150, `waited ${waited} ms`);
    assert.equal(agent.pendingFrames, 0, 'nothing ran');

    const late = await server.authed();
    const err = await late.error('supervision.decide', { intent_id: intent.id, decision: { kind: 'allow' } });
    assert.equal(err.code, -32603);
    assert.match(err.message, /timed out/);
    assert.deepEqual((await late.result('supervision.pending')).intents, []);
  });

});

describe('an escalation nobody resolves', () => {
  const server = useServer({ approvalGate: { ...ServerStateConfig.defaults().approvalGate, timeoutMs: 150 } });

  test('rejects at the approval timeout; the row expires', async () => {
    const sup = await server.authed();
    await sup.result('supervision.subscribe', {});
    const agent = await agentWithEcho(server);
    const reply = agent.call('proposal.submit', { proposal: echoProposal('p-esc-t') });
    const intent = await nextIntent(sup);
    await sup.result('supervision.decide', { intent_id: intent.id, decision: { kind: 'escalate', reason: 'unsure' } });
    const res = await reply;
    assert.equal(res.error.code, -32603);
    assert.match(res.error.message, /was not resolved within 150 ms and has expired/);
    const row = server.state.host.getApproval(res.error.data.approval_id);
    assert.equal(row?.status, 'expired');
    assert.equal(agent.pendingFrames, 0);
    await sup.close();
    await waitFor(() => server.state.supervision.supervisorCount === 0, undefined, 'the supervisor to leave');
  });

  test('with no supervisors the proposal runs straight through', async () => {
    assert.equal(server.state.supervision.supervisorCount, 0);
    const agent = await agentWithEcho(server);
    const reply = agent.call('proposal.submit', { proposal: echoProposal('p-free') });
    await answerEcho(agent);
    assert.equal((await reply).result.results[0].status, 'succeeded');
  });
});
