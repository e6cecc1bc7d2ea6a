import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import test, { after, before, describe } from 'node:test';
import { z } from 'zod';
import { defineMethod, EventKind, readJournal, type RuntimeEvent } from '../../src/index.js';
import type { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { removeTempDir, tempDir } from '../helpers/temp.js';

/** Embedder methods standing in for the executor: append events, tamper, read session fields. */
const eventMethods = [
  defineMethod({
    name: 'test.emit',
    summary: 'Append events to the calling session.',
    params: z.object({
      events: z.array(
        z.object({
          kind: z.string(),
          proposal_id: z.string().optional(),
          action_id: z.string().optional(),
          data: z.record(z.string(), z.unknown()).optional(),
        }),
      ),
    }),
    handler(p, ctx) {
      for (const e of p.events) ctx.session.events.append(e.kind, e);
      return ctx.session.events.count;
    },
  }),
  defineMethod({
    name: 'test.tamper',
    summary: 'Edit, delete or swap stored events.',
    params: z.object({ op: z.enum(['edit', 'delete', 'swap']), index: z.number().int() }),
    handler(p, ctx) {
      const events = ctx.session.events.all() as RuntimeEvent[];
      if (p.op === 'edit') events[p.index]!.data.tampered = true;
      else if (p.op === 'delete') events.splice(p.index, 1);
      else [events[p.index], events[p.index + 1]] = [events[p.index + 1]!, events[p.index]!];
      return null;
    },
  }),
  defineMethod({
    name: 'test.replan',
    summary: "The calling session's re-plan settings.",
    params: z.object({}),
    handler: (_p, ctx) => ctx.session.replan,
  }),
];

function emit(c: RawClient, events: { kind: string; proposal_id?: string; action_id?: string; data?: object }[]): Promise<number> {
  return c.result('test.emit', { events });
}

async function errorCode(c: RawClient, method: string, params: unknown): Promise<number> {
  const reply = await c.call(method, params);
  assert.ok('error' in reply, `${method} ${JSON.stringify(params)} should fail, got ${JSON.stringify(reply)}`);
  return reply.error.code;
}

describe('events.* / metrics.* / replan.set_config over the wire', () => {
  let server: TestServer;
  const journalDir = tempDir('car-wire-journal-');
  before(async () => {
    server = await startServer({ methods: eventMethods, journalDir });
  });
  after(async () => {
    await server.close();
    removeTempDir(journalDir);
  });

  test('events.count grows as events are appended; events.query {limit:1} returns the newest (behaviour 65)', async () => {
    const c = await server.authed();
    assert.equal(await c.result('events.count'), 0);
    await emit(c, [{ kind: EventKind.ProposalReceived, proposal_id: 'p1', data: { source: 'ws', actions: 1 } }]);
    assert.equal(await c.result('events.count'), 1);
    await emit(c, [{ kind: EventKind.ActionSucceeded, proposal_id: 'p1', action_id: 'a1', data: { duration_ms: 3, attempt: 1 } }]);
    assert.equal(await c.result('events.count', {}), 2);

    const newest = await c.result('events.query', { limit: 1 });
    assert.equal(newest.count, 1);
    assert.equal(newest.events.length, 1);
    const [event] = newest.events;
    assert.deepEqual(Object.keys(event).sort(), ['action_id', 'data', 'id', 'kind', 'proposal_id', 'seq', 'timestamp']);
    assert.equal(event.kind, 'action_succeeded');
    assert.equal(event.seq, 1);
    assert.deepEqual(event.data, { duration_ms: 3, attempt: 1 });
    assert.ok(!Number.isNaN(Date.parse(event.timestamp)));

    // Another connection has a log of its own.
    const other = await server.authed();
    assert.equal(await other.result('events.count'), 0);
  });

  test('behaviour 65 with a real proposal.submit: count grows, the newest event comes first, metrics follow', async () => {
    const c = await server.authed();
    await c.result('session.init', { tools: [{ name: 'lookup' }] });
    const before = await c.result('events.count');
    const reply = c.call('proposal.submit', {
      proposal: { id: 'p-65', actions: [{ id: 'a0', type: 'tool_call', tool: 'lookup', parameters: { q: 1 } }] },
    });
    const req = await c.next();
    assert.equal(req.method, 'tools.execute');
    c.send({ jsonrpc: '2.0', id: req.id, result: { found: true } });
    assert.equal((await reply).result.results[0].status, 'succeeded');

    const after = await c.result('events.count');
    assert.ok(after > before, `events.count ${before} → ${after}`);
    const all = await c.result('events.query', { limit: 0 });
    const [newest] = (await c.result('events.query', { limit: 1 })).events;
    assert.deepEqual(newest, all.events[0]);
    assert.equal(newest.seq, after - 1);
    const succeeded = await c.result('events.query', { kinds: [EventKind.ActionSucceeded], proposal_id: 'p-65' });
    assert.equal(succeeded.count, 1);
    assert.equal(succeeded.events[0].action_id, 'a0');
    assert.equal(succeeded.events[0].data.tool, 'lookup');
    const summary = await c.result('metrics.summary');
    assert.equal(summary.actions_succeeded, 1);
    assert.equal(summary.success_rate, 1);
  });

  test('events.query filters, ordering and validation', async () => {
    const c = await server.authed();
    await emit(c, [
      { kind: 'ActionFailed', action_id: 'a1', data: { tool: 'net', will_retry: false } },
      { kind: 'ActionSucceeded', action_id: 'a2', data: { tool: 'net' } },
      { kind: 'ActionRejected', action_id: 'a3', data: { tool: 'shell' } },
    ]);
    const all = await c.result('events.query', {});
    assert.deepEqual(
      all.events.map((e: RuntimeEvent) => e.action_id),
      ['a3', 'a2', 'a1'],
    );
    const failed = await c.result('events.query', { kinds: ['ActionFailed', 'ActionRejected'] });
    assert.deepEqual(
      failed.events.map((e: RuntimeEvent) => e.action_id),
      ['a3', 'a1'],
    );
    const snake = await c.result('events.query', { kinds: ['action_failed', 'action_rejected'] });
    assert.deepEqual(snake.events.map((e: RuntimeEvent) => [e.action_id, e.kind]), [['a3', 'action_rejected'], ['a1', 'action_failed']]);
    const net = await c.result('events.query', { data_matches: { tool: 'net' }, action_id: 'a2' });
    assert.equal(net.count, 1);
    const middle = all.events[1].timestamp as string;
    const since = await c.result('events.query', { since: all.events[2].timestamp, limit: 0 });
    assert.equal(since.count, 3);
    const until = await c.result('events.query', { until: '2000-01-01T00:00:00Z' });
    assert.deepEqual(until, { count: 0, events: [] });
    const window = await c.result('events.query', { since: middle, until: '2999-01-01T00:00:00+02:00' });
    assert.ok(window.count >= 2);

    for (const bad of [
      { since: 'yesterday' },
      { until: 12 },
      { since: '2025-13-45T00:00:00Z' },
      { limit: -1 },
      { limit: 1.5 },
      { kinds: 'ActionFailed' },
      { data_matches: [1] },
    ]) {
      assert.equal(await errorCode(c, 'events.query', bad), -32602, JSON.stringify(bad));
    }
  });

  test('events.retention {policy:{max_events:2}} keeps events.count at most 2 (behaviour 66)', async () => {
    const c = await server.authed();
    assert.deepEqual(await c.result('events.retention', {}), { policy: {} });
    await emit(c, [{ kind: 'A' }, { kind: 'B' }, { kind: 'C' }]);
    assert.deepEqual(await c.result('events.retention', { policy: { max_events: 2 } }), {
      policy: { max_events: 2 },
      removed: 1,
    });
    for (let i = 0; i < 4; i++) {
      await emit(c, [{ kind: 'E', data: { i } }]);
      assert.ok((await c.result('events.count')) <= 2);
    }
    assert.equal(await c.result('events.count'), 2);
    assert.deepEqual(await c.result('events.retention'), { policy: { max_events: 2 } });
    assert.deepEqual(await c.result('events.retention', { policy: { max_age_secs: 3600, max_events: null } }), {
      policy: { max_age_secs: 3600 },
      removed: 0,
    });
    for (const bad of [{ max_events: 0 }, { max_events: 'two' }, { max_events: 1.5 }, { max_age_secs: 0 }, { max_age_secs: -1 }]) {
      assert.equal(await errorCode(c, 'events.retention', { policy: bad }), -32602, JSON.stringify(bad));
    }
    assert.deepEqual(await c.result('events.retention'), { policy: { max_age_secs: 3600 } });
  });

  test('events.chain.enable / verify: idempotent, verified count, and tampering found', async () => {
    const c = await server.authed();
    await emit(c, [{ kind: 'unchained' }]);
    assert.deepEqual(await c.result('events.chain.verify'), { verified: 0 });
    assert.deepEqual(await c.result('events.chain.enable'), { ok: true });
    assert.deepEqual(await c.result('events.chain.enable', {}), { ok: true });
    await emit(c, [{ kind: 'A' }, { kind: 'B' }, { kind: 'C' }, { kind: 'D' }]);
    assert.deepEqual(await c.result('events.chain.verify'), { verified: 4 });
    const [newest] = (await c.result('events.query', { limit: 1 })).events;
    assert.match(newest.hash, /^[0-9a-f]{64}$/);
    assert.match(newest.prev_hash, /^[0-9a-f]{64}$/);

    // Retention trimming the front keeps it verifiable.
    await c.result('events.retention', { policy: { max_events: 3 } });
    assert.deepEqual(await c.result('events.chain.verify'), { verified: 3 });

    await c.result('test.tamper', { op: 'edit', index: 1 });
    assert.deepEqual(await c.result('events.chain.verify'), { tampered_at: 1 });

    const d = await server.authed();
    await d.result('events.chain.enable');
    await emit(d, [{ kind: 'A' }, { kind: 'B' }, { kind: 'C' }, { kind: 'D' }]);
    await d.result('test.tamper', { op: 'delete', index: 2 });
    assert.deepEqual(await d.result('events.chain.verify'), { tampered_at: 2 });

    const e = await server.authed();
    await e.result('events.chain.enable');
    await emit(e, [{ kind: 'A' }, { kind: 'B' }, { kind: 'C' }, { kind: 'D' }]);
    await e.result('test.tamper', { op: 'swap', index: 1 });
    assert.deepEqual(await e.result('events.chain.verify'), { tampered_at: 1 });
  });

  test('metrics.summary, metrics.alerts and events.cost_by_agent after a synthetic stream', async () => {
    const c = await server.authed();
    const empty = await c.result('metrics.summary');
    assert.equal(empty.total_events, 0);
    assert.equal(empty.success_rate, 0);
    await emit(c, [
      { kind: EventKind.ActionSucceeded, action_id: 'a1', data: { duration_ms: 100 } },
      { kind: EventKind.ActionSucceeded, action_id: 'a2', data: { duration_ms: 200 } },
      { kind: EventKind.ActionSucceeded, action_id: 'a3', data: { duration_ms: 300 } },
      { kind: EventKind.ActionFailed, action_id: 'a4', data: { duration_ms: 400, will_retry: false } },
      { kind: EventKind.ActionFailed, action_id: 'a5', data: { duration_ms: 500, will_retry: false } },
      { kind: EventKind.ActionRejected, action_id: 'a6', data: { reason: 'policy' } },
      { kind: EventKind.InferenceMetered, data: { agent: 'a', tokens_in: 10, tokens_out: 5, cost_usd: 1.5 } },
      { kind: EventKind.InferenceMetered, data: { agent: 'b', tokens_in: 20, tokens_out: 1, cost_usd: 0.5 } },
      { kind: EventKind.GoalEvaluated, data: { met: false, grounded: false } },
    ]);
    const summary = await c.result('metrics.summary', {});
    assert.equal(summary.total_events, 9);
    assert.equal(summary.actions_succeeded, 3);
    assert.equal(summary.actions_failed, 2);
    assert.equal(summary.actions_rejected, 1);
    assert.equal(summary.success_rate, 0.6);
    assert.equal(summary.error_rate, 0.4);
    assert.equal(summary.avg_latency_ms, 300);
    assert.equal(summary.cost_usd, 2);
    assert.equal(summary.cumulative_cost_usd, 2);
    assert.equal(summary.tokens_in, 30);
    assert.equal(summary.tokens_out, 6);
    assert.equal(summary.goals_ungrounded, 1);
    const byAgent = [
      { agent: 'a', calls: 1, tokens_in: 10, tokens_out: 5, cost_usd: 1.5 },
      { agent: 'b', calls: 1, tokens_in: 20, tokens_out: 1, cost_usd: 0.5 },
    ];
    assert.deepEqual(summary.cost_by_agent, byAgent);
    assert.deepEqual(await c.result('events.cost_by_agent'), byAgent);

    const alerts = await c.result('metrics.alerts', { max_cost_usd: 1, max_error_rate: 0.25, max_avg_latency_ms: 250, max_goals_ungrounded: 0 });
    assert.deepEqual(alerts.summary, summary);
    assert.deepEqual(
      alerts.alerts.map((a: { kind: string }) => a.kind),
      ['cost_overage', 'error_rate', 'latency', 'goal_ungrounded'],
    );
    const suppressed = await c.result('metrics.alerts', { max_error_rate: 0.25, min_actions: 6 });
    assert.deepEqual(suppressed.alerts, []);
    assert.deepEqual((await c.result('metrics.alerts')).alerts, []);
    for (const bad of [{ max_error_rate: 2 }, { max_cost_usd: -1 }, { min_actions: 'five' }, { max_avg_latency_ms: 'x' }]) {
      assert.equal(await errorCode(c, 'metrics.alerts', bad), -32602, JSON.stringify(bad));
    }

    // Retention lowers cost_usd; the cumulative figure stays.
    await c.result('events.retention', { policy: { max_events: 1 } });
    const after = await c.result('metrics.summary');
    assert.equal(after.cost_usd, 0);
    assert.equal(after.cumulative_cost_usd, 2);
  });

  test('replan.set_config stores validated settings and answers null', async () => {
    const c = await server.authed();
    assert.deepEqual(await c.result('test.replan'), {
      max_replans: 0,
      delay_ms: 0,
      verify_before_execute: false,
      replan_on_rejected: false,
    });
    const reply = await c.call('replan.set_config', { max_replans: 3, delay_ms: 250, verify_before_execute: true });
    assert.deepEqual(reply.result, null);
    assert.deepEqual(await c.result('test.replan'), {
      max_replans: 3,
      delay_ms: 250,
      verify_before_execute: true,
      replan_on_rejected: false,
    });
    await c.result('replan.set_config', { max_replans: 1, delay_ms: 0, verify_before_execute: false, replan_on_rejected: true });
    assert.equal((await c.result('test.replan')).replan_on_rejected, true);
    for (const bad of [
      {},
      { max_replans: '3', delay_ms: 0, verify_before_execute: false },
      { max_replans: -1, delay_ms: 0, verify_before_execute: false },
      { max_replans: 1.5, delay_ms: 0, verify_before_execute: false },
      { max_replans: 1, delay_ms: 'soon', verify_before_execute: false },
      { max_replans: 1, delay_ms: -5, verify_before_execute: false },
      { max_replans: 1, delay_ms: 0, verify_before_execute: 'yes' },
      { max_replans: 1, delay_ms: 0, verify_before_execute: false, replan_on_rejected: 1 },
    ]) {
      assert.equal(await errorCode(c, 'replan.set_config', bad), -32602, JSON.stringify(bad));
    }
    // A refused call leaves the settings alone.
    assert.equal((await c.result('test.replan')).max_replans, 1);
  });

  test('with journalDir configured, each connection journals its events to <client_id>.jsonl', async () => {
    const before = new Set(readdirSync(journalDir));
    const c = await server.authed();
    assert.deepEqual(new Set(readdirSync(journalDir)), before, 'connecting alone writes nothing');
    await emit(c, [{ kind: 'A' }, { kind: 'B', data: { x: 1 } }]);
    const created = readdirSync(journalDir).filter((f) => !before.has(f));
    assert.equal(created.length, 1);
    assert.match(created[0]!, /^[0-9a-f-]{36}\.jsonl$/);
    const journal = readJournal(join(journalDir, created[0]!));
    const logged = (await c.result('events.query', { limit: 0 })).events.reverse();
    assert.deepEqual(journal.map((e) => ({ ...e, kind: e.kind.toLowerCase() })), logged, 'the wire names kinds in snake_case');
  });
});
