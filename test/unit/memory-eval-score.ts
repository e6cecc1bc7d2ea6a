import MiniSearch from 'minisearch';
import { MemoryEngine } from '../../src/memory/engine.js';

/** Scoring shared by the retrieval-quality tests and the bench: the same numbers in both. */

export interface Scored {
  recallAt5: number;
  mrr: number;
  n: number;
  byGroup: Record<string, { recallAt5: number; n: number }>;
}

export type Ranker = (question: string) => string[];

/** recall@5 (a relevant fact in the top five) and MRR over the top ten, overall and per group. */
export function evaluate(questions: readonly { question: string; relevant: string[]; group: string }[], rank: Ranker): Scored {
  let hits = 0;
  let rr = 0;
  const byGroup: Record<string, { hits: number; n: number }> = {};
  for (const q of questions) {
    const ids = rank(q.question).slice(0, 10);
    const first = ids.findIndex((id) => q.relevant.includes(id));
    const g = (byGroup[q.group] ??= { hits: 0, n: 0 });
    g.n++;
    if (first >= 0 && first < 5) {
      hits++;
      g.hits++;
    }
    if (first >= 0) rr += 1 / (first + 1);
  }
  const n = questions.length;
  return {
    recallAt5: round(hits / n),
    mrr: round(rr / n),
    n,
    byGroup: Object.fromEntries(Object.entries(byGroup).map(([k, v]) => [k, { recallAt5: round(v.hits / v.n), n: v.n }])),
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** An engine holding `facts`, added one second apart. */
export function load(facts: readonly { id: string; subject: string; body: string; kind?: 'pattern' | 'constraint' }[]): MemoryEngine {
  const engine = new MemoryEngine();
  let clock = Date.parse('2026-06-01T00:00:00Z');
  for (const f of facts) engine.addFact({ id: f.id, subject: f.subject, body: f.body, kind: f.kind }, new Date((clock += 1000)).toISOString());
  return engine;
}

/** `memory.query` (the full graph walk), without counting accesses. */
export function ours(engine: MemoryEngine): Ranker {
  return (question) => engine.query(question, { k: 10, touch: false }).map((h) => h.node.id);
}

/** MiniSearch with its default settings over subject and body: plain BM25. */
export function bm25(facts: readonly { id: string; subject: string; body: string }[]): Ranker {
  const ms = new MiniSearch<{ id: string; subject: string; body: string }>({ fields: ['subject', 'body'] });
  ms.addAll(facts);
  return (question) => ms.search(question).slice(0, 10).map((r) => String(r.id));
}

export function describeScore(name: string, s: Scored): string {
  const groups = Object.entries(s.byGroup)
    .map(([g, v]) => `${g} ${v.recallAt5.toFixed(2)} (n=${v.n})`)
    .join(', ');
  return `${name}: recall@5 ${s.recallAt5.toFixed(3)}, MRR ${s.mrr.toFixed(3)} (n=${s.n}) — ${groups}`;
}
