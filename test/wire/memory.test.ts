import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { after, before, describe } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.js';

describe('memory.* over the wire', () => {
  let server: TestServer;
  let memoryDir: string;
  before(async () => {
    memoryDir = mkdtempSync(join(tmpdir(), 'car-wire-memory-'));
    server = await startServer({ memoryDir });
  });
  after(async () => {
    await server.close();
    rmSync(memoryDir, { recursive: true, force: true });
  });

  test('43: add_fact returns a number that grows with each call', async () => {
    const c = await server.authed({ params: { memory_namespace: 'b43' } });
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) counts.push(await c.result('memory.add_fact', { subject: 'x', body: `y${i}`, kind: 'pattern' }));
    assert.deepEqual(counts, [1, 2, 3, 4]);
    assert.equal(await c.result('memory.fact_count', {}), 4);
    assert.equal(await c.result('memory.fact_count'), 4);
  });

  test('44: a fact added on unbound connection A is found on unbound connection B', async () => {
    const a = await server.authed();
    const b = await server.authed();
    await a.result('memory.add_fact', { subject: 'deploy_target', body: 'Cloudflare Workers' });
    const rows = await b.result('memory.query', { query: 'what runtime do we deploy to?' });
    assert.equal(rows[0].subject, 'deploy_target');
    assert.equal(rows[0].body, 'Cloudflare Workers');
    assert.equal(rows[0].kind, 'pattern');
    assert.equal(typeof rows[0].confidence, 'number');
    assert.match(rows[0].fact_id, /^ws-\d+$/);
    assert.deepEqual(Object.keys(rows[0]).sort(), ['body', 'confidence', 'fact_id', 'kind', 'source', 'subject', 'tags']);
  });

  test('45: different namespaces do not see each other (nor the shared graph), in both directions', async () => {
    const shared = await server.authed();
    const n1 = await server.authed({ params: { memory_namespace: 'team-one' } });
    const n2 = await server.authed({ params: { memory_namespace: 'team-two' } });
    const n1b = await server.authed({ params: { memory_namespace: 'team-one' } });
    await n1.result('memory.add_fact', { subject: 'codename', body: 'bluebird' });
    await n2.result('memory.add_fact', { subject: 'codename', body: 'redwing' });
    await shared.result('memory.add_fact', { subject: 'codename', body: 'greyhound' });
    const bodies = async (c: typeof shared): Promise<string[]> =>
      (await c.result('memory.query', { query: 'codename' })).map((r: { body: string }) => r.body);
    assert.deepEqual(await bodies(n1), ['bluebird']);
    assert.deepEqual(await bodies(n1b), ['bluebird'], 'same namespace, same graph');
    assert.deepEqual(await bodies(n2), ['redwing']);
    assert.ok(!(await bodies(shared)).includes('bluebird'));
    assert.ok(existsSync(join(memoryDir, 'memory-namespaces', 'team-one.json')) || existsSync(join(memoryDir, 'memory-namespaces', 'team-one.log')));
  });

  test('a bound agent_id gets its own graph; a namespace binding takes precedence over it', async () => {
    const agent = await server.authed({ params: { agent_id: 'wire-agent' } });
    await agent.result('memory.add_fact', { subject: 'agent_note', body: 'private to the agent' });
    const other = await server.authed();
    assert.deepEqual(await other.result('memory.query', { query: 'agent_note' }), []);
    assert.ok(existsSync(join(memoryDir, 'agents', 'wire-agent.log')));
    const both = await server.authed({ params: { agent_id: 'wire-agent-2', memory_namespace: 'ns-wins' } });
    await both.result('memory.add_fact', { subject: 'location', body: 'namespace graph' });
    const nsOnly = await server.authed({ params: { memory_namespace: 'ns-wins' } });
    assert.equal((await nsOnly.result('memory.query', { query: 'location' }))[0].body, 'namespace graph');
  });

  test('46: persist refuses .. and escaping symlinks with "memory.persist rejected path"', async () => {
    const c = await server.authed();
    for (const path of ['../x', 'a/../../x', '/etc/passwd']) {
      const err = await c.error('memory.persist', { path });
      assert.equal(err.code, -32603);
      assert.match(err.message, /^memory\.persist rejected path/);
    }
    mkdirSync(join(memoryDir, 'exports'), { recursive: true });
    symlinkSync(tmpdir(), join(memoryDir, 'exports', 'out'));
    assert.match((await c.error('memory.persist', { path: 'out/x.json' })).message, /^memory\.persist rejected path/);
    // A name can never reach a graph's own files: they live outside the export folder.
    await c.result('memory.persist', { path: 'memory-namespaces/team-one.json' });
    assert.ok(existsSync(join(memoryDir, 'exports', 'memory-namespaces', 'team-one.json')));
    for (const path of ['/etc/passwd', join(memoryDir, 'x.json')]) {
      const err = await c.error('memory.persist', { path });
      assert.match(err.message, /not an absolute path/);
      assert.doesNotMatch(err.message.replace(JSON.stringify(path), ''), /\//, 'no server path in the message');
    }
    assert.match((await c.error('memory.load', { path: '../x' })).message, /^memory\.load rejected path/);
  });

  test('a damaged namespace log: the bad line is skipped, the rest kept, and memory.maintain reports it', async () => {
    const dir = join(memoryDir, 'memory-namespaces');
    mkdirSync(dir, { recursive: true });
    const rec = (seq: number, subject: string): string =>
      JSON.stringify({ seq, op: 'add', at: '2026-01-01T00:00:00.000Z', origin: null, fact: { subject, body: `fact ${seq}` } });
    writeFileSync(join(dir, 'damaged.log'), [rec(1, 'a'), rec(2, 'b').slice(0, 30) + '#garbage', rec(3, 'c'), rec(4, 'd'), ''].join('\n'));
    const c = await server.authed({ params: { memory_namespace: 'damaged' } });
    assert.equal(await c.result('memory.fact_count', {}), 3);
    const report = await c.result('memory.maintain', {});
    assert.deepEqual(report.recovery.skipped_records, [{ file: 'damaged.log', line: 2, reason: 'not valid JSON' }]);
    assert.equal(report.recovery.rebuilt_from, 'empty');
    const clean = await server.authed({ params: { memory_namespace: 'clean-one' } });
    assert.equal((await clean.result('memory.maintain', {})).recovery, undefined);
  });

  test('47: load replaces the facts with the file\'s; a missing file is an error and changes nothing', async () => {
    const writer = await server.authed({ params: { memory_namespace: 'b47-writer' } });
    for (const [s, b] of [['a', '1'], ['b', '2'], ['c', '3']]) await writer.result('memory.add_fact', { subject: s, body: b });
    assert.equal(await writer.result('memory.persist', { path: 'snapshots/b47.json' }), 3);
    const file = JSON.parse(readFileSync(join(memoryDir, 'exports', 'snapshots', 'b47.json'), 'utf8'));
    assert.equal(file.facts.length, 3);

    const reader = await server.authed({ params: { memory_namespace: 'b47-reader' } });
    await reader.result('memory.add_fact', { subject: 'mine', body: 'before load' });
    const missing = await reader.error('memory.load', { path: 'snapshots/nope.json' });
    assert.match(missing.message, /no such file/);
    assert.equal(await reader.result('memory.fact_count', {}), 1);
    writeFileSync(join(memoryDir, 'exports', 'snapshots', 'broken.json'), '{"facts": [');
    assert.match((await reader.error('memory.load', { path: 'snapshots/broken.json' })).message, /not valid JSON/);
    assert.equal(await reader.result('memory.fact_count', {}), 1);

    assert.equal(await reader.result('memory.load', { path: 'snapshots/b47.json' }), 3);
    assert.equal(await reader.result('memory.fact_count', {}), 3);
    assert.deepEqual(await reader.result('memory.query', { query: 'mine' }), []);
  });

  test('48: utility_set clamps, keeps omitted fields, zeroes non-finite; utility_get reads back', async () => {
    const a = await server.authed();
    const b = await server.authed();
    assert.deepEqual(await a.result('memory.utility_set', { utility_weight: 5 }), { utility_weight: 1, utility_exploration: 0 });
    assert.deepEqual(await a.result('memory.utility_set', { utility_exploration: 2.5 }), { utility_weight: 1, utility_exploration: 2.5 });
    assert.deepEqual(await b.result('memory.utility_get', {}), { utility_weight: 1, utility_exploration: 2.5 }, 'global');
    assert.deepEqual(await a.result('memory.utility_set', { utility_exploration: 99 }), { utility_weight: 1, utility_exploration: 4 });
    a.send('{"jsonrpc":"2.0","id":"inf","method":"memory.utility_set","params":{"utility_weight":1e999}}');
    const inf = await a.next();
    assert.deepEqual(inf.result, { utility_weight: 0, utility_exploration: 4 });
    assert.deepEqual(await a.result('memory.utility_set', { utility_weight: null, utility_exploration: -3 }), { utility_weight: 0, utility_exploration: 0 });
    assert.equal((await a.error('memory.utility_set', { utility_weight: { x: 1 } })).code, -32602);
  });

  test('build_context: six sections in order with the E3 window; fast has five', async () => {
    const c = await server.authed({ params: { memory_namespace: 'ctx' } });
    await c.result('memory.add_fact', { subject: 'project_language', body: 'TypeScript' });
    await c.result('memory.add_fact', { subject: 'framework', body: 'React' });
    await c.result('memory.add_fact', { subject: 'style_rule', body: 'no implicit any', kind: 'constraint' });
    await c.result('memory.update_status', { body: 'reviewing PR 42' });
    const ctx: string = await c.result('memory.build_context', {
      query: 'The user wants to add a new component. What conventions apply?',
      model_context_window: 8192,
    });
    assert.deepEqual([...ctx.matchAll(/^## (.+)$/gm)].map((m) => m[1]), ['Identity', 'Constraints', 'Facts', 'Conversation', 'Environment', 'Known Unknowns']);
    assert.match(ctx.slice(0, 280), /## Constraints\n- style_rule: no implicit any/);
    assert.match(ctx, /Memory namespace: ctx/);
    assert.match(ctx, /Status: reviewing PR 42/);
    const fast: string = await c.result('memory.build_context_fast', { query: 'React' });
    assert.deepEqual([...fast.matchAll(/^## (.+)$/gm)].map((m) => m[1]), ['Identity', 'Constraints', 'Facts', 'Conversation', 'Environment']);
    assert.equal((await c.error('memory.build_context', { query: 'x', model_context_window: -5 })).code, -32602);
  });

  test('kind is any string: "constraint" (any case) is a constraint, anything else a pattern; a missing subject is -32602', async () => {
    const c = await server.authed({ params: { memory_namespace: 'kinds' } });
    await c.result('memory.add_fact', { subject: 'rule', body: 'no eval', kind: 'Constraint' });
    assert.match(await c.result('memory.build_context', { query: 'eval' }), /## Constraints\n- rule: no eval/);
    assert.equal(await c.result('memory.add_fact', { subject: 'opinion', body: 'tabs are fine', kind: 'opinion' }), 2);
    const [row] = await c.result('memory.query', { query: 'tabs', k: 1 });
    assert.equal(row.kind, 'pattern');
    assert.equal((await c.error('memory.add_fact', { body: 'y' })).code, -32602);
  });

  test('proactive memory: save, intervene, evaluate, delete, status slot', async () => {
    const c = await server.authed({ params: { memory_namespace: 'proactive' } });
    const k = await c.result('memory.save_knowledge', { id: 'deploy-key', subject: 'deploy key location', body: 'the deploy key is in vault path ops/deploy', tags: ['ops'], confidence: '0.9' });
    assert.deepEqual(k, { id: 'deploy-key', kind: 'knowledge', fact_count: 1 });
    const again = await c.result('memory.save_knowledge', { id: 'deploy-key', subject: 'deploy key rotation', body: 'rotate the deploy key monthly' });
    assert.equal(again.id, 'deploy-key-2');
    const p = await c.result('memory.save_procedural', { subject: 'flaky migration', body: 'run the migration twice when it times out', confidence: 'high' });
    assert.equal(p.kind, 'procedural');
    assert.equal(p.fact_count, 3);

    const silent = await c.result('memory.intervene', { query: 'what is for lunch' });
    assert.equal(silent.decision, 'silent');
    assert.equal(silent.reason, 'no_candidates');
    assert.deepEqual(silent.bank, { size: 3, knowledge: 2, procedural: 1 });

    const weak = await c.result('memory.intervene', { query: 'the migration is slow' });
    assert.equal(weak.decision, 'silent');
    const triggered = await c.result('memory.intervene', { query: 'the migration timed out again', trigger: { tool_error: true, repeated_failures: 2 } });
    assert.equal(triggered.decision, 'inject');
    assert.equal(triggered.selected.id, p.id);
    assert.match(triggered.reminder, /run the migration twice/);
    assert.equal(triggered.selected.injections, 0);
    const forced = await c.result('memory.intervene', { query: 'deploy key', force: true, max_candidates: 1 });
    assert.equal(forced.decision, 'inject');
    assert.equal(forced.candidates.length, 1);

    const evaluation = await c.result('memory.evaluate', {
      cases: [
        { id: 'c1', request: { query: 'where is the deploy key in vault?' }, relevant_fact_ids: ['deploy-key'] },
        { id: 'c2', request: { query: 'tell me a joke', trigger: { tool_error: false } }, relevant_fact_ids: [] },
      ],
    });
    const asString = await c.result('memory.evaluate', { cases: [{ id: 'c1', request: 'where is the deploy key in vault?', relevant_fact_ids: ['deploy-key'] }] });
    assert.deepEqual(asString.cases[0], evaluation.cases[0], 'a bare query string is read as {query}');
    for (const mode of ['selective', 'always_inject', 'passive_retrieval', 'no_memory']) {
      assert.deepEqual(Object.keys(evaluation[mode]).sort(), [
        'avg_candidates_exposed', 'false_negatives', 'false_positives', 'interruption_rate', 'interventions', 'precision', 'recall', 'true_positives',
      ]);
    }
    assert.equal(evaluation.no_memory.recall, 0);
    assert.equal(evaluation.passive_retrieval.interventions, 0);
    assert.equal(evaluation.passive_retrieval.true_positives, 1);
    assert.equal(evaluation.cases.length, 2);

    const status = await c.result('memory.update_status', { body: 'migrating', tenant_id: 'acme' });
    assert.deepEqual(status, { id: 'proactive-status:acme', body: 'migrating', tenant_id: 'acme' });
    assert.deepEqual(await c.result('memory.update_status', { body: 'idle' }), { id: 'proactive-status:global', body: 'idle' });
    const cleared = await c.result('memory.delete', { id: 'proactive-status:global' });
    assert.deepEqual(cleared, { id: 'proactive-status:global', deleted: true, kind: 'status', fact_count: 3 });
    assert.deepEqual(await c.result('memory.delete', { id: 'deploy-key-2' }), { id: 'deploy-key-2', deleted: true, kind: 'knowledge', fact_count: 2 });
    assert.deepEqual(await c.result('memory.delete', { id: 'nope' }), { id: 'nope', deleted: false, kind: null, fact_count: 2 });
  });

  test('maintain turns recent failures into procedural memories, idempotently', async () => {
    const c = await server.authed({ params: { memory_namespace: 'maintain' } });
    const first = await c.result('memory.maintain', {});
    assert.deepEqual(first, {
      trigger: { repeated_failures: 0, tool_error: false, explicit_uncertainty: false, high_risk_action: false, context_shift: false },
      saved: 0,
      skipped_existing: 0,
    });
    const session = [...server.state.sessions.values()].find((s) => s.memoryNamespace === 'maintain')!;
    session.events.append('ActionFailed', { action_id: 'a1', data: { tool: 'shell', error: 'exit 1: permission denied' } });
    session.events.append('ActionFailed', { action_id: 'a2', data: { tool: 'shell', error: 'exit 1: permission denied' } });
    await c.result('memory.update_status', { body: 'fixing perms' });
    const second = await c.result('memory.maintain', { max_recent: 8 });
    assert.equal(second.saved, 1);
    assert.equal(second.trigger.repeated_failures, 2);
    assert.equal(second.status.body, 'fixing perms');
    const third = await c.result('memory.maintain', {});
    assert.equal(third.saved, 0);
    assert.equal(third.skipped_existing, 1);
    const kinds = session.events.all().map((e) => e.kind);
    assert.equal(kinds.filter((k) => k === 'ProactiveMemoryMaintained').length, 3);
  });

  test('consolidate returns a report with the candidate counters', async () => {
    const c = await server.authed({ params: { memory_namespace: 'dream' } });
    assert.equal(await c.result('memory.add_fact', { subject: 'editor', body: 'vim' }), 1);
    assert.equal(await c.result('memory.add_fact', { subject: 'Editor', body: 'Vim' }), 1, 'a restatement merges at write time');
    await c.result('memory.add_fact', { subject: 'region', body: 'us-east-1' });
    await c.result('memory.add_fact', { subject: 'region', body: 'eu-west-1' });
    await c.result('memory.add_fact', { subject: 'Priya Raman', body: 'Collects vinyl records' });
    await c.result('memory.add_fact', { subject: 'Priya Raman', body: 'Phone extension 4412' });
    const report = await c.result('memory.consolidate', null);
    assert.deepEqual(report.candidates_promoted, []);
    assert.deepEqual(report.candidates_rejected, []);
    assert.deepEqual([report.candidates_promoted_count, report.candidates_rejected_count], [0, 0]);
    assert.equal(report.merged, 0);
    assert.equal(report.superseded_retired, 1);
    assert.deepEqual(report.details.retired, [{ id: 'ws-2', superseded_by: 'ws-3', reason: 'superseded' }]);
    assert.equal(report.facts_before, 5);
    assert.equal(report.facts_after, 4);
    assert.equal(typeof report.duration_ms, 'number');
    assert.equal(await c.result('memory.fact_count', {}), 4);
  });
});

describe('memory.* without a memory directory', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.close();
  });

  test('persist and load are refused with a clear error; everything else works in memory', async () => {
    const c = await server.authed({ params: { memory_namespace: 'volatile' } });
    assert.equal(await c.result('memory.add_fact', { subject: 'a', body: 'b' }), 1);
    const err = await c.error('memory.persist', { path: 'x.json' });
    assert.equal(err.code, -32603);
    assert.match(err.message, /memory\.persist is unavailable/);
    assert.match((await c.error('memory.load', { path: 'x.json' })).message, /memory\.load is unavailable/);
  });
});
