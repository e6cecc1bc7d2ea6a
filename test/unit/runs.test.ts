import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';
import { fileSegment, readTurns, RunError, RunFiles, RunStore, RECORD_TURNS_USAGE, type TraceEvent } from '../../src/engine/runs/index.js';
import { tempDir } from '../helpers/temp.js';

const owner = { agentId: 'agent-1', clientId: 'c1' };

test('readTurns: usage error for empty, oversized or malformed batches', () => {
  for (const bad of [[], 'x', null, [1], [{ prompt: 5 }], Array.from({ length: 257 }, () => ({}))]) {
    assert.throws(() => readTurns(bad), (e: unknown) => e instanceof RunError && e.message === RECORD_TURNS_USAGE);
  }
  assert.equal(readTurns(Array.from({ length: 256 }, () => ({}))).length, 256);
});

test('readTurns: long strings truncated, huge turns replaced, verdict defaults to not_run', () => {
  const [t1] = readTurns([{ output: 'x'.repeat(20_000), parameters: { deep: ['y'.repeat(17_000)] } }]);
  assert.equal(t1!.verifier_verdict, 'not_run');
  assert.ok((t1!.output as string).endsWith('…[truncated]'));
  assert.equal((t1!.output as string).length, 16 * 1024 + '…[truncated]'.length);
  assert.ok(((t1!.parameters as { deep: string[] }).deep[0] as string).endsWith('…[truncated]'));
  const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'z'.repeat(10_000)]));
  const [t2] = readTurns([{ prompt: 'p', parameters: many }]);
  assert.equal(t2!.parameters, '…[truncated: turn exceeded 256 KiB]');
  assert.equal(t2!.prompt, '…[truncated: turn exceeded 256 KiB]');
});

test('fileSegment keeps ids inside their directory', () => {
  assert.equal(fileSegment('agent-1'), 'agent-1');
  assert.equal(fileSegment('name:my-bot'), 'name:my-bot');
  for (const id of ['..', '.', 'a/b', '../x', 'a\\b']) {
    const seg = fileSegment(id);
    assert.ok(!seg.includes('/') && !seg.includes('\\') && !seg.startsWith('.'), seg);
  }
  assert.notEqual(fileSegment('a/b'), fileSegment('a%2Fb'));
});

test('RunStore: indexes stamped by the store, limits and drop reasons', async () => {
  const store = new RunStore({ runsDir: null, completeGraceMs: 10 });
  const { run_id } = await store.start({ intent: 'i', agentId: 'agent-1', clientId: 'c1' });
  assert.deepEqual(await store.recordTurns(run_id, [{ index: 99 }, {}], owner), { run_id, base_index: 0, count: 2, ok: true });
  assert.deepEqual(await store.recordTurns(run_id, [{}], owner), { run_id, base_index: 2, count: 1, ok: true });
  const trace = await store.trace(run_id);
  assert.deepEqual(trace!.records.map((r) => (r.kind === 'turn' ? r.index : r.kind)), ['started', 0, 1, 2]);

  const stranger = await store.recordTurns(run_id, [{}], { agentId: 'other', clientId: 'c2' });
  assert.deepEqual(stranger, { run_id, base_index: 0, count: 0, ok: false, dropped: 'run_not_found' });
  assert.equal((await store.recordTurns('nope', [{}], owner) as { dropped: string }).dropped, 'run_not_found');

  for (let i = 0; i < 7; i++) await store.recordTurns(run_id, Array.from({ length: 256 }, () => ({})), owner);
  const full = await store.recordTurns(run_id, Array.from({ length: 256 }, () => ({})), owner);
  assert.equal((full as { dropped: string }).dropped, 'run_turn_limit');
  assert.equal((await store.trace(run_id))!.records.length, 1 + 3 + 7 * 256);

  await store.complete(run_id, { status: 'success' }, owner);
  assert.equal((await store.recordTurns(run_id, [{}], owner) as { dropped: string }).dropped, 'run_terminal');
  await assert.rejects(store.complete(run_id, { status: 'success' }, owner), (e: unknown) => e instanceof RunError && e.reason === 'terminal');
  await assert.rejects(store.complete('missing', { status: 'success' }, owner), (e: unknown) => e instanceof RunError && e.reason === 'not_found');
});

test('RunStore: subscribe snapshots atomically and later events carry the cursor', async () => {
  const store = new RunStore({ runsDir: null, completeGraceMs: 10 });
  const { run_id } = await store.start({ intent: 'i', agentId: 'agent-1', clientId: 'c1' });
  await store.recordTurns(run_id, [{ prompt: 'a' }, { prompt: 'b' }], owner);
  const events: TraceEvent[] = [];
  const snap = await store.subscribe(run_id, 'sub', (e) => (events.push(e), true));
  assert.equal(snap!.cursor, 2);
  assert.equal(snap!.turns_so_far.length, 2);
  await store.recordTurns(run_id, [{ prompt: 'c' }], owner);
  assert.equal(events[0]!.cursor, 3);
  assert.equal(events[0]!.record.kind, 'turn');
  await store.complete(run_id, { status: 'success' }, owner);
  assert.deepEqual([events[1]!.record.kind, events[1]!.cursor, events[1]!.status], ['ended', 3, 'completed']);
  assert.equal(store.unsubscribe(run_id, 'sub'), false);
});

test('RunStore: records are durable JSONL, readable by a fresh store', async (t) => {
  const dir = tempDir(t, 'car-runs-');
  const a = new RunStore({ runsDir: dir, completeGraceMs: 10 });
  const { run_id } = await a.start({ intent: 'ship it', agentId: 'name:bot', clientId: 'c1', idempotencyKey: 'key-1' });
  assert.equal(run_id, 'key-1');
  await a.recordTurns(run_id, [{ tool: 'shell', output: 'ok' }], { agentId: 'name:bot', clientId: 'c1' });
  const lines = readFileSync(new RunFiles(dir).pathOf('name:bot', run_id), 'utf8').trim().split('\n');
  assert.deepEqual(lines.map((l) => JSON.parse(l).kind), ['started', 'turn']);

  const b = new RunStore({ runsDir: dir, completeGraceMs: 10 });
  const again = await b.start({ intent: 'other', agentId: 'name:bot', clientId: 'c9', idempotencyKey: 'key-1' });
  assert.deepEqual(again, { run_id: 'key-1', agent_id: 'name:bot' });
  const trace = await b.trace('key-1');
  assert.equal(trace!.records.length, 2);
  assert.deepEqual(trace!.records.slice(1).map((r) => r.kind), ['turn']);
  assert.equal((await b.trace('key-1', 1))!.records.length, 1);
  const list = await b.list('name:bot');
  assert.deepEqual(list.map((r) => [r.run_id, r.status, r.turn_count]), [['key-1', 'in_progress', 1]]);
  assert.equal(await b.trace('unknown'), null);

  const c = new RunStore({ runsDir: dir, completeGraceMs: 10 });
  const intruder = { agentId: 'intruder', clientId: 'c7' };
  await assert.rejects(
    c.start({ intent: 'x', agentId: 'intruder', clientId: 'c7', idempotencyKey: 'key-1' }),
    (e: unknown) => e instanceof RunError && e.reason === 'conflict' && !e.message.includes('name:bot'),
  );
  assert.equal((await c.recordTurns('key-1', [{}], intruder) as { dropped: string }).dropped, 'run_not_found');
});

test('RunStore: a dropped connection ends its open runs incomplete after the grace', async (t) => {
  const dir = tempDir(t, 'car-runs-');
  const store = new RunStore({ runsDir: dir, completeGraceMs: 200 });
  const open = await store.start({ intent: 'i', agentId: 'agent-1', clientId: 'c1' });
  const done = await store.start({ intent: 'j', agentId: 'agent-1', clientId: 'c1' });
  await store.complete(done.run_id, { status: 'success' }, owner);
  store.connectionClosed('c1');
  assert.equal((await store.list('agent-1')).find((r) => r.run_id === open.run_id)!.status, 'in_progress');
  await new Promise((r) => setTimeout(r, 500));
  await store.close();
  const fresh = new RunStore({ runsDir: dir, completeGraceMs: 30 });
  const statuses = Object.fromEntries((await fresh.list('agent-1')).map((r) => [r.run_id, r.status]));
  assert.deepEqual(statuses, { [open.run_id]: 'incomplete', [done.run_id]: 'completed' });
  const ended = (await fresh.trace(open.run_id))!.records.at(-1)!;
  assert.equal(ended.kind, 'ended');
});

test('RunStore: close() ends abandoned runs without waiting for the grace', async () => {
  const store = new RunStore({ runsDir: null, completeGraceMs: 60_000 });
  const { run_id } = await store.start({ intent: 'i', agentId: 'agent-1', clientId: 'c1' });
  store.connectionClosed('c1');
  await store.close();
  assert.equal((await store.list('agent-1'))[0]!.status, 'incomplete');
  assert.equal((await store.trace(run_id))!.records.at(-1)!.kind, 'ended');
});

test('RunStore: writes are owner-binding only: not the starting connection, not unbound callers, not strangers', async () => {
  const store = new RunStore({ runsDir: null, completeGraceMs: 10 });
  const { run_id } = await store.start({ intent: 'i', agentId: 'agent-1', clientId: 'starter' });
  for (const caller of [{ agentId: null, clientId: 'starter' }, { agentId: 'agent-2', clientId: 'c2' }, { agentId: null, clientId: 'host' }]) {
    assert.equal(((await store.recordTurns(run_id, [{}], caller)) as { dropped: string }).dropped, 'run_not_found');
    await assert.rejects(store.complete(run_id, { status: 'x' }, caller), (e: unknown) => e instanceof RunError && e.reason === 'not_found');
  }
  assert.deepEqual(await store.complete(run_id, { status: 'done' }, { agentId: 'agent-1', clientId: 'elsewhere' }), { run_id, ok: true });
});

test('RunStore: runs a dead daemon left open are ended incomplete at start, with a reason', async (t) => {
  const dir = tempDir(t, 'car-runs-');
  const crashed = new RunStore({ runsDir: dir, completeGraceMs: 60_000 });
  const open = await crashed.start({ intent: 'i', agentId: 'agent-1', clientId: 'c1' });
  await crashed.recordTurns(open.run_id, [{ prompt: 'p' }], owner);
  const done = await crashed.start({ intent: 'j', agentId: 'agent-1', clientId: 'c1' });
  await crashed.complete(done.run_id, { status: 'success' }, owner);
  // No close(): the process died here.
  const next = new RunStore({ runsDir: dir, completeGraceMs: 10 });
  assert.equal(await next.recoverOrphans(), 1);
  const ended = (await next.trace(open.run_id))!.records.at(-1)!;
  assert.equal(ended.kind, 'ended');
  assert.equal(ended.kind === 'ended' && ended.status, 'incomplete');
  assert.match(ended.kind === 'ended' ? String(ended.outcome.summary) : '', /daemon stopped/);
  assert.equal(await next.recoverOrphans(), 0, 'idempotent');
  const statuses = Object.fromEntries((await next.list('agent-1')).map((r) => [r.run_id, r.status]));
  assert.deepEqual(statuses, { [open.run_id]: 'incomplete', [done.run_id]: 'completed' });
});

test('RunStore: a run left open by a dead daemon can still be completed by its owner', async (t) => {
  const dir = tempDir(t, 'car-runs-');
  const crashed = new RunStore({ runsDir: dir, completeGraceMs: 60_000 });
  const { run_id } = await crashed.start({ intent: 'i', agentId: 'agent-1', clientId: 'c1' });
  const next = new RunStore({ runsDir: dir, completeGraceMs: 10 });
  await assert.rejects(next.complete(run_id, { status: 'x' }, { agentId: 'agent-2', clientId: 'c2' }), /not found/);
  assert.deepEqual(await next.complete(run_id, { status: 'success' }, { agentId: 'agent-1', clientId: 'c3' }), { run_id, ok: true });
  assert.equal((await next.list('agent-1'))[0]!.status, 'completed');
});

test('RunStore: close() ends every open run, also those of connections still open', async (t) => {
  const dir = tempDir(t, 'car-runs-');
  const store = new RunStore({ runsDir: dir, completeGraceMs: 60_000 });
  const { run_id } = await store.start({ intent: 'i', agentId: 'agent-1', clientId: 'still-connected' });
  await store.close();
  const fresh = new RunStore({ runsDir: dir, completeGraceMs: 10 });
  assert.equal((await fresh.list('agent-1'))[0]!.status, 'incomplete');
  assert.equal(await fresh.recoverOrphans(), 0);
  assert.equal((await fresh.trace(run_id))!.records.at(-1)!.kind, 'ended');
});
