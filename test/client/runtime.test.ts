import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CarClient, RemoteError, type ProposalInput } from '../../src/client/index.js';
import { ServerState, ServerStateConfig, listenTcp, type Listener } from '../../src/index.js';

const TOKEN = 'runtime-client-token';
const HOST = 'runtime-client-host';

describe('CarClient runtime helpers', () => {
  let state: ServerState;
  let tcp: Listener;
  let url: string;

  before(async () => {
    state = ServerState.embedded(new ServerStateConfig({ authToken: TOKEN, hostToken: HOST }));
    tcp = await listenTcp(state, { host: '127.0.0.1', port: 0 });
    url = `ws://${tcp.address}/`;
  });

  after(async () => {
    await state.close();
    await tcp.close();
  });

  test('executeProposal runs each tool call through the handler and returns the agent-ir result', async () => {
    const car = await CarClient.connect({ url, token: TOKEN });
    await car.tools.register([{ name: 'add' }]);
    const proposal: ProposalInput = {
      actions: [
        { id: 'a1', type: 'tool_call', tool: 'add', parameters: { a: 1, b: 2 } },
        { id: 'a2', type: 'tool_call', tool: 'add', parameters: { a: '$a1.output.sum', b: 10 }, dependencies: ['a1'] },
      ],
    };
    const seen: unknown[] = [];
    const result = await car.executeProposal(proposal, (call) => {
      seen.push([call.action_id, call.attempt, call.parameters]);
      return { sum: Number(call.parameters.a) + Number(call.parameters.b) };
    });
    assert.deepEqual(
      result.results.map((r) => [r.action_id, r.status, r.output]),
      [
        ['a1', 'succeeded', { sum: 3 }],
        ['a2', 'succeeded', { sum: 13 }],
      ],
    );
    assert.deepEqual(seen, [
      ['a1', 1, { a: 1, b: 2 }],
      ['a2', 1, { a: 3, b: 10 }],
    ]);
    assert.equal(result.cost.tool_calls, 2);
    assert.equal(result.cost.actions_executed, 2);
    await car.close();
  });

  test('a throwing handler fails the action; the default abort skips what depends on it', async () => {
    const car = await CarClient.connect({ url, token: TOKEN });
    await car.tools.register([{ name: 'flaky' }, { name: 'after' }]);
    const result = await car.executeProposal(
      {
        actions: [
          { id: 'f', type: 'tool_call', tool: 'flaky' },
          { id: 'g', type: 'tool_call', tool: 'after', dependencies: ['f'] },
        ],
      },
      (call) => {
        if (call.tool === 'flaky') throw new Error('flaky broke');
        return {};
      },
    );
    assert.equal(result.results[0]?.status, 'failed');
    assert.match(String(result.results[0]?.error), /flaky broke/);
    assert.equal(result.results[1]?.status, 'skipped');
    await car.close();
  });

  test('session.init, policies and verify through the typed helpers', async () => {
    const car = await CarClient.connect({ url, token: TOKEN });
    const init = await car.session.init(
      [{ name: 'shell' }],
      [{ name: 'no_rm', rule: 'deny_tool_param', target: 'shell', key: 'command', pattern: 'rm -rf' }],
    );
    assert.equal(init.tools_registered, 1);
    assert.equal(init.policies_registered, 1);
    assert.deepEqual((await car.policy.list()).policies.map((p) => p.name), ['no_rm']);
    const ctx = await car.session.openPolicyContext();
    await car.policy.register({ name: 'no_shell', rule: 'deny_tool', target: 'shell', session_id: ctx.session_id });
    const verdict = await car.proposals.verify({ actions: [{ id: 'x', type: 'tool_call', tool: 'nope' }] });
    assert.equal(verdict.valid, false);
    assert.equal(verdict.issues[0]?.tier, 'decision_procedure');
    assert.deepEqual(await car.session.closePolicyContext(ctx.session_id), { closed: true });
    assert.deepEqual(await car.policy.unregister('no_rm'), { unregistered: 'no_rm', removed: 1, scope: 'global' });
    await car.close();
  });

  test('permission and events helpers', async () => {
    const car = await CarClient.connect({ url, token: TOKEN });
    const host = await CarClient.connect({ url, hostToken: HOST });
    assert.deepEqual(await car.permission.getTier(), { granted_tier: 'sandbox_edit' });
    await assert.rejects(car.permission.setTier('full_access'), (err: unknown) => err instanceof RemoteError && err.code === -32603);
    assert.deepEqual(await host.permission.setTier('full_access'), { granted_tier: 'full_access' });
    const classified = await car.permission.classify({ actions: [] });
    assert.equal(classified.declared_rollback_contract, 'reversible');
    const risky: ProposalInput = { actions: [{ id: 'r', type: 'tool_call', tool: 'shell', parameters: { command: 'rm -rf /tmp/x' } }] };
    const pending = await car.permission.pending(risky);
    assert.equal(pending.pending.length, 1);
    const row = pending.pending[0]!;
    const record = await host.permission.approve({ fingerprint: row.fingerprint, required_tier: row.required }, 'reviewed');
    assert.equal(record.fingerprint, row.fingerprint);
    assert.equal((await car.permission.evaluate(risky)).decisions[0]?.decision, 'allow');

    assert.equal(await car.events.count(), 0);
    await car.tools.register([{ name: 'noop' }]);
    await car.executeProposal({ actions: [{ id: 'n', type: 'tool_call', tool: 'noop' }] }, () => ({}));
    assert.ok((await car.events.count()) > 0);
    const newest = await car.events.query({ limit: 1 });
    assert.equal(newest.count, 1);
    const summary = await car.events.summary();
    assert.equal(summary.actions_succeeded, 1);
    assert.equal(await car.events.setReplanConfig({ max_replans: 1, delay_ms: 0, verify_before_execute: true }), null);
    await car.close();
    await host.close();
  });

  test('memory helpers carry the upstream Node names', async () => {
    const car = await CarClient.connect({ url, token: TOKEN });
    const before = await car.memory.factCount();
    assert.equal(await car.memory.addFact('project_language', 'The project is written in TypeScript'), before + 1);
    const hits = await car.memory.queryFacts('what language is the project written in?', 3);
    assert.equal(hits[0]?.subject, 'project_language');
    const context = await car.memory.buildContext('which language?');
    assert.match(context, /TypeScript/);
    await car.close();
  });

  test('host, supervision, runs and registry helpers', async () => {
    const car = await CarClient.connect({ url, token: TOKEN });
    const host = await CarClient.connect({ url, hostToken: HOST });
    const events: unknown[] = [];
    host.onNotification('host.event', (e) => events.push(e));
    const snapshot = await host.host.subscribe();
    assert.equal(snapshot.subscribed, true);
    const agent = await car.host.registerAgent({ id: 'helper-agent', name: 'Helper', kind: 'test' });
    assert.equal(agent.id, 'helper-agent');
    assert.equal((await car.host.setStatus('helper-agent', 'running')).status, 'running');
    for (let i = 0; i < 50 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(events.length >= 2, 'host.event notifications arrive');

    const supervised = await host.supervision.subscribe({ tools: ['nothing-matches'] });
    assert.equal(supervised.subscribed, true);
    assert.deepEqual((await host.supervision.pending()).intents, []);
    assert.equal(typeof (await car.supervision.admissionStatus()).permits_total, 'number');

    // Run writes are owner-binding only: the agent's own bound connection records and completes.
    await state.agents.upsert({ id: 'helper-agent', command: process.execPath });
    const bound = await CarClient.connect({ url, token: state.agents.tokenFor('helper-agent')!, agentId: 'helper-agent' });
    const run = await bound.runs.start('try the helpers');
    assert.equal((await car.runs.recordTurns(run.run_id, [{ prompt: 'not mine' }])).ok, false, 'an unbound connection may not write');
    assert.equal((await bound.runs.recordTurns(run.run_id, [{ prompt: 'hi', output: 'hello' }])).ok, true);
    assert.equal((await bound.runs.complete(run.run_id, { status: 'success', summary: 'done' })).ok, true);
    assert.equal(((await host.runs.getTrace(run.run_id)).records as unknown[]).length, 3);
    await bound.close();

    await assert.rejects(car.registry.list(), (err: unknown) => err instanceof RemoteError);
    await car.close();
    await host.close();
  });
});
