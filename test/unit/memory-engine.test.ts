import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { buildContext, contextBudget, SECTIONS } from '../../src/memory/context.js';
import { planConsolidation, CANDIDATE_TTL_MS, STALE_AFTER_MS } from '../../src/memory/consolidation.js';
import { MemoryEngine } from '../../src/memory/engine.js';
import { parseSnapshot, serializeSnapshot, snapshotOf } from '../../src/memory/snapshot.js';
import { terms } from '../../src/memory/text.js';
import { updateUtility, utilityFactor } from '../../src/memory/utility.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');
let tick = 0;
function at(offsetMs = 0): string {
  return new Date(T0 + offsetMs + tick++).toISOString();
}

function engineWith(facts: [string, string, ('pattern' | 'constraint')?][]): MemoryEngine {
  const e = new MemoryEngine();
  for (const [subject, body, kind] of facts) e.addFact({ subject, body, kind }, at());
  return e;
}

describe('memory engine: facts and retrieval', () => {
  test('facts get ws-N ids, the count grows by one per add, and a repeated id gets a suffix', () => {
    const e = new MemoryEngine();
    assert.equal(e.addFact({ subject: 'a', body: 'one' }, at()).node.id, 'ws-1');
    assert.equal(e.factCount, 1);
    assert.equal(e.addFact({ subject: 'b', body: 'two' }, at()).node.id, 'ws-2');
    assert.equal(e.addFact({ subject: 'c', body: 'three', id: 'k' }, at()).node.id, 'k');
    assert.equal(e.addFact({ subject: 'd', body: 'four', id: 'k' }, at()).node.id, 'k-2');
    assert.equal(e.addFact({ subject: 'e', body: 'five', id: 'k' }, at()).node.id, 'k-3');
    assert.equal(e.factCount, 5);
  });

  test('the analyzer drops stopwords, splits identifiers and stems plurals', () => {
    assert.deepEqual(terms('What language is the project_language in?'), ['language', 'project', 'language']);
    assert.deepEqual(terms('components Components'), ['component', 'component']);
  });

  test('E3: the language fact tops "what language is this project in?" with an activation in (0,1]', () => {
    const e = engineWith([
      ['project_language', 'TypeScript'],
      ['framework', 'React'],
      ['test_runner', 'vitest'],
      ['style_rule', 'no implicit any', 'constraint'],
    ]);
    const hits = e.query('what language is this project in?', { k: 3 });
    assert.equal(hits[0]!.node.subject, 'project_language');
    assert.ok(hits[0]!.score > 0 && hits[0]!.score <= 1, `score ${hits[0]!.score}`);
    for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1]!.score >= hits[i]!.score);
  });

  test('k is clamped to 1..50 and defaults to 5', () => {
    const e = new MemoryEngine();
    for (let i = 0; i < 60; i++) e.addFact({ subject: `item ${i}`, body: 'shared widget' }, at());
    assert.equal(e.query('widget').length, 5);
    assert.equal(e.query('widget', { k: 0 }).length, 1);
    assert.equal(e.query('widget', { k: 500 }).length, 50);
    assert.deepEqual(e.query('nothing matches this'), []);
    assert.deepEqual(e.query(''), []);
  });

  test('a fact reached only through the graph is found: codename → service → port', () => {
    const e = engineWith([
      ['Project Falcon', 'Project Falcon is the codename of the ledger service'],
      ['ledger port', 'The ledger service listens on port 7001'],
      ['ledger region', 'ledger runs in eu-west-1'],
      ['billing port', 'The billing service listens on port 7002'],
      ['search port', 'The search service listens on port 7003'],
      ['auth port', 'The auth service listens on port 7004'],
    ]);
    const lexical = e.query('which port does project Falcon listen on?', { k: 3, lexicalOnly: true }).map((h) => h.node.subject);
    const full = e.query('which port does project Falcon listen on?', { k: 3 }).map((h) => h.node.subject);
    assert.equal(full[0], 'Project Falcon');
    assert.equal(full[1], 'ledger port', `full ranking: ${full.join(', ')}`);
    assert.notEqual(lexical[1], 'ledger port', 'lexical ranking alone cannot tell the port facts apart');
  });

  test('accessed facts are counted unless touch is false', () => {
    const e = engineWith([['alpha', 'first letter']]);
    e.query('alpha', { touch: false });
    assert.equal(e.graph.getById('ws-1')!.access_count, 0);
    e.query('alpha');
    assert.equal(e.graph.getById('ws-1')!.access_count, 1);
    assert.notEqual(e.graph.getById('ws-1')!.last_accessed_at, null);
  });

  test('delete removes a fact from the graph, the index and the count', () => {
    const e = engineWith([['alpha', 'first letter'], ['beta', 'second letter']]);
    assert.equal(e.deleteFact('ws-1')!.subject, 'alpha');
    assert.equal(e.factCount, 1);
    assert.deepEqual(e.query('alpha').map((h) => h.node.id), []);
    assert.equal(e.deleteFact('ws-1'), undefined);
  });
});

describe('memory engine: supersession', () => {
  test('a newer fact on the same subject outranks the older one, which is kept and linked', () => {
    const e = new MemoryEngine();
    e.addFact({ subject: 'Project Language', body: 'JavaScript' }, at());
    const { node, superseded } = e.addFact({ subject: 'project_language', body: 'TypeScript' }, at());
    assert.deepEqual(superseded, ['ws-1']);
    const old = e.graph.getById('ws-1')!;
    assert.equal(old.superseded_by, node.id);
    assert.equal(old.valid, true, 'kept (for audit) until consolidation retires it');
    assert.equal(e.factCount, 2);
    const hits = e.query('project language');
    assert.deepEqual(hits.map((h) => h.node.body), ['TypeScript', 'JavaScript']);
    assert.ok(hits[0]!.score > hits[1]!.score);
    assert.ok(e.graph.explicitEdges(node.ix).some((edge) => edge.kind === 'supersedes' && edge.to === old.ix));
  });

  test('the same body again is a duplicate, not a supersession; another kind never supersedes', () => {
    const e = new MemoryEngine();
    e.addFact({ subject: 'db', body: 'Postgres' }, at());
    assert.deepEqual(e.addFact({ subject: 'db', body: 'postgres' }, at()).superseded, []);
    assert.deepEqual(e.addFact({ subject: 'db', body: 'never drop tables', kind: 'constraint' }, at()).superseded, []);
  });

  test('consolidation retires the superseded fact: out of queries and counts, still stored', () => {
    const e = new MemoryEngine();
    e.addFact({ subject: 'region', body: 'us-east-1' }, at());
    e.addFact({ subject: 'region', body: 'eu-west-1' }, at());
    const plan = planConsolidation(e, at());
    assert.deepEqual(plan.retire, ['ws-1']);
    e.applyConsolidation(plan, at());
    assert.equal(e.factCount, 1);
    assert.equal(e.graph.storedCount, 2);
    assert.equal(e.graph.getById('ws-1')!.valid, false);
    assert.notEqual(e.graph.getById('ws-1')!.invalidated_at, null);
    assert.deepEqual(e.query('region').map((h) => h.node.body), ['eu-west-1']);
  });
});

describe('memory engine: tenant scoping', () => {
  test('tenants are isolated in both directions, and from unscoped facts', () => {
    const e = new MemoryEngine();
    e.addFact({ subject: 'secret plan', body: 'launch on friday', tenant_id: 't1' }, at());
    e.addFact({ subject: 'secret plan', body: 'launch on monday', tenant_id: 't2' }, at());
    e.addFact({ subject: 'secret plan', body: 'launch on sunday' }, at());
    assert.deepEqual(e.query('secret plan', { tenant_id: 't1' }).map((h) => h.node.body), ['launch on friday']);
    assert.deepEqual(e.query('secret plan', { tenant_id: 't2' }).map((h) => h.node.body), ['launch on monday']);
    assert.deepEqual(e.query('secret plan').map((h) => h.node.body), ['launch on sunday']);
    assert.deepEqual(e.query('secret plan', { tenant_id: 't3' }), []);
    // Same subject in different tenants never supersedes across the boundary.
    assert.equal(e.facts('t1')[0]!.superseded_by, null);
    assert.equal(e.facts(null)[0]!.superseded_by, null);
  });

  test('a snapshot cannot link facts of different tenants', () => {
    const e = new MemoryEngine();
    e.reset(
      parseSnapshot(
        JSON.stringify({
          facts: [
            { id: 'a', subject: 'launch', body: 'friday', tenant_id: 't1' },
            { id: 'b', subject: 'rocket', body: 'blue', tenant_id: 't2' },
          ],
          edges: [{ from: 'a', to: 'b', kind: 'related', weight: 1 }],
        }),
      ),
    );
    assert.deepEqual(e.graph.edgeRecords(), []);
    assert.deepEqual(e.query('launch rocket', { tenant_id: 't2' }).map((h) => h.node.id), ['b']);
  });
});

describe('memory engine: consolidation', () => {
  test('a restated fact is merged at write time: one fact, confidence, tags and sources combined', () => {
    const e = new MemoryEngine();
    e.addFact({ subject: 'Editor', body: 'uses vim', tags: ['a'], confidence: 0.6, source: 'setup.md' }, at());
    const again = e.addFact({ subject: 'editor', body: 'Uses Vim.', tags: ['b'], confidence: 0.9, source: 'chat' }, at());
    assert.equal(again.duplicate, true);
    assert.equal(again.node.id, 'ws-1');
    assert.equal(e.factCount, 1);
    const kept = e.graph.getById('ws-1')!;
    assert.deepEqual(kept.tags.sort(), ['a', 'b']);
    assert.equal(kept.confidence, 0.9);
    assert.equal(kept.source, 'setup.md, chat');
    assert.equal(e.query('editor vim').length, 1, 'returned once, not once per restatement');
  });

  test('duplicates that arrive together in a loaded file merge into the oldest at the next dream pass', () => {
    const e = new MemoryEngine();
    e.reset(parseSnapshot(JSON.stringify({ facts: [{ id: 'a', subject: 'Editor', body: 'uses vim', tags: ['a'] }, { id: 'b', subject: 'editor', body: 'Uses Vim', tags: ['b'] }] })));
    e.query('editor vim');
    const plan = planConsolidation(e, at());
    assert.deepEqual(plan.merge, [{ keep: 'a', drop: ['b'] }]);
    e.applyConsolidation(plan, at());
    const kept = e.graph.getById('a')!;
    assert.deepEqual(kept.tags.sort(), ['a', 'b']);
    assert.equal(kept.access_count, 2);
    assert.equal(e.factCount, 1);
  });

  test('several facts about one person are distinct: none supersedes another, a dream pass keeps them all', () => {
    const e = new MemoryEngine();
    const bodies = ['Title: staff engineer', 'Reports to Dana Okafor', 'Works from the Lisbon office', 'Email: priya@acme.io', 'Phone extension 4412', 'Joined in March 2019', 'Collects vinyl records', 'Speaks Portuguese and French'];
    for (const body of bodies) assert.deepEqual(e.addFact({ subject: 'Priya Raman', body }, at()).superseded, []);
    const plan = planConsolidation(e, at());
    assert.deepEqual(plan.retire, []);
    e.applyConsolidation(plan, at());
    assert.equal(e.factCount, 8);
    assert.equal(e.query("Who is Priya Raman's boss?")[0]!.node.body, 'Reports to Dana Okafor');
  });

  test('a new value of the same attribute supersedes, whatever the phrasing; an explicit supersedes too', () => {
    const e = new MemoryEngine();
    e.addFact({ subject: 'Priya Raman', body: 'Her manager is Dana Okafor' }, at());
    e.addFact({ subject: 'Priya Raman', body: 'Works from the Lisbon office' }, at());
    assert.deepEqual(e.addFact({ subject: 'priya raman', body: 'Now reports to Tomas Novak' }, at()).superseded, ['ws-1']);
    assert.deepEqual(e.addFact({ subject: 'Priya Raman', body: 'Moved to the Berlin office' }, at()).superseded, ['ws-2']);
    e.addFact({ subject: 'Priya Raman', body: 'Collects vinyl records', id: 'hobby' }, at());
    assert.deepEqual(e.addFact({ subject: 'Priya Raman', body: 'Sold her records, took up climbing', supersedes: 'hobby' }, at()).superseded, ['hobby']);
    assert.deepEqual(e.addFact({ subject: 'Project Falcon', body: 'db: Postgres 15' }, at()).superseded, []);
    assert.deepEqual(e.addFact({ subject: 'Project Falcon', body: 'Database: PostgreSQL 16' }, at()).superseded, ['ws-6']);
    assert.deepEqual(e.addFact({ subject: 'Project Falcon', body: 'Database: PostgreSQL 16', tenant_id: 't1' }, at()).superseded, [], 'never across tenants');
    const plan = planConsolidation(e, at());
    assert.deepEqual(plan.retire.sort(), ['hobby', 'ws-1', 'ws-2', 'ws-6']);
    assert.equal(e.query('which database do we use for falcon?')[0]!.node.body, 'Database: PostgreSQL 16');
  });

  test('useful candidates are promoted, unused old ones rejected, stale patterns decayed, constraints kept', () => {
    const e = new MemoryEngine();
    e.addFact({ subject: 'hunch', body: 'cache might be stale', confidence: 0.3 }, new Date(T0).toISOString());
    e.addFact({ subject: 'guess', body: 'retry helps flaky deploys', confidence: 0.3 }, new Date(T0).toISOString());
    e.addFact({ subject: 'old fact', body: 'the wiki moved', confidence: 1 }, new Date(T0).toISOString());
    e.addFact({ subject: 'rule', body: 'never force push', kind: 'constraint' }, new Date(T0).toISOString());
    e.graph.getById('ws-2')!.access_count = 3;
    const now = new Date(T0 + Math.max(CANDIDATE_TTL_MS, STALE_AFTER_MS) + 1000).toISOString();
    e.graph.getById('ws-2')!.last_accessed_at = now;
    const plan = planConsolidation(e, now);
    assert.deepEqual(plan.reject, ['ws-1']);
    assert.deepEqual(plan.promote, [{ id: 'ws-2', confidence: 0.7 }]);
    assert.deepEqual(plan.decay.map((d) => d.id), ['ws-3']);
    e.applyConsolidation(plan, now);
    assert.equal(e.graph.getById('ws-3')!.confidence, 0.8);
    assert.equal(e.graph.getById('ws-3')!.decayed_at, now);
    // Decay happens once per period, not on every pass.
    assert.deepEqual(planConsolidation(e, now).decay, []);
    assert.equal(e.graph.getById('ws-4')!.confidence, 1);
    assert.equal(e.factCount, 3);
  });
});

describe('memory engine: context', () => {
  const e = engineWith([
    ['project_language', 'TypeScript'],
    ['framework', 'React'],
    ['test_runner', 'vitest'],
    ['style_rule', 'no implicit any', 'constraint'],
    ['component_rule', 'every new component gets a test file', 'constraint'],
  ]);

  test('six sections in order; constraints and facts present; most relevant fact last', () => {
    const ctx = buildContext(e, { query: 'which test runner and linter do we use for a new component?', identity: { scope: 'shared' } });
    const headings = [...ctx.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    assert.deepEqual(headings, [...SECTIONS]);
    const constraints = ctx.slice(ctx.indexOf('## Constraints'), ctx.indexOf('## Facts'));
    assert.match(constraints, /no implicit any/);
    assert.ok(constraints.indexOf('every new component') > constraints.indexOf('no implicit any'), 'the relevant rule comes last');
    const facts = ctx.slice(ctx.indexOf('## Facts'), ctx.indexOf('## Conversation')).trim().split('\n');
    assert.equal(facts.at(-1), '- test_runner: vitest');
    assert.match(ctx, /## Known Unknowns\n- Nothing stored mentions: linter\n/);
  });

  test('the fast variant has five sections and facts in creation order', () => {
    const ctx = buildContext(e, { query: 'React TypeScript vitest', identity: { scope: 'shared' }, fast: true });
    assert.deepEqual([...ctx.matchAll(/^## (.+)$/gm)].map((m) => m[1]), SECTIONS.slice(0, 5));
    const facts = ctx.slice(ctx.indexOf('## Facts'), ctx.indexOf('## Conversation'));
    assert.ok(facts.indexOf('TypeScript') < facts.indexOf('React') && facts.indexOf('React') < facts.indexOf('vitest'));
  });

  test('the budget follows the model window and is respected', () => {
    assert.equal(contextBudget(undefined), 8192);
    assert.equal(contextBudget(8192), 2048);
    assert.equal(contextBudget(10), 256);
    assert.equal(contextBudget(10_000_000), 32768);
    const big = new MemoryEngine();
    for (let i = 0; i < 400; i++) big.addFact({ subject: `note ${i}`, body: `deploy checklist item ${i} `.repeat(8) }, at());
    for (const window of [1024, 8192, 32768]) {
      const ctx = buildContext(big, { query: 'deploy checklist', modelContextWindow: window, identity: { scope: 'shared' } });
      assert.ok(Math.ceil(ctx.length / 4) <= contextBudget(window) + 32, `window ${window}: ${ctx.length} chars`);
      assert.match(ctx, /## Facts\n- note/);
    }
    const small = buildContext(big, { query: 'deploy checklist', modelContextWindow: 1024, identity: { scope: 'shared' } });
    const large = buildContext(big, { query: 'deploy checklist', modelContextWindow: 32768, identity: { scope: 'shared' } });
    assert.ok(large.length > small.length * 4);
  });
});

describe('memory engine: utility and snapshots', () => {
  test('utility_set clamps, zeroes non-finite values and keeps omitted fields', () => {
    const u = { utility_weight: 0, utility_exploration: 0 };
    assert.deepEqual(updateUtility(u, { utility_weight: 5 }), { utility_weight: 1, utility_exploration: 0 });
    assert.deepEqual(updateUtility(u, { utility_exploration: 9 }), { utility_weight: 1, utility_exploration: 4 });
    assert.deepEqual(updateUtility(u, { utility_weight: -1, utility_exploration: Number.NaN }), { utility_weight: 0, utility_exploration: 0 });
    assert.deepEqual(updateUtility(u, { utility_weight: Number.POSITIVE_INFINITY }), { utility_weight: 0, utility_exploration: 0 });
    assert.equal(utilityFactor({ access_count: 9, injection_count: 0 }, u, 10), 1);
  });

  test('utility weight favours facts with a track record', () => {
    const e = engineWith([['tip one', 'restart the worker'], ['tip two', 'restart the worker']]);
    e.graph.getById('ws-1')!.access_count = 20;
    updateUtility(e.utility, { utility_weight: 1 });
    assert.equal(e.query('restart worker', { touch: false })[0]!.node.id, 'ws-1');
  });

  test('snapshots round-trip facts, edges, skills and counters; foreign shapes are accepted', () => {
    const e = engineWith([['a', 'one'], ['a', 'two'], ['rule', 'be nice', 'constraint']]);
    e.skills.ingest({ name: 's', code: 'echo', domain: 'web' }, at());
    const copy = new MemoryEngine();
    copy.reset(parseSnapshot(serializeSnapshot(snapshotOf(e))));
    assert.equal(copy.factCount, 3);
    assert.equal(copy.graph.getById('ws-1')!.superseded_by, 'ws-2');
    assert.equal(copy.graph.edgeRecords().length, e.graph.edgeRecords().length);
    assert.equal(copy.skills.get('s')!.domain, 'web');
    assert.equal(copy.addFact({ subject: 'b', body: 'new' }, at()).node.id, 'ws-4');

    const seeds = parseSnapshot(JSON.stringify([{ text: 'Never deploy on Fridays', kind: 'Constraint', confidence: '0.9' }, { subject: 'x', body: 'y' }]));
    assert.equal(seeds.facts[0]!.kind, 'constraint');
    assert.equal(seeds.facts[0]!.confidence, 0.9);
    assert.equal(seeds.facts[1]!.kind, 'pattern');
    assert.throws(() => parseSnapshot('{"facts": [1]}'), /facts\[0\]/);
    assert.throws(() => parseSnapshot('{"facts": [{"subject": "x", "body": "y"}]'), /not valid JSON/);
    assert.throws(() => parseSnapshot('{"nodes": []}'), /no "facts" array/);
  });
});
