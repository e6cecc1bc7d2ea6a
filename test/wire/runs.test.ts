import assert from 'node:assert/strict';
import test, { after, before, describe } from 'node:test';
import { delay, type RawClient } from '../helpers/raw-client.js';
import { HOST_TOKEN, startServer, type TestServer } from '../helpers/server.js';
import { removeTempDir, tempDir } from '../helpers/temp.js';

const USAGE = 'runs.record_turns requires { run_id, turns: [RunTurn] }';

describe('runs.* over the wire', () => {
  let server: TestServer;
  let dir: string;
  let seq = 0;
  before(async () => {
    dir = tempDir('car-runs-wire-');
    server = await startServer({ runsDir: dir, runCompleteGraceMs: 250 });
  });
  after(async () => {
    await server.close();
    removeTempDir(dir);
  });

  const agent = (id = `agent-${++seq}`): Promise<RawClient> => server.authed({ params: { agent_id: id } });
  async function host(): Promise<RawClient> {
    const c = await server.connect();
    await c.result('session.auth', { host_token: HOST_TOKEN });
    return c;
  }

  test('proposal.submit inside an open run records each action as a turn of that run, live and on disk', async () => {
    const a = await agent('proposer');
    await a.result('session.init', { tools: [{ name: 'lookup' }] });
    const { run_id } = await a.result('runs.start', { intent: 'look things up' });
    const h = await host();
    await h.result('runs.subscribe', { run_id });
    const reply = a.call('proposal.submit', {
      proposal: { id: 'p-run', actions: [{ id: 'a0', type: 'tool_call', tool: 'lookup', parameters: { q: 'car' } }] },
    });
    const req = await a.next();
    assert.equal(req.method, 'tools.execute');
    a.send({ jsonrpc: '2.0', id: req.id, result: { found: 3 } });
    assert.equal((await reply).result.results[0].status, 'succeeded');
    const ev = await h.next();
    assert.equal(ev.method, 'runs.trace.event');
    assert.deepEqual([ev.params.record.record, ev.params.record.tool, ev.params.record.parameters, ev.params.record.output, ev.params.cursor], [
      'turn', 'lookup', { q: 'car' }, { found: 3 }, 1,
    ]);
    const trace = await h.result('runs.get_trace', { run_id });
    assert.deepEqual(trace.records.map((r: { record: string }) => r.record), ['started', 'turn']);
    assert.equal(trace.records[1].verifier_verdict, 'not_run');
    await a.result('runs.complete', { run_id, outcome: { status: 'success' } });
  });

  test('67: start needs an identity; agent_id comes from the binding or agent_name; idempotency_key is the run id', async () => {
    const anon = await server.authed();
    const err = await anon.error('runs.start', { intent: 'x' });
    assert.equal(err.code, -32602);
    assert.deepEqual(Object.keys(await anon.result('runs.start', { intent: 'x', agent_name: 'My Bot!' })).sort(), ['agent_id', 'run_id']);
    assert.equal((await anon.result('runs.start', { intent: 'x', agent_name: 'My Bot!' })).agent_id, 'name:my-bot');

    const a = await agent('bound-67');
    const first = await a.result('runs.start', { intent: 'x', idempotency_key: 'mission-67' });
    assert.deepEqual(first, { run_id: 'mission-67', agent_id: 'bound-67' });
    assert.deepEqual(await a.result('runs.start', { intent: 'again', idempotency_key: 'mission-67' }), first);
    const explicit = await a.result('runs.start', { intent: 'x', agent_id: 'someone-else' });
    assert.equal(explicit.agent_id, 'someone-else');
  });

  test('68: a second complete on the same run is an error; so is an unknown run', async () => {
    const a = await agent();
    const { run_id } = await a.result('runs.start', { intent: 'x' });
    const outcome = { status: 'success', summary: 'done', evidence: [], metrics: {}, timestamp: new Date().toISOString() };
    assert.deepEqual(await a.result('runs.complete', { run_id, outcome }), { run_id, ok: true });
    assert.match((await a.error('runs.complete', { run_id, outcome })).message, /already ended/);
    assert.match((await a.error('runs.complete', { run_id: 'no-such-run', outcome })).message, /not found/);
  });

  test('69: base_index counts what is stored; client indexes are ignored', async () => {
    const a = await agent();
    const { run_id } = await a.result('runs.start', { intent: 'x' });
    assert.deepEqual(await a.result('runs.record_turns', { run_id, turns: [{ index: 41, prompt: 'a' }, { index: 7 }] }), {
      run_id, base_index: 0, count: 2, ok: true,
    });
    assert.deepEqual(await a.result('runs.record_turns', { run_id, turns: [{ index: 0 }] }), { run_id, base_index: 2, count: 1, ok: true });
    const trace = await a.result('runs.get_trace', { run_id });
    assert.deepEqual(trace.records.filter((r: { kind: string }) => r.kind === 'turn').map((r: { index: number }) => r.index), [0, 1, 2]);
  });

  test('70: host-role and unbound connections get run_not_found; terminal runs get run_terminal', async () => {
    const a = await agent();
    const { run_id } = await a.result('runs.start', { intent: 'x' });
    const refused = { run_id, base_index: 0, count: 0, ok: false, dropped: 'run_not_found' };
    assert.deepEqual(await (await host()).result('runs.record_turns', { run_id, turns: [{}] }), refused);
    assert.deepEqual(await (await server.authed()).result('runs.record_turns', { run_id, turns: [{}] }), refused);
    await a.result('runs.complete', { run_id, outcome: { status: 'success' } });
    assert.equal((await a.result('runs.record_turns', { run_id, turns: [{}] })).dropped, 'run_terminal');
  });

  test('71: 257 turns, empty turns, empty run_id, malformed turn → usage error; long output truncated', async () => {
    const a = await agent();
    const { run_id } = await a.result('runs.start', { intent: 'x' });
    for (const params of [
      { run_id, turns: Array.from({ length: 257 }, () => ({})) },
      { run_id, turns: [] },
      { run_id, turns: 'nope' },
      { run_id: '', turns: [{}] },
      { run_id, turns: [{ prompt: 3 }] },
    ]) {
      const err = await a.error('runs.record_turns', params);
      assert.deepEqual([err.code, err.message], [-32602, USAGE]);
    }
    await a.result('runs.record_turns', { run_id, turns: [{ output: 'o'.repeat(20_000) }] });
    const { records } = await a.result('runs.get_trace', { run_id });
    const output = records[1].output as string;
    assert.ok(output.endsWith('…[truncated]'));
    assert.ok(output.length < 20_000);
  });

  test('72: subscribe mid-run: cursor == turns_so_far.length, next event has cursor + 1', async () => {
    const a = await agent();
    const { run_id, agent_id } = await a.result('runs.start', { intent: 'watch me' });
    await a.result('runs.record_turns', { run_id, turns: [{ prompt: '1' }, { prompt: '2' }] });
    const watcher = await host();
    const snap = await watcher.result('runs.subscribe', { run_id });
    assert.deepEqual([snap.run_id, snap.agent_id, snap.status, snap.cursor], [run_id, agent_id, 'in_progress', 2]);
    assert.equal(snap.turns_so_far.length, snap.cursor);
    await a.result('runs.record_turns', { run_id, turns: [{ prompt: '3' }] });
    const ev = await watcher.next();
    assert.equal(ev.method, 'runs.trace.event');
    assert.deepEqual([ev.params.run_id, ev.params.record.record, ev.params.record.index, ev.params.cursor], [run_id, 'turn', 2, snap.cursor + 1]);
    assert.equal(snap.turns_so_far[0].record, 'turn');
    await a.result('runs.complete', { run_id, outcome: { status: 'success' } });
    const end = await watcher.next();
    assert.deepEqual([end.params.record.record, end.params.cursor, end.params.status], ['ended', 3, 'completed']);
    assert.deepEqual(await watcher.result('runs.unsubscribe', { run_id }), { run_id, removed: false });
  });

  test('unsubscribe stops the events and reports removed', async () => {
    const a = await agent();
    const { run_id } = await a.result('runs.start', { intent: 'x' });
    const watcher = await host();
    await watcher.result('runs.subscribe', { run_id });
    assert.deepEqual(await watcher.result('runs.unsubscribe', { run_id }), { run_id, removed: true });
    await a.result('runs.record_turns', { run_id, turns: [{}] });
    // the next frame the watcher sees is the reply to this call, not a trace event
    assert.deepEqual(await watcher.result('runs.unsubscribe', { run_id }), { run_id, removed: false });
  });

  test('73: reads by neither owner nor host are rejected; unknown run → not_found', async () => {
    const a = await agent('owner-73');
    const { run_id } = await a.result('runs.start', { intent: 'first' });
    await delay(5);
    const second = await a.result('runs.start', { intent: 'second' });
    const listed = await a.result('runs.list', { agent_id: 'owner-73' });
    assert.deepEqual(listed.runs.map((r: { run_id: string }) => r.run_id), [second.run_id, run_id]);
    assert.deepEqual(Object.keys(listed.runs[0]).sort(), ['agent_id', 'intent', 'run_id', 'started_at', 'status', 'turn_count']);
    assert.equal((await (await host()).result('runs.list', { agent_id: 'owner-73' })).runs.length, 2);
    assert.deepEqual(await (await host()).result('runs.list', { agent_id: 'nobody' }), { agent_id: 'nobody', runs: [] });

    for (const stranger of [await agent('stranger-73'), await server.authed()]) {
      assert.match((await stranger.error('runs.list', { agent_id: 'owner-73' })).message, /only by that agent or the host/);
      assert.match((await stranger.error('runs.get_trace', { run_id })).message, /only by its agent or the host/);
      assert.match((await stranger.error('runs.subscribe', { run_id })).message, /only by its agent or the host/);
    }
    assert.deepEqual(await a.result('runs.get_trace', { run_id: 'no-such-run' }), { run_id: 'no-such-run', not_found: true });
    const trace = await (await host()).result('runs.get_trace', { run_id });
    assert.deepEqual([trace.agent_id, trace.cursor, trace.record_count, trace.records[0].record, trace.records[0].kind], ['owner-73', 0, 1, 'started', 'started']);
    const paged = await (await host()).result('runs.get_trace', { run_id, cursor: 1 });
    assert.deepEqual([paged.cursor, paged.records.length], [1, 0], 'the cursor echoes the request');
  });

  test('74: a disconnect without complete ends the run incomplete after the grace', async () => {
    const a = await agent('dropper-74');
    const { run_id } = await a.result('runs.start', { intent: 'x' });
    await a.result('runs.record_turns', { run_id, turns: [{ tool: 't' }] });
    const watcher = await host();
    await watcher.result('runs.subscribe', { run_id });
    await a.close();
    const ended = await watcher.next();
    assert.deepEqual([ended.params.record.kind, ended.params.status, ended.params.cursor], ['ended', 'incomplete', 1]);
    const trace = await watcher.result('runs.get_trace', { run_id });
    assert.deepEqual(trace.records.map((r: { kind: string }) => r.kind), ['started', 'turn', 'ended']);
    assert.equal(trace.records[2].status, 'incomplete');
  });

  test('the incomplete end waits for the grace period', async () => {
    const a = await agent();
    const { run_id } = await a.result('runs.start', { intent: 'x' });
    const b = await host();
    await b.result('runs.subscribe', { run_id });
    const closed = Date.now();
    await a.close();
    const ended = await b.next();
    assert.deepEqual([ended.params.record.kind, ended.params.status], ['ended', 'incomplete']);
    assert.ok(Date.now() - closed >= 240, `ended ${Date.now() - closed} ms after the disconnect, before the 250 ms grace`);
    assert.equal((await b.result('runs.get_trace', { run_id })).records.at(-1).status, 'incomplete');
  });

  test('tools.execute carries the current run id as session_id', async () => {
    const a = await agent();
    await a.result('tools.register', [{ name: 'search' }]);
    const { run_id } = await a.result('runs.start', { intent: 'x' });
    const reply = a.call('proposal.submit', { proposal: { actions: [{ id: 'a0', type: 'tool_call', tool: 'search', timeout_ms: 30_000 }] } });
    const req = await a.next();
    assert.equal(req.method, 'tools.execute');
    assert.equal(req.params.session_id, run_id);
    a.send({ jsonrpc: '2.0', id: req.id, result: { ok: 1 } });
    assert.ok('result' in (await reply));
  });
});
