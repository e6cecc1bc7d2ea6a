import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import MiniSearch from 'minisearch';
import { writeFileAtomic } from '../src/util/durable-file.js';
import { buildContext } from '../src/memory/context.js';
import { DurableStore } from '../src/memory/durable-log.js';
import { MemoryEngine } from '../src/memory/engine.js';
import { MemoryScope } from '../src/memory/scope.js';
import { parseSnapshot, serializeSnapshot, snapshotOf } from '../src/memory/snapshot.js';
import { terms } from '../src/memory/text.js';
import { planConsolidation } from '../src/memory/consolidation.js';
import { buildCorpus, type Corpus, type CorpusFact } from '../test/unit/memory-corpus.js';
import { buildEvalCorpus } from '../test/unit/memory-eval-corpus.js';
import { bm25, evaluate, load as evalLoad, ours, type Scored } from '../test/unit/memory-eval-score.js';
import { log } from './log.js';
import { percentile } from './stats.js';
import { formatNumber, formatTable } from './table.js';

/**
 * In-process bench of the memory engine: write throughput (in memory, and durable with fsync),
 * query and context latency at 10k and 100k facts, snapshot write/load, heap per fact, and the
 * retrieval quality of the fixed corpus. No server is involved. Facts come from the corpus
 * generator (the 2,000-fact corpus, then more generated with other seeds), so they look alike in
 * vocabulary and size, which is the hard case for a lexical index.
 */

export const MEMORY_SETTINGS = {
  sizes: [10_000, 100_000],
  warmupQueries: 300,
  measuredQueries: 2000,
  contextRuns: 300,
  durableSequentialWrites: 500,
  durableConcurrentWrites: 20_000,
  durableWriters: 64,
  targetQueryP95Ms: 5,
} as const;

function factsFor(n: number): CorpusFact[] {
  const out: CorpusFact[] = [];
  for (let c = 0; out.length < n; c++) {
    for (const f of buildCorpus(c === 0 ? undefined : 1000 + c).facts) {
      if (out.length >= n) break;
      out.push({ ...f, id: `c${c}-${f.id}` });
    }
  }
  return out;
}

function load(engine: MemoryEngine, facts: CorpusFact[]): void {
  let clock = Date.parse('2026-01-01T00:00:00Z');
  for (const f of facts) engine.addFact({ id: f.id, subject: f.subject, body: f.body, kind: f.kind }, new Date((clock += 1000)).toISOString());
}

function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function timeQueries(
  run: (q: string) => unknown,
  questions: string[],
  warmupQueries: number = MEMORY_SETTINGS.warmupQueries,
  measuredQueries: number = MEMORY_SETTINGS.measuredQueries,
): { p50: number; p95: number } {
  for (let i = 0; i < warmupQueries; i++) run(questions[i % questions.length]!);
  const samples: number[] = [];
  for (let i = 0; i < measuredQueries; i++) {
    const q = questions[i % questions.length]!;
    const t0 = performance.now();
    run(q);
    samples.push(performance.now() - t0);
  }
  return { p50: percentile(samples, 0.5), p95: percentile(samples, 0.95) };
}

interface Row {
  phase: string;
  value: string;
  unit: string;
}

export interface MemoryBenchResult {
  rows: Row[];
  queryP95At100k: number;
  /** recall@5 / MRR per corpus and system, measured in this run. */
  quality: QualityRow[];
}

interface QualityRow {
  corpus: string;
  system: string;
  recallAt5: number;
  mrr: number;
}

/** The retrieval benchmarks: ours, plain BM25 (MiniSearch defaults) and ours after a dream pass, on the same facts. */
function measureQuality(): QualityRow[] {
  const out: QualityRow[] = [];
  const add = (corpus: string, system: string, s: Scored): void => {
    out.push({ corpus, system, recallAt5: s.recallAt5, mrr: s.mrr });
  };
  const entity = buildEvalCorpus();
  const engine = evalLoad(entity.facts);
  const baseline = bm25(entity.facts);
  const splits = ['dev', 'check'] as const;
  for (const split of splits) {
    const qs = entity.questions.filter((q) => q.split === split);
    add(`entity-centric ${split} (${qs.length} q)`, 'memory.query', evaluate(qs, ours(engine)));
    add(`entity-centric ${split} (${qs.length} q)`, 'MiniSearch BM25', evaluate(qs, baseline));
  }
  const at = '2026-06-02T00:00:00Z';
  engine.applyConsolidation(planConsolidation(engine, at), at);
  for (const split of splits) {
    const qs = entity.questions.filter((q) => q.split === split);
    add(`entity-centric ${split} (${qs.length} q)`, 'memory.query after consolidate', evaluate(qs, ours(engine)));
  }
  const older = buildCorpus();
  const olderEngine = evalLoad(older.facts);
  add('attribute-per-subject (100 q)', 'memory.query', evaluate(older.questions, ours(olderEngine)));
  add('attribute-per-subject (100 q)', 'MiniSearch BM25', evaluate(older.questions, bm25(older.facts)));
  return out;
}

async function writeThroughput(rows: Row[], dir: string, facts: CorpusFact[]): Promise<void> {
  const shared = new MemoryScope('shared', null, new MemoryEngine(), null);
  const n = 50_000;
  let t0 = performance.now();
  for (let i = 0; i < n; i++) await shared.addFact({ subject: facts[i]!.subject, body: facts[i]!.body });
  rows.push({ phase: 'add_fact, shared graph (in memory)', value: formatNumber(n / ((performance.now() - t0) / 1000)), unit: 'facts/s' });

  const s = MEMORY_SETTINGS;
  const seqEngine = new MemoryEngine();
  const seq = await DurableStore.open(join(dir, 'seq.json'), seqEngine);
  const durable = new MemoryScope('namespace', 'bench', seqEngine, seq.store);
  const latencies: number[] = [];
  t0 = performance.now();
  for (let i = 0; i < s.durableSequentialWrites; i++) {
    const w0 = performance.now();
    await durable.addFact({ subject: facts[i]!.subject, body: facts[i]!.body });
    latencies.push(performance.now() - w0);
  }
  const seqRate = s.durableSequentialWrites / ((performance.now() - t0) / 1000);
  rows.push({ phase: 'add_fact, durable namespace, 1 writer (fdatasync each)', value: formatNumber(seqRate), unit: 'facts/s' });
  rows.push({ phase: '  acknowledged-write latency p50 / p95', value: `${formatNumber(percentile(latencies, 0.5))} / ${formatNumber(percentile(latencies, 0.95))}`, unit: 'ms' });
  await durable.close();

  const conEngine = new MemoryEngine();
  const con = await DurableStore.open(join(dir, 'concurrent.json'), conEngine);
  const concurrent = new MemoryScope('namespace', 'bench2', conEngine, con.store);
  let next = 0;
  t0 = performance.now();
  await Promise.all(
    Array.from({ length: s.durableWriters }, async () => {
      while (next < s.durableConcurrentWrites) {
        const f = facts[next++ % facts.length]!;
        await concurrent.addFact({ subject: f.subject, body: f.body });
      }
    }),
  );
  rows.push({
    phase: `add_fact, durable namespace, ${s.durableWriters} writers (group commit)`,
    value: formatNumber(s.durableConcurrentWrites / ((performance.now() - t0) / 1000)),
    unit: 'facts/s',
  });
  await concurrent.close();
}

function miniSearchBaseline(facts: CorpusFact[], questions: string[]): { p50: number; p95: number } {
  const ms = new MiniSearch<{ id: number; subject: string; body: string }>({
    fields: ['subject', 'body'],
    tokenize: (text) => terms(text),
    processTerm: (t) => t,
    searchOptions: { boost: { subject: 2 } },
  });
  ms.addAll(facts.map((f, id) => ({ id, subject: f.subject, body: f.body })));
  return timeQueries((q) => ms.search(q).slice(0, 40), questions, 30, 300);
}

export async function measureMemory(): Promise<MemoryBenchResult> {
  const s = MEMORY_SETTINGS;
  const rows: Row[] = [];
  const gc = gcFunction();
  const corpus: Corpus = buildCorpus();
  const questions = corpus.questions.map((q) => q.question);
  const dir = mkdtempSync(join(tmpdir(), 'car-bench-memory-'));
  try {
    log('memory: generating facts');
    const all = factsFor(Math.max(...s.sizes));
    log('memory: write throughput');
    await writeThroughput(rows, dir, all);

    let queryP95At100k = Number.NaN;
    for (const size of s.sizes) {
      log(`memory: ${size.toLocaleString('en-US')} facts`);
      const facts = all.slice(0, size);
      gc();
      const heap0 = process.memoryUsage().heapUsed;
      const engine = new MemoryEngine();
      let t0 = performance.now();
      load(engine, facts);
      const loadMs = performance.now() - t0;
      gc();
      const heapPerFact = (process.memoryUsage().heapUsed - heap0) / size;
      const tag = `${size / 1000}k`;
      rows.push({ phase: `build graph of ${tag} facts (add + index)`, value: formatNumber(loadMs), unit: 'ms' });
      rows.push({ phase: `heap per fact at ${tag}`, value: formatNumber(heapPerFact), unit: 'bytes' });

      const full = timeQueries((q) => engine.query(q, { k: 5 }), questions);
      const lexical = timeQueries((q) => engine.query(q, { k: 5, lexicalOnly: true }), questions);
      rows.push({ phase: `query k=5 at ${tag} (full) p50 / p95`, value: `${formatNumber(full.p50)} / ${formatNumber(full.p95)}`, unit: 'ms' });
      rows.push({ phase: `query k=5 at ${tag} (BM25 only) p50 / p95`, value: `${formatNumber(lexical.p50)} / ${formatNumber(lexical.p95)}`, unit: 'ms' });

      if (size === Math.max(...s.sizes)) {
        queryP95At100k = full.p95;
        const ctxSamples: number[] = [];
        for (let i = 0; i < s.contextRuns; i++) {
          const q = questions[i % questions.length]!;
          const c0 = performance.now();
          buildContext(engine, { query: q, identity: { scope: 'bench' } });
          ctxSamples.push(performance.now() - c0);
        }
        rows.push({ phase: `build_context at ${tag} p50 / p95`, value: `${formatNumber(percentile(ctxSamples, 0.5))} / ${formatNumber(percentile(ctxSamples, 0.95))}`, unit: 'ms' });

        const path = join(dir, 'snapshot.json');
        t0 = performance.now();
        const bytes = await writeFileAtomic(path, serializeSnapshot(snapshotOf(engine)));
        rows.push({ phase: `snapshot write at ${tag} (${(bytes / 1e6).toFixed(1)} MB, fsync + rename)`, value: formatNumber(performance.now() - t0), unit: 'ms' });
        t0 = performance.now();
        const reloaded = new MemoryEngine();
        reloaded.reset(parseSnapshot(readFileSync(path, 'utf8')));
        rows.push({ phase: `snapshot load at ${tag} (parse + rebuild index)`, value: formatNumber(performance.now() - t0), unit: 'ms' });

        log('memory: MiniSearch baseline');
        const mini = miniSearchBaseline(facts, questions);
        rows.push({ phase: `  MiniSearch search at ${tag}, same analyzer, p50 / p95`, value: `${formatNumber(mini.p50)} / ${formatNumber(mini.p95)}`, unit: 'ms' });
      }
    }

    log('memory: retrieval quality');
    return { rows, queryP95At100k, quality: measureQuality() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function memorySection(r: MemoryBenchResult): string {
  const s = MEMORY_SETTINGS;
  const table = formatTable(['memory engine', 'value', 'unit'], r.rows.map((row) => [row.phase, row.value, row.unit]), ['left', 'right', 'left']);
  const pass = r.queryP95At100k <= s.targetQueryP95Ms;
  const q = r.quality;
  return [
    `memory engine figures (in process; queries: ${s.measuredQueries} after ${s.warmupQueries} warm-up; durable files in ${tmpdir()})`,
    table,
    formatTable(
      ['retrieval quality (same facts, same run)', 'system', 'recall@5', 'MRR'],
      q.map((row) => [row.corpus, row.system, row.recallAt5.toFixed(3), row.mrr.toFixed(3)]),
      ['left', 'left', 'right', 'right'],
    ),
    `${pass ? 'PASS' : 'MISS'}  query p95 at 100k facts ≤ ${s.targetQueryP95Ms} ms (${formatNumber(r.queryP95At100k)} ms)`,
  ].join('\n');
}

/** Measure and print the memory section; used by run.ts after the server phases. */
export async function runMemoryBench(): Promise<void> {
  process.stdout.write(`\n${memorySection(await measureMemory())}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await runMemoryBench();
