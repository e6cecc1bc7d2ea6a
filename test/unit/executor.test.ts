import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { EventLog } from '../../src/engine/event-log.js';
import { executeProposal, type ExecuteOptions, type ProposalResult } from '../../src/engine/executor/index.js';
import { parseProposal } from '../../src/engine/ir.js';
import { PolicyEngine } from '../../src/engine/policy/index.js';
import { StateStore } from '../../src/engine/state-store.js';
import type { ToolCall, ToolExecutor, ToolOutcome } from '../../src/engine/tool-executor.js';

type Handler = (call: ToolCall, signal?: AbortSignal) => ToolOutcome | Promise<ToolOutcome>;

/** A ToolExecutor double: records calls and how many ran at once. */
class FakeExecutor implements ToolExecutor {
  readonly calls: ToolCall[] = [];
  active = 0;
  maxActive = 0;
  constructor(private readonly handler: Handler = (call) => ok({ echoed: call.parameters })) {}

  async execute(call: ToolCall, signal?: AbortSignal): Promise<ToolOutcome> {
    this.calls.push(call);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      return await this.handler(call, signal);
    } finally {
      this.active--;
    }
  }
}

function ok(output: unknown): ToolOutcome {
  return { ok: true, output, durationMs: 0 };
}

function toolError(error: string): ToolOutcome {
  return { ok: false, error, reason: 'tool_error', durationMs: 0 };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Run {
  result: ProposalResult;
  store: StateStore;
  events: EventLog;
  executor: FakeExecutor;
}

async function run(
  actions: unknown[],
  opts: { handler?: Handler; store?: StateStore; options?: Partial<ExecuteOptions>; executor?: FakeExecutor } = {},
): Promise<Run> {
  const store = opts.store ?? new StateStore();
  const events = new EventLog();
  const executor = opts.executor ?? new FakeExecutor(opts.handler);
  const result = await executeProposal(parseProposal({ id: 'p1', actions }), { executor, store, events, ...opts.options });
  return { result, store, events, executor };
}

function statuses(r: ProposalResult): Record<string, string> {
  return Object.fromEntries(r.results.map((x) => [x.action_id, x.status]));
}

const tool = (id: string, name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id,
  type: 'tool_call',
  tool: name,
  ...extra,
});

describe('executor: results and cost', () => {
  test('a single tool call: output, shape, cost and events', async () => {
    const { result, events, executor } = await run([tool('a1', 'echo', { parameters: { msg: 'hello' } })], {
      handler: () => ok({ ok: true, echoed: 'hello' }),
    });
    assert.equal(result.proposal_id, 'p1');
    assert.equal(result.results.length, 1);
    const r = result.results[0]!;
    assert.deepEqual(Object.keys(r).sort(), ['action_id', 'duration_ms', 'error', 'output', 'state_changes', 'status', 'timestamp']);
    assert.equal(r.status, 'succeeded');
    assert.deepEqual(r.output, { ok: true, echoed: 'hello' });
    assert.equal(r.error, null);
    assert.deepEqual(r.state_changes, {});
    assert.equal(typeof r.duration_ms, 'number');
    assert.ok(!Number.isNaN(Date.parse(r.timestamp)));
    assert.deepEqual({ ...result.cost, total_duration_ms: 0 }, {
      tool_calls: 1,
      actions_executed: 1,
      actions_rejected: 0,
      actions_skipped: 0,
      total_duration_ms: 0,
      retries: 0,
    });
    assert.equal('violations' in result, false);
    assert.deepEqual(executor.calls[0], { tool: 'echo', parameters: { msg: 'hello' }, actionId: 'a1', timeoutMs: undefined, attempt: 1, sessionId: undefined });
    assert.deepEqual(events.all().map((e) => e.kind), ['ProposalReceived', 'ActionSucceeded', 'ProposalCompleted']);
    const succeeded = events.all()[1]!;
    assert.equal(succeeded.action_id, 'a1');
    assert.equal(succeeded.proposal_id, 'p1');
    assert.equal(succeeded.data.tool, 'echo');
    assert.equal(succeeded.data.attempt, 1);
    assert.equal(succeeded.data.output_preview, '{"ok":true,"echoed":"hello"}');
    assert.deepEqual(events.all()[0]!.data, { source: 'unknown', actions: 1 });
    assert.equal(events.all()[2]!.data.status, 'completed');
  });

  test('an empty proposal completes with zero cost', async () => {
    const { result } = await run([]);
    assert.deepEqual(result.results, []);
    assert.equal(result.cost.tool_calls, 0);
    assert.equal(result.cost.actions_executed, 0);
  });

  test('results are in proposal order even when later actions finish first', async () => {
    const { result } = await run([tool('slow', 't', { parameters: { ms: 40 } }), tool('fast', 't', { parameters: { ms: 0 } })], {
      handler: async (call) => {
        await sleep(call.parameters.ms as number);
        return ok(call.actionId);
      },
    });
    assert.deepEqual(result.results.map((r) => r.output), ['slow', 'fast']);
  });

  test('state actions: write, read, assertion; expected_effects are written on success', async () => {
    const { result, store } = await run([
      { id: 'w', type: 'state_write', parameters: { key: 'k', value: { v: 1 } }, expected_effects: { also: true } },
      { id: 'r', type: 'state_read', parameters: { key: 'k' }, state_dependencies: ['k'] },
      { id: 'miss', type: 'state_read', parameters: { key: 'absent' } },
      { id: 'chk', type: 'assertion', preconditions: [{ key: 'k', operator: 'exists' }], dependencies: ['w'] },
      tool('t', 'deploy', { expected_effects: { deployed: 'yes' }, dependencies: ['chk'] }),
    ]);
    assert.deepEqual(statuses(result), { w: 'succeeded', r: 'succeeded', miss: 'succeeded', chk: 'succeeded', t: 'succeeded' });
    const by = Object.fromEntries(result.results.map((r) => [r.action_id, r]));
    assert.deepEqual(by.w!.state_changes, { k: { v: 1 }, also: true });
    assert.deepEqual(by.w!.output, { v: 1 });
    assert.deepEqual(by.r!.output, { v: 1 });
    assert.equal(by.miss!.output, null);
    assert.equal(by.chk!.output, true);
    assert.deepEqual(by.t!.state_changes, { deployed: 'yes' });
    assert.deepEqual(store.view().snapshot(), { k: { v: 1 }, also: true, deployed: 'yes' });
    assert.equal(result.cost.tool_calls, 1);
    assert.equal(result.cost.actions_executed, 5);
  });

  test('a tool output with an "error" field is a failure', async () => {
    const { result } = await run([tool('a1', 'read_file', { failure_behavior: 'skip' }), tool('a2', 'x', { failure_behavior: 'skip' })], {
      handler: (call) => ok(call.actionId === 'a1' ? { error: 'no such file' } : { error: null, value: 1 }),
    });
    assert.equal(result.results[0]!.status, 'skipped');
    assert.equal(result.results[0]!.error, "tool 'read_file' returned an error: no such file");
    assert.equal(result.results[1]!.status, 'succeeded', 'a null error field is not a failure');
  });
});

describe('executor: levels and concurrency', () => {
  test('independent actions in one level overlap', async () => {
    const { result, executor } = await run([tool('a', 'slow'), tool('b', 'slow')], {
      handler: async () => {
        await sleep(50);
        return ok(null);
      },
    });
    assert.deepEqual(statuses(result), { a: 'succeeded', b: 'succeeded' });
    assert.equal(executor.maxActive, 2, 'the second started before the first finished');
  });

  test('the concurrency cap limits how many run at once', async () => {
    const actions = Array.from({ length: 12 }, (_, i) => tool(`a${i}`, 't'));
    const { result, executor } = await run(actions, {
      handler: async () => {
        await sleep(5);
        return ok(1);
      },
      options: { maxConcurrency: 3 },
    });
    assert.equal(executor.maxActive, 3);
    assert.equal(result.cost.actions_executed, 12);
    assert.equal(executor.calls.length, 12);
  });

  test('dependencies run in order and outputs flow through $id.output', async () => {
    const { result, executor } = await run(
      [
        tool('fetch', 'get', { parameters: { url: 'u' } }),
        tool('sum', 'summarize', { parameters: { text: '$fetch.output.body', note: 'from $fetch.output.code' }, dependencies: ['fetch'] }),
      ],
      { handler: (call) => ok(call.tool === 'get' ? { body: 'hello', code: 200 } : { summary: String(call.parameters.text) }) },
    );
    assert.deepEqual(executor.calls.map((c) => c.tool), ['get', 'summarize']);
    assert.deepEqual(executor.calls[1]!.parameters, { text: 'hello', note: 'from 200' });
    assert.deepEqual(result.results[1]!.output, { summary: 'hello' });
  });

  test('state_dependencies order a reader after the writer of the key', async () => {
    const { result } = await run([
      { id: 'r', type: 'state_read', parameters: { key: 'k' }, state_dependencies: ['k'] },
      { id: 'w', type: 'state_write', parameters: { key: 'k', value: 7 } },
    ]);
    assert.equal(result.results[0]!.output, 7);
  });

  test('a dependency cycle rejects its members; under abort nothing else runs', async () => {
    const { result, executor } = await run([
      tool('free', 't'),
      tool('x', 't', { dependencies: ['y'] }),
      tool('y', 't', { dependencies: ['x'] }),
    ]);
    assert.deepEqual(statuses(result), { free: 'skipped', x: 'rejected', y: 'rejected' });
    assert.match(result.results[1]!.error ?? '', /dependency cycle among 'x', 'y'/);
    assert.equal(executor.calls.length, 0);
    assert.equal(result.cost.actions_rejected, 2);
    assert.equal(result.cost.actions_skipped, 1);
  });
});

describe('executor: failure behaviours', () => {
  test('abort: later actions are skipped, state is restored, earlier successes are rolled back', async () => {
    const store = new StateStore();
    store.view().set('k', 'old');
    const { result, events } = await run(
      [
        { id: 's1', type: 'state_write', parameters: { key: 'k', value: 'new' } },
        { id: 's2', type: 'state_write', parameters: { key: 'fresh', value: 1 } },
        tool('t1', 'ok_tool', { dependencies: ['s1'] }),
        tool('t2', 'bad_tool', { dependencies: ['t1'] }),
        tool('t3', 'ok_tool', { dependencies: ['t2'] }),
        { id: 's3', type: 'state_write', parameters: { key: 'late', value: 1 }, dependencies: ['t2'] },
      ],
      { store, handler: (call) => (call.tool === 'bad_tool' ? toolError('boom') : ok('fine')) },
    );
    assert.deepEqual(statuses(result), { s1: 'succeeded', s2: 'succeeded', t1: 'succeeded', t2: 'failed', t3: 'skipped', s3: 'skipped' });
    const by = Object.fromEntries(result.results.map((r) => [r.action_id, r]));
    for (const id of ['s1', 's2', 't1']) assert.equal(by[id]!.rolled_back, true, id);
    for (const id of ['t2', 't3', 's3']) assert.equal('rolled_back' in by[id]!, false, `${id} carries no rolled_back field`);
    assert.equal(by.t2!.error, 'boom');
    assert.match(by.t3!.error ?? '', /proposal aborted \(action 't2' failed\)/);
    assert.deepEqual(by.s1!.state_changes, { k: 'new' }, 'state_changes still show what was written');
    assert.deepEqual(store.view().snapshot(), { k: 'old' });
    assert.deepEqual(result.cost, { ...result.cost, tool_calls: 2, actions_executed: 4, actions_rejected: 0, actions_skipped: 2, retries: 0 });
    const kinds = events.all().map((e) => e.kind);
    assert.equal(kinds.filter((k) => k === 'ActionRolledBack').length, 3);
    assert.equal(kinds.filter((k) => k === 'ActionSkipped').length, 2);
    assert.equal(events.all().at(-1)!.data.status, 'aborted');
  });

  test('rollback leaves alone keys the proposal did not write', async () => {
    const store = new StateStore();
    const { result } = await run(
      [{ id: 's1', type: 'state_write', parameters: { key: 'mine', value: 1 } }, tool('t', 'bad', { dependencies: ['s1'] })],
      {
        store,
        handler: () => {
          store.view().set('theirs', 'written meanwhile');
          return toolError('no');
        },
      },
    );
    assert.equal(result.results[0]!.rolled_back, true);
    assert.deepEqual(store.view().snapshot(), { theirs: 'written meanwhile' });
  });

  test('abort lets in-flight siblings finish but starts no more of the level', async () => {
    const actions = [tool('bad', 'bad'), tool('slow', 'slow'), tool('queued', 'slow')];
    const { result, executor } = await run(actions, {
      options: { maxConcurrency: 2 },
      handler: async (call) => {
        if (call.tool === 'bad') return toolError('x');
        await sleep(20);
        return ok('done');
      },
    });
    assert.deepEqual(statuses(result), { bad: 'failed', slow: 'succeeded', queued: 'skipped' });
    assert.equal(result.results[1]!.rolled_back, true);
    assert.equal(executor.calls.length, 2);
  });

  test('retry: each attempt is a new call with a 1-based attempt number; retries are counted', async () => {
    let n = 0;
    const { result, executor, events } = await run([tool('a', 'flaky', { failure_behavior: 'retry', max_retries: 3 })], {
      handler: () => (++n < 3 ? toolError(`fail ${n}`) : ok('third time')),
    });
    assert.deepEqual(executor.calls.map((c) => c.attempt), [1, 2, 3]);
    assert.equal(result.results[0]!.status, 'succeeded');
    assert.equal(result.results[0]!.output, 'third time');
    assert.equal(result.cost.tool_calls, 3);
    assert.equal(result.cost.retries, 2);
    assert.equal(result.cost.actions_executed, 1);
    const failed = events.all().filter((e) => e.kind === 'ActionFailed');
    assert.deepEqual(failed.map((e) => [e.data.attempt, e.data.will_retry]), [[1, true], [2, true]]);
    assert.equal(events.all().find((e) => e.kind === 'ActionSucceeded')!.data.attempt, 3);
  });

  test('retry: when attempts run out the proposal aborts', async () => {
    const { result, executor } = await run(
      [
        { id: 'w', type: 'state_write', parameters: { key: 'k', value: 1 } },
        tool('a', 'broken', { failure_behavior: 'retry', max_retries: 1, dependencies: ['w'] }),
        tool('b', 'after', { dependencies: ['a'] }),
      ],
      { handler: () => toolError('always') },
    );
    assert.deepEqual(executor.calls.map((c) => c.attempt), [1, 2]);
    assert.deepEqual(statuses(result), { w: 'succeeded', a: 'failed', b: 'skipped' });
    assert.equal(result.results[0]!.rolled_back, true);
    assert.deepEqual({ calls: result.cost.tool_calls, retries: result.cost.retries, skipped: result.cost.actions_skipped }, { calls: 2, retries: 1, skipped: 1 });
  });

  test('retry with max_retries 0 tries once', async () => {
    const { executor, result } = await run([tool('a', 'x', { failure_behavior: 'retry', max_retries: 0 })], { handler: () => toolError('no') });
    assert.equal(executor.calls.length, 1);
    assert.equal(result.cost.retries, 0);
  });

  test('skip: the failed action is skipped, its dependents are rejected, independent work goes on, nothing is rolled back', async () => {
    const { result, store } = await run(
      [
        tool('a', 'bad', { failure_behavior: 'skip' }),
        tool('b', 'good', { dependencies: ['a'], failure_behavior: 'skip' }),
        { id: 'c', type: 'state_write', parameters: { key: 'k', value: 1 } },
        tool('d', 'good', { dependencies: ['c'] }),
        tool('e', 'good', { dependencies: ['b'], failure_behavior: 'skip' }),
      ],
      { handler: (call) => (call.tool === 'bad' ? toolError('nope') : ok('ok')) },
    );
    assert.deepEqual(statuses(result), { a: 'skipped', b: 'rejected', c: 'succeeded', d: 'succeeded', e: 'rejected' });
    assert.equal(result.results[0]!.error, 'nope');
    assert.match(result.results[1]!.error ?? '', /dependency 'a' did not succeed \(skipped\)/);
    assert.match(result.results[4]!.error ?? '', /dependency 'b' did not succeed \(rejected\)/);
    assert.equal(result.results.some((r) => r.rolled_back), false);
    assert.deepEqual(store.view().snapshot(), { k: 1 });
    assert.deepEqual(
      {
        calls: result.cost.tool_calls,
        executed: result.cost.actions_executed,
        rejected: result.cost.actions_rejected,
        skipped: result.cost.actions_skipped,
      },
      { calls: 2, executed: 2, rejected: 2, skipped: 1 },
    );
  });

  test('a dependent of a skipped action is rejected, and its own abort stops the proposal and rolls back', async () => {
    const { result, store } = await run(
      [
        { id: 'w', type: 'state_write', parameters: { key: 'k', value: 1 } },
        tool('a', 'bad', { failure_behavior: 'skip', dependencies: ['w'] }),
        tool('b', 'good', { dependencies: ['a'] }),
        tool('c', 'good', { dependencies: ['b'] }),
      ],
      { handler: (call) => (call.tool === 'bad' ? toolError('nope') : ok('ok')) },
    );
    assert.deepEqual(statuses(result), { w: 'succeeded', a: 'skipped', b: 'rejected', c: 'skipped' });
    assert.equal(result.results[0]!.rolled_back, true);
    assert.deepEqual(store.view().snapshot(), {});
    assert.equal(result.cost.actions_rejected, 1);
  });

  test('a reference to an action that did not succeed fails the referencing action', async () => {
    const { result, executor } = await run(
      [tool('a', 'bad', { failure_behavior: 'skip' }), tool('b', 'use', { parameters: { x: '$a.output' }, failure_behavior: 'skip' })],
      { handler: (call) => (call.tool === 'bad' ? toolError('nope') : ok('ok')) },
    );
    // b is in the same level as a (no declared dependency), so a has not finished when b starts,
    // or it did not succeed: either way b fails without calling its tool.
    assert.equal(result.results[1]!.status, 'skipped');
    assert.match(result.results[1]!.error ?? '', /references \$a\.output, but action 'a' (has not run yet|did not succeed)/);
    assert.deepEqual(executor.calls.map((c) => c.tool), ['bad']);
  });
});

describe('executor: admission', () => {
  test('policies: every violation is collected and recorded; the action is rejected without a call', async () => {
    const policies = new PolicyEngine('c');
    policies.register({ name: 'no_shell', rule: 'deny_tool', target: 'shell' });
    policies.register({ name: 'no_rm', rule: 'deny_tool_param', target: 'shell', key: 'command', pattern: 'rm' });
    policies.register({ name: 'unrelated', rule: 'deny_tool', target: 'other' });
    const { result, executor, events } = await run([tool('a1', 'shell', { parameters: { command: 'rm x' } }), tool('a2', 'echo')], {
      options: { policies: policies.policySet() },
    });
    assert.equal(executor.calls.length, 0, 'no call for the denied action, and abort stops the rest');
    assert.deepEqual(statuses(result), { a1: 'rejected', a2: 'skipped' });
    assert.deepEqual(result.violations, [
      { policy_name: 'no_shell', action_id: 'a1', reason: "tool 'shell' is denied" },
      { policy_name: 'no_rm', action_id: 'a1', reason: "param 'command' matches denied pattern 'rm'" },
    ]);
    assert.match(result.results[0]!.error ?? '', /denied by policy 'no_shell'.*; denied by policy 'no_rm'/);
    assert.equal(result.cost.actions_rejected, 1);
    assert.equal(result.cost.actions_executed, 0);
    const pv = events.all().filter((e) => e.kind === 'PolicyViolation');
    assert.deepEqual(pv.map((e) => [e.action_id, e.data.policy_name]), [['a1', 'no_shell'], ['a1', 'no_rm']]);
    assert.equal(events.all().filter((e) => e.kind === 'ActionRejected').length, 1);
  });

  test('policies see interpolated parameters', async () => {
    const policies = new PolicyEngine('c');
    policies.register({ name: 'no_secret', rule: 'deny_tool_param', target: 'post', key: 'body', pattern: 'SECRET' });
    const { result } = await run(
      [tool('read', 'read'), tool('send', 'post', { parameters: { body: 'x $read.output' }, dependencies: ['read'], failure_behavior: 'skip' })],
      { handler: (call) => ok(call.tool === 'read' ? 'the SECRET' : 'sent'), options: { policies: policies.policySet() } },
    );
    assert.deepEqual(statuses(result), { read: 'succeeded', send: 'rejected' });
  });

  test('a policy denial under retry is not retried: it aborts', async () => {
    const policies = new PolicyEngine('c');
    policies.register({ name: 'no_x', rule: 'deny_tool', target: 'x' });
    const { result } = await run([tool('a', 'x', { failure_behavior: 'retry', max_retries: 5 }), tool('b', 'y')], {
      options: { policies: policies.policySet() },
    });
    assert.deepEqual(statuses(result), { a: 'rejected', b: 'skipped' });
    assert.equal(result.cost.retries, 0);
  });

  test('a rejection under skip lets the rest run', async () => {
    const policies = new PolicyEngine('c');
    policies.register({ name: 'no_x', rule: 'deny_tool', target: 'x' });
    const { result } = await run(
      [tool('a', 'x', { failure_behavior: 'skip' }), tool('b', 'y'), tool('c', 'z', { dependencies: ['a'], failure_behavior: 'skip' })],
      { options: { policies: policies.policySet() } },
    );
    assert.deepEqual(statuses(result), { a: 'rejected', b: 'succeeded', c: 'rejected' });
  });

  test('require_state: denies every action until the state holds', async () => {
    const policies = new PolicyEngine('c');
    policies.register({ name: 'armed', rule: 'require_state', key: 'armed', value: 'true' });
    const denied = await run([{ id: 'w', type: 'state_write', parameters: { key: 'x', value: 1 } }], {
      options: { policies: policies.policySet() },
    });
    assert.equal(denied.result.results[0]!.status, 'rejected');
    assert.match(denied.result.violations![0]!.reason, /state 'armed' is not set/);

    const store = new StateStore();
    store.view().set('armed', true);
    const allowed = await run([tool('t', 'go'), { id: 'w', type: 'state_write', parameters: { key: 'x', value: 1 } }], {
      store,
      options: { policies: policies.policySet() },
    });
    assert.deepEqual(statuses(allowed.result), { t: 'succeeded', w: 'succeeded' });
  });

  test('require_state is checked at dispatch, against state written earlier in the proposal', async () => {
    const policies = new PolicyEngine('c');
    policies.register({ name: 'mode', rule: 'require_state', key: 'mode', value: 'live' });
    const store = new StateStore();
    store.view().set('mode', 'live');
    const { result } = await run(
      [
        { id: 'off', type: 'state_write', parameters: { key: 'mode', value: 'off' } },
        tool('t', 'go', { dependencies: ['off'], failure_behavior: 'skip' }),
      ],
      { store, options: { policies: policies.policySet() } },
    );
    assert.deepEqual(statuses(result), { off: 'succeeded', t: 'rejected' });
  });

  test('unknown tools are rejected when a registry is given', async () => {
    const { result, executor } = await run([tool('a', 'nope', { failure_behavior: 'skip' }), tool('b', 'known')], {
      options: { tools: (name) => (name === 'known' ? { name, description: '', parameters: {}, idempotent: false } : undefined) },
    });
    assert.deepEqual(statuses(result), { a: 'rejected', b: 'succeeded' });
    assert.match(result.results[0]!.error ?? '', /unknown tool 'nope'/);
    assert.deepEqual(executor.calls.map((c) => c.tool), ['known']);
  });

  test('a parameter checker can reject an action against its registered schema', async () => {
    const { result } = await run([tool('a', 'typed', { parameters: { n: 'x' } })], {
      options: {
        tools: (name) => ({ name, description: '', parameters: { type: 'object' }, idempotent: false }),
        checkParameters: (_tool, params) => (typeof params.n === 'number' ? [] : ['parameters.n must be number']),
      },
    });
    assert.equal(result.results[0]!.status, 'rejected');
    assert.match(result.results[0]!.error ?? '', /schema of tool 'typed': parameters\.n must be number/);
  });

  test('preconditions are checked at run time against the state left by earlier actions', async () => {
    const { result } = await run([
      { id: 'w', type: 'state_write', parameters: { key: 'x', value: 5 } },
      tool('ok', 't', { preconditions: [{ key: 'x', operator: 'eq', value: 5 }], dependencies: ['w'] }),
      tool('no', 't', { preconditions: [{ key: 'x', operator: 'gt', value: 10, description: 'big enough' }], dependencies: ['w'], failure_behavior: 'skip' }),
    ]);
    assert.deepEqual(statuses(result), { w: 'succeeded', ok: 'succeeded', no: 'skipped' });
    assert.equal(result.results[2]!.error, "precondition 'x gt 10' (big enough) does not hold");
  });

  test('a failed precondition aborts under abort', async () => {
    const { result, executor } = await run([tool('a', 't', { preconditions: [{ key: 'missing', operator: 'exists' }] }), tool('b', 't')]);
    assert.deepEqual(statuses(result), { a: 'failed', b: 'skipped' });
    assert.match(result.results[0]!.error ?? '', /precondition 'missing exists' does not hold/);
    assert.equal(executor.calls.length, 0);
  });

  test('streaming and long_running actions fail on an executor without detached support', async () => {
    const { result, executor } = await run(
      [tool('s', 'tail', { invocation_mode: 'streaming', failure_behavior: 'skip' }), tool('l', 'job', { invocation_mode: 'long_running', failure_behavior: 'retry' })],
      { options: { executorLabel: 'the WebSocket executor' } },
    );
    assert.equal(result.results[0]!.error, "tool 'tail' does not support streaming/long-running invocation over the WebSocket executor");
    assert.equal(result.results[1]!.status, 'failed');
    assert.equal(result.cost.retries, 0, 'not retried');
    assert.equal(executor.calls.length, 0);
  });
});

describe('executor: tenants, sessions, cancellation', () => {
  test('a tenant proposal reads and writes only its tenant view', async () => {
    const store = new StateStore();
    store.view('t1').set('k', 'tenant value');
    store.view().set('k', 'plain value');
    const { result } = await run(
      [
        { id: 'r', type: 'state_read', parameters: { key: 'k' } },
        { id: 'w', type: 'state_write', parameters: { key: 'new', value: 1 } },
        tool('t', 'x', { preconditions: [{ key: 'k', operator: 'eq', value: 'tenant value' }] }),
      ],
      { store, options: { tenant: 't1' } },
    );
    assert.deepEqual(statuses(result), { r: 'succeeded', w: 'succeeded', t: 'succeeded' });
    assert.equal(result.results[0]!.output, 'tenant value');
    assert.deepEqual(store.view('t1').snapshot(), { k: 'tenant value', new: 1 });
    assert.deepEqual(store.view().snapshot(), { k: 'plain value' });
  });

  test('a tenant rollback restores the tenant view only', async () => {
    const store = new StateStore();
    store.view('t1').set('k', 'before');
    const { result } = await run(
      [{ id: 'w', type: 'state_write', parameters: { key: 'k', value: 'after' } }, tool('t', 'bad', { dependencies: ['w'] })],
      { store, options: { tenant: 't1' }, handler: () => toolError('x') },
    );
    assert.equal(result.results[0]!.rolled_back, true);
    assert.equal(store.view('t1').get('k'), 'before');
  });

  test('the session id and timeout are passed to every call', async () => {
    const { executor } = await run([tool('a', 't', { timeout_ms: 1234 })], { options: { sessionId: 'sess-1' } });
    assert.equal(executor.calls[0]!.sessionId, 'sess-1');
    assert.equal(executor.calls[0]!.timeoutMs, 1234);
  });

  test('a timed-out call fails the action and is retried under retry', async () => {
    let n = 0;
    const { result } = await run([tool('a', 't', { failure_behavior: 'retry', max_retries: 2 })], {
      handler: () => (++n === 1 ? { ok: false, error: "tool 't' callback timed out (0.1s)", reason: 'timeout', durationMs: 100 } : ok('second')),
    });
    assert.equal(result.results[0]!.output, 'second');
    assert.equal(result.cost.retries, 1);
  });

  test('cancelling the signal skips what has not started and rolls back', async () => {
    const controller = new AbortController();
    const store = new StateStore();
    const { result, executor } = await run(
      [
        { id: 'w', type: 'state_write', parameters: { key: 'k', value: 1 } },
        tool('a', 'slow', { dependencies: ['w'] }),
        tool('b', 'next', { dependencies: ['a'] }),
      ],
      {
        store,
        options: { signal: controller.signal },
        handler: async (call) => {
          controller.abort(new Error('client went away'));
          return ok(call.tool);
        },
      },
    );
    assert.deepEqual(statuses(result), { w: 'succeeded', a: 'succeeded', b: 'skipped' });
    assert.equal(result.results[2]!.error, 'cancelled: client went away');
    assert.equal(result.results[0]!.rolled_back, true);
    assert.equal(store.view().has('k'), false);
    assert.equal(executor.calls.length, 1);
  });

  test('a cancelled call is not retried', async () => {
    const { result, executor } = await run([tool('a', 't', { failure_behavior: 'retry' })], {
      handler: () => ({ ok: false, error: 'cancelled', reason: 'cancelled', durationMs: 0 }),
    });
    assert.equal(result.results[0]!.status, 'failed');
    assert.equal(executor.calls.length, 1);
  });

  test('a state write refused by the store fails the action', async () => {
    const store = new StateStore(1);
    store.view().set('only', 1);
    const { result } = await run([{ id: 'w', type: 'state_write', parameters: { key: 'second', value: 2 } }], { store });
    assert.equal(result.results[0]!.status, 'failed');
    assert.match(result.results[0]!.error ?? '', /state is full/);
  });
});
