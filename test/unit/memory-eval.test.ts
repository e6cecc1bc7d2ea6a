import assert from 'node:assert/strict';
import test from 'node:test';
import { planConsolidation } from '../../src/memory/consolidation.js';
import { buildCorpus } from './memory-corpus.js';
import { buildEvalCorpus, type EvalQuestion } from './memory-eval-corpus.js';
import { bm25, describeScore as line, evaluate, load, ours, type Scored } from './memory-eval-score.js';

/**
 * Retrieval quality against plain BM25 (MiniSearch, default settings) on the same facts, in the
 * same run: on the entity-centric benchmark (dev and held-out check splits), after a dream pass,
 * and on the older attribute-per-subject corpus. Quality only; nothing here is timed.
 */

function split(questions: EvalQuestion[], which: 'dev' | 'check'): EvalQuestion[] {
  return questions.filter((q) => q.split === which);
}

test('entity-centric benchmark: memory.query beats BM25 by at least 0.10 recall@5 on both splits, and a dream pass changes nothing', (t) => {
  const { facts, questions } = buildEvalCorpus();
  assert.ok(facts.length >= 1900 && facts.length <= 2100, `${facts.length} facts`);
  assert.ok(split(questions, 'dev').length >= 50 && split(questions, 'check').length >= 50);
  const subjects = new Map<string, number>();
  for (const f of facts) subjects.set(f.subject, (subjects.get(f.subject) ?? 0) + 1);
  assert.ok([...subjects.values()].filter((c) => c >= 5).length >= 200, 'several facts per entity, the entity name as subject');

  const engine = load(facts);
  const baseline = bm25(facts);
  const results: Record<string, { ours: Scored; bm25: Scored }> = {};
  for (const which of ['dev', 'check'] as const) {
    const qs = split(questions, which);
    results[which] = { ours: evaluate(qs, ours(engine)), bm25: evaluate(qs, baseline) };
    t.diagnostic(line(`${which} memory.query`, results[which].ours));
    t.diagnostic(line(`${which} MiniSearch BM25`, results[which].bm25));
  }

  // Distinct facts about one person are not supersessions: a dream pass must not retire them.
  const before = engine.factCount;
  const plan = planConsolidation(engine, '2026-06-02T00:00:00Z');
  engine.applyConsolidation(plan, '2026-06-02T00:00:00Z');
  t.diagnostic(`consolidation: ${before} → ${engine.factCount} facts (retired ${plan.retire.length}, merged ${plan.merge.length})`);
  assert.equal(plan.retire.length, 40, 'exactly the 40 updated attributes are retired');
  assert.equal(engine.factCount, facts.length - 40);
  for (const which of ['dev', 'check'] as const) {
    const after = evaluate(split(questions, which), ours(engine));
    t.diagnostic(line(`${which} memory.query after consolidate`, after));
    assert.ok(Math.abs(after.recallAt5 - results[which]!.ours.recallAt5) <= 0.01, `${which}: consolidation moved recall@5 to ${after.recallAt5}`);
  }

  for (const which of ['dev', 'check'] as const) {
    const r = results[which]!;
    assert.ok(r.ours.recallAt5 >= r.bm25.recallAt5 + 0.1 && r.ours.recallAt5 >= (which === 'dev' ? 0.95 : 0.8), `${which}: recall@5 ${r.ours.recallAt5} vs BM25 ${r.bm25.recallAt5}`);
    assert.ok(r.ours.mrr > r.bm25.mrr, `${which}: MRR ${r.ours.mrr} vs BM25 ${r.bm25.mrr}`);
    assert.equal(r.ours.byGroup.updated!.recallAt5, 1, `${which}: the newest value is always found`);
  }
});

test('the older attribute-per-subject corpus: memory.query still beats BM25', (t) => {
  const { facts, questions } = buildCorpus();
  const engine = load(facts);
  const a = evaluate(questions, ours(engine));
  const b = evaluate(questions, bm25(facts));
  t.diagnostic(line('memory.query', a));
  t.diagnostic(line('MiniSearch BM25', b));
  assert.ok(a.recallAt5 >= b.recallAt5 + 0.1 && a.mrr > b.mrr);
});
