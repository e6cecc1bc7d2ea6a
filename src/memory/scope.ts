import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { writeFileAtomic } from '../util/durable-file.js';
import { emptyPlan, planConsolidation, reportOf, type ConsolidationReport } from './consolidation.js';
import type { DurableStore, RecoveryInfo } from './durable-log.js';
import { VectorStore, type Embedder } from './embedder.js';
import type { AddResult, MemoryEngine, QueryHit, QueryOptions } from './engine.js';
import type { FactNode } from './graph.js';
import type { MemoryOp } from './ops.js';
import { DEFAULT_EVOLUTION_THRESHOLD, type SkillInput } from './skills.js';
import { parseSnapshot, serializeSnapshot, snapshotOf } from './snapshot.js';
import { MemoryError, type FactInput, type SkillRecord } from './types.js';
import { round } from '../util/values.js';

export type ScopeKind = 'shared' | 'namespace' | 'agent';

/**
 * One memory graph as the rest of the daemon sees it: the engine plus, for durable scopes, the
 * store that logs each change before it is applied. Every change goes through `run`, reads go
 * straight to `engine`.
 */
export class MemoryScope {
  private consolidating: Promise<unknown> | null = null;
  private embedding: Promise<void> = Promise.resolve();
  /** Facts below this node index have been offered to the embedder. */
  private embedCursor = 0;
  /** Optional vector similarity; everything works without it. */
  private embedder: Embedder | null = null;
  private readonly watchers = new Set<() => void>();
  /** What opening a durable graph found (damage skipped, fallbacks); null for graphs in memory. */
  recovery: RecoveryInfo | null = null;

  constructor(
    readonly kind: ScopeKind,
    /** Namespace or agent id; `null` for the shared scope. */
    readonly key: string | null,
    readonly engine: MemoryEngine,
    private readonly store: DurableStore | null,
    embedder: Embedder | null = null,
  ) {
    if (embedder) this.useEmbedder(embedder);
  }

  /** Add vector similarity to this graph's retrieval (facts are embedded on the next query). */
  useEmbedder(embedder: Embedder): void {
    this.embedder = embedder;
    if (this.engine.vectors?.dimensions !== embedder.dimensions) this.engine.vectors = new VectorStore(embedder.dimensions);
    this.embedCursor = 0;
  }

  get durable(): boolean {
    return this.store !== null;
  }

  get label(): string {
    return this.kind === 'shared' ? 'shared' : `${this.kind}:${this.key}`;
  }

  /** Apply a change; on a durable scope it resolves only once the change is on disk. */
  async run<R>(op: MemoryOp): Promise<R> {
    const apply = (): R => {
      const result = this.engine.apply(op) as R;
      this.changed();
      return result;
    };
    return this.store ? this.store.run(op, apply) : apply();
  }

  /** Be told (synchronously) after every change to this graph, whoever made it. Returns the way to stop. */
  watch(onChange: () => void): () => void {
    this.watchers.add(onChange);
    return () => this.watchers.delete(onChange);
  }

  private changed(): void {
    for (const w of this.watchers) {
      try {
        w();
      } catch {
        // A watcher's failure is its own; the change has been applied.
      }
    }
  }

  async addFact(fact: FactInput, origin: string | null = null): Promise<AddResult> {
    const result = await this.run<AddResult>({ op: 'add', at: new Date().toISOString(), origin, fact });
    if (this.embedder) this.flushEmbeddings();
    return result;
  }

  /** Ranked facts; with an embedder, pending embeddings are flushed and the query is embedded too. */
  async query(text: string, opts: QueryOptions = {}): Promise<QueryHit[]> {
    return this.engine.query(text, { ...opts, vector: await this.queryVector(text) });
  }

  /** The query's embedding, after flushing pending fact embeddings; undefined without an embedder. */
  async queryVector(text: string): Promise<Float32Array | undefined> {
    if (!this.embedder) return undefined;
    await this.flushEmbeddings();
    try {
      const [vector] = await this.embedder.embed([text]);
      return vector;
    } catch {
      return undefined;
    }
  }

  private flushEmbeddings(): Promise<void> {
    this.embedding = this.embedding.then(() => this.embedMissing()).catch(() => {});
    return this.embedding;
  }

  /** Embed the facts added since the last flush (all of them after a load). */
  private async embedMissing(): Promise<void> {
    const vectors = this.engine.vectors;
    if (!this.embedder || !vectors) return;
    const todo = [];
    const end = this.engine.graph.capacity;
    for (let ix = this.embedCursor; ix < end; ix++) {
      const n = this.engine.graph.get(ix);
      if (n?.valid && !vectors.has(ix)) todo.push(n);
    }
    this.embedCursor = end;
    for (let i = 0; i < todo.length; i += 64) {
      const batch = todo.slice(i, i + 64);
      try {
        const out = await this.embedder.embed(batch.map((n) => `${n.subject}: ${n.body}`));
        batch.forEach((n, j) => {
          const v = out[j];
          if (v && n.valid) vectors.set(n.ix, v);
        });
      } catch {
        // A failing provider costs similarity only; lexical and graph retrieval carry on.
        return;
      }
    }
  }

  deleteFact(id: string): Promise<FactNode | undefined> {
    if (!this.engine.graph.hasId(id)) return Promise.resolve(undefined);
    return this.run<FactNode | undefined>({ op: 'delete', id });
  }

  markInjected(id: string): Promise<FactNode | undefined> {
    return this.run<FactNode | undefined>({ op: 'inject', id, at: new Date().toISOString() });
  }

  async ingestSkills(skills: SkillInput[]): Promise<SkillRecord[]> {
    return this.run<SkillRecord[]>({ op: 'skill_ingest', at: new Date().toISOString(), skills });
  }

  async reportSkill(name: string, outcome: 'success' | 'fail', tenant: string | null): Promise<SkillRecord> {
    if (!this.engine.skills.get(name, tenant)) throw new MemoryError(`unknown skill '${name}'`, 'not_found');
    return this.run<SkillRecord>({ op: 'skill_report', at: new Date().toISOString(), name, tenant_id: tenant, outcome });
  }

  /** One dream pass. Passes on the same scope never overlap: a second waits for the first. */
  async consolidate(): Promise<ConsolidationReport> {
    while (this.consolidating) await this.consolidating.catch(() => {});
    const pass = this.consolidateOnce();
    this.consolidating = pass;
    try {
      return await pass;
    } finally {
      this.consolidating = null;
    }
  }

  private async consolidateOnce(): Promise<ConsolidationReport> {
    const started = performance.now();
    const at = new Date().toISOString();
    const before = this.engine.factCount;
    const plan = planConsolidation(this.engine, at);
    const summary = reportOf(plan, (id) => this.engine.graph.getById(id)?.superseded_by ?? null);
    if (!emptyPlan(plan)) await this.run({ op: 'consolidate', at, plan });
    return {
      ...summary,
      facts_before: before,
      facts_after: this.engine.factCount,
      duration_ms: round(performance.now() - started, 3),
      skills_needing_evolution: this.engine.skills.domainsNeedingEvolution(DEFAULT_EVOLUTION_THRESHOLD),
      started_at: at,
    };
  }

  /** Write the whole graph to `path` (atomically). Returns the number of valid facts written. */
  async persistTo(path: string): Promise<number> {
    const data = snapshotOf(this.engine);
    await writeFileAtomic(path, serializeSnapshot(data));
    return data.facts.filter((f) => f.valid).length;
  }

  /**
   * Replace the graph with the file at `path`. The file is read and parsed whole first; a missing
   * or malformed file leaves the graph as it was. Returns the valid fact count after loading.
   */
  async loadFrom(path: string, name = basename(path)): Promise<number> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new MemoryError(
        code === 'ENOENT' ? `memory.load: no such file ${JSON.stringify(name)}` : `memory.load: cannot read ${JSON.stringify(name)} (${code ?? 'error'})`,
        code === 'ENOENT' ? 'not_found' : 'invalid',
      );
    }
    const data = parseSnapshot(text, JSON.stringify(name));
    if (this.store) await this.store.replace(data, () => this.engine.reset(data));
    else this.engine.reset(data);
    this.embedCursor = 0;
    this.changed();
    return this.engine.factCount;
  }

  async close(): Promise<void> {
    await this.store?.close();
  }
}
