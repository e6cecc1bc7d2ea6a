import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { ServerState, ServerStateConfig, type ServerStateOptions } from '../../src/index.js';
import { DEFAULT_MAX_CONCURRENCY } from '../../src/engine/executor/index.js';
import { proposalDeadlineMs } from '../../src/methods/proposal.js';
import { HOST_TOKEN, startServer, type TestServer } from '../helpers/server.js';

/** Each limit of ServerStateConfig at its bound, through the daemon that uses it. */

async function withServer(overrides: Partial<ServerStateOptions>, fn: (server: TestServer) => Promise<void>): Promise<void> {
  const server = await startServer(overrides);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

const proposalOf = (n: number): unknown => ({
  actions: Array.from({ length: n }, (_, i) => ({ id: `a${i}`, type: 'state_write', parameters: { key: `k${i}`, value: i } })),
});

describe('limits from ServerStateConfig, each at its bound', () => {
  test('maxActionConcurrency: one default, the executor\'s', () => {
    assert.equal(new ServerStateConfig().maxActionConcurrency, DEFAULT_MAX_CONCURRENCY);
  });

  test('deadlineSlackMs is what proposal.submit adds to the summed tool budgets', () => {
    const config = new ServerStateConfig({ handlerTimeoutMs: 1, toolCallbackGraceMs: 0, deadlineSlackMs: 7 });
    assert.equal(proposalDeadlineMs({ actions: [{ timeout_ms: 100 }] }, config), 107);
    const state = ServerState.embedded(config);
    const spec = state.methods.get('proposal.submit')!;
    assert.equal(typeof spec.deadlineMs === 'function' && spec.deadlineMs({ proposal: { actions: [] } }, state), 7);
  });

  test('verifyDeadlineMs is the deadline of verify and verify.monte_carlo', () => {
    const state = ServerState.embedded(new ServerStateConfig({ verifyDeadlineMs: 1234 }));
    for (const name of ['verify', 'verify.monte_carlo']) {
      const d = state.methods.get(name)!.deadlineMs;
      assert.equal(typeof d === 'function' ? d({}, state) : d, 1234, name);
    }
  });

  test('maxVerifyActions: a proposal one action over is an error issue', async () => {
    await withServer({ maxVerifyActions: 3 }, async (server) => {
      const c = await server.authed();
      assert.equal((await c.result('verify', { proposal: proposalOf(3) })).valid, true);
      const over = await c.result('verify', { proposal: proposalOf(4) });
      assert.equal(over.valid, false);
      assert.ok(over.issues.some((i: { message: string }) => /at most 3 are allowed/.test(i.message)), JSON.stringify(over.issues));
    });
  });

  test('maxPoliciesPerSession and maxPolicySessions refuse the one past the bound with -32603 kind limit', async () => {
    await withServer({ maxPoliciesPerSession: 2, maxPolicySessions: 1 }, async (server) => {
      const c = await server.authed();
      await c.result('policy.register', { name: 'p1', rule: 'deny_tool', target: 'x' });
      await c.result('policy.register', { name: 'p2', rule: 'deny_tool', target: 'y' });
      const err = await c.error('policy.register', { name: 'p3', rule: 'deny_tool', target: 'z' });
      assert.equal(err.code, -32603);
      assert.deepEqual(err.data, { kind: 'limit', limit: 2 });
      await c.result('session.policy.open', {});
      const sessions = await c.error('session.policy.open', {});
      assert.equal(sessions.code, -32603);
      assert.deepEqual(sessions.data, { kind: 'limit', limit: 1 });
    });
  });

  test('maxToolHandleChunks and toolHandleReapMs shape every connection\'s handle store', async () => {
    await withServer({ maxToolHandleChunks: 2, toolHandleReapMs: 1 }, async (server) => {
      await server.authed();
      const session = [...server.state.sessions.values()][0]!;
      const handle = session.toolHandles.open('tail', 'a1');
      for (let i = 0; i < 3; i++) session.toolHandles.push(handle, { kind: 'text', text: String(i) });
      const polled = session.toolHandles.poll(handle)!;
      assert.deepEqual(
        polled.chunks.map((c) => (c as { text: string }).text),
        ['1', '2'],
      );
      assert.equal(polled.dropped_chunks, 1);
    });
  });

  test('maxEvidenceBytes: evidence one byte over is -32602 naming the bound', async () => {
    await withServer({ maxEvidenceBytes: 10 }, async (server) => {
      const c = await server.connect();
      await c.result('session.auth', { host_token: HOST_TOKEN });
      const fp = `fp-${'a'.repeat(64)}`;
      await c.result('permission.approve', { fingerprint: fp, required_tier: 'full_access', evidence: '12345678' });
      const err = await c.error('permission.approve', { fingerprint: fp, required_tier: 'full_access', evidence: '123456789' });
      assert.equal(err.code, -32602);
      assert.deepEqual(err.data, { kind: 'invalid', field: 'evidence', limit: 10 });
    });
  });

  test('maxHostEvents: the ring keeps exactly that many, the newest', async () => {
    await withServer({ maxHostEvents: 3 }, async (server) => {
      const c = await server.authed();
      for (let i = 0; i < 5; i++) await c.result('host.notify', { message: `m${i}` });
      const { events } = await c.result('host.events', { limit: 100 });
      assert.deepEqual(
        events.map((e: { message: string }) => e.message),
        ['m2', 'm3', 'm4'],
      );
    });
  });

  test('maxHostSubscriberQueue: a subscriber holds at most that many undelivered events', async () => {
    await withServer({ maxHostSubscriberQueue: 2 }, async (server) => {
      const host = server.state.host;
      const seen: number[] = [];
      host.subscribe('slow', { open: true, send: (e) => (seen.push(e.sequence), true) });
      // Recorded in one turn, before any drain: the queue keeps two, the rest are lost.
      for (let i = 0; i < 5; i++) host.recordEvent('test.event', null, null);
      assert.equal(host.lostEvents('slow'), 3);
    });
  });

  test('maxSupervisionHistory: past it, the oldest decided intent is forgotten', async () => {
    await withServer({ maxSupervisionHistory: 1 }, async (server) => {
      const supervision = server.state.supervision;
      const intents: string[] = [];
      supervision.subscribe('sup', { filter: {}, deliver: (intent) => intents.push(intent.id) });
      const proposal = { id: 'p', source: 's', timestamp: '', context: {}, actions: [] };
      const first = supervision.review(proposal, {})!;
      const second = supervision.review(proposal, {})!;
      supervision.decide(intents[0]!, { kind: 'allow' });
      supervision.decide(intents[1]!, { kind: 'allow' });
      await Promise.all([first, second]);
      assert.throws(() => supervision.decide(intents[1]!, { kind: 'allow' }), { code: 'decided' });
      assert.throws(() => supervision.decide(intents[0]!, { kind: 'allow' }), { code: 'unknown' });
    });
  });

  test('maxFinishedRunsInMemory: with no runs dir, the oldest finished run is forgotten', async () => {
    await withServer({ maxFinishedRunsInMemory: 1 }, async (server) => {
      const c = await server.authed({ params: { agent_id: 'limits-agent' } });
      const a = await c.result('runs.start', { intent: 'a' });
      await c.result('runs.complete', { run_id: a.run_id, outcome: { status: 'done' } });
      const b = await c.result('runs.start', { intent: 'b' });
      await c.result('runs.complete', { run_id: b.run_id, outcome: { status: 'done' } });
      assert.equal((await c.result('runs.get_trace', { run_id: b.run_id })).not_found, undefined);
      assert.equal((await c.result('runs.get_trace', { run_id: a.run_id })).not_found, true);
    });
  });

  test('maxAgents: the agent at the bound is upserted, one more is -32603 naming the limit', async () => {
    const server = await startServer({ maxAgents: 2 });
    try {
      const c = await server.authed();
      await c.result('agents.upsert', { id: 'l1', command: process.execPath });
      await c.result('agents.upsert', { id: 'l2', command: process.execPath });
      const err = await c.error('agents.upsert', { id: 'l3', command: process.execPath });
      assert.equal(err.code, -32603);
      assert.match(err.message, /limit 2/);
      assert.equal((err.data as { limit: number }).limit, 2);
    } finally {
      await server.close();
    }
  });

  test('maxChatSessions: the session at the bound opens, one more is refused; chatAckTimeoutMs: an agent that never acks fails the chat', async () => {
    const server = await startServer({ maxChatSessions: 2, chatAckTimeoutMs: 100 });
    const { CarClient } = await import('../../src/client/index.js');
    const agent = await CarClient.connect({ url: server.url, token: await server.agentToken('slow-acker'), agentId: 'slow-acker' });
    let acking = true;
    agent.onRequest('agent.chat', () => (acking ? { accepted: true } : new Promise(() => {})));
    try {
      const host = await server.authed();
      await host.result('agents.chat', { agent_id: 'slow-acker', prompt: 'one', session_id: 'c1' });
      await host.result('agents.chat', { agent_id: 'slow-acker', prompt: 'two', session_id: 'c2' });
      const err = await host.error('agents.chat', { agent_id: 'slow-acker', prompt: 'three', session_id: 'c3' });
      assert.match(err.message, /limit 2/);
      assert.equal((err.data as { limit: number }).limit, 2);
      await host.result('agents.chat.cancel', { session_id: 'c2' });
      acking = false;
      const late = await host.error('agents.chat', { agent_id: 'slow-acker', prompt: 'late', session_id: 'c4' });
      assert.match(late.message, /did not accept the chat: .*within 100 ms/);
      assert.equal((late.data as { kind: string; reason: string }).reason, 'ack_timeout');
      assert.equal(server.state.chat.get('c4'), undefined, 'the session is not left behind');
    } finally {
      await agent.close();
      await server.close();
    }
  });

  test('maxChatGoals: the goal at the bound is stored, one more is refused; replacing is fine', async () => {
    const server = await startServer({ maxChatGoals: 2 });
    try {
      const c = await server.authed();
      await c.result('goal.set', { session_id: 'a', check: 'x' });
      await c.result('goal.set', { session_id: 'b', check: 'y' });
      await c.result('goal.set', { session_id: 'b', check: 'z' });
      const err = await c.error('goal.set', { session_id: 'c', check: 'w' });
      assert.match(err.message, /limit 2/);
    } finally {
      await server.close();
    }
  });

  test('multiMaxConcurrency / multiRunAgentTimeoutMs / multiMaxSubtasks at their bounds', async () => {
    const server = await startServer({ multiMaxConcurrency: 2, multiRunAgentTimeoutMs: 100, multiMaxSubtasks: 2 });
    const { CarClient } = await import('../../src/client/index.js');
    const client = await CarClient.connect({ url: server.url, token: 'tok' });
    let active = 0;
    let peak = 0;
    client.onRequest('multi.run_agent', async (params) => {
      const { spec, task } = params as { spec: { name: string }; task: string };
      if (spec.name === 'silent') return new Promise(() => {});
      if (spec.name === 'main') {
        const plan = task.includes('spawn_subtask') ? JSON.stringify({ subtasks: [{ task: 'a' }, { task: 'b' }, { task: 'c' }] }) : 'final';
        return { name: 'main', answer: plan, turns: 1, tool_calls: 0, duration_ms: 1, error: null };
      }
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 5));
      active--;
      return { name: spec.name, answer: 'ok', turns: 1, tool_calls: 0, duration_ms: 1, error: null };
    });
    const spec = (name: string) => ({ name, system_prompt: '', tools: [], max_turns: 1, metadata: {} });
    try {
      const r = await client.call<any>('multi.swarm', { mode: 'parallel', agents: ['a', 'b', 'c', 'd', 'e'].map(spec), task: 't' });
      assert.equal(r.outputs.length, 5);
      assert.equal(peak, 2, 'never more than multiMaxConcurrency agents at once');
      const slow = await client.call<any>('multi.pipeline', { stages: [spec('silent')], task: 't' });
      assert.match(slow.stages[0].error, /within 100 ms/);
      const sub = await client.call<any>('multi.subtask', { main: spec('main'), task: 't' });
      assert.equal(sub.subtasks.length, 2, 'only multiMaxSubtasks of the three asked for');
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('maxRegistryStores: past it, the least recently opened registry directory is closed', () => {
    const dir = '/nonexistent-registry-root';
    const one = ServerState.embedded(new ServerStateConfig({ registryDir: dir, maxRegistryStores: 1 }));
    const a = one.registry.store('a');
    one.registry.store('b');
    assert.notEqual(one.registry.store('a'), a, 'a was evicted and reopened');
    const two = ServerState.embedded(new ServerStateConfig({ registryDir: dir, maxRegistryStores: 2 }));
    const a2 = two.registry.store('a');
    two.registry.store('b');
    assert.equal(two.registry.store('a'), a2, 'a is still open');
  });
});
