import { applyPlan, mergeInto, type ConsolidationPlan } from './consolidation.js';
import { fuseSeeds, VectorStore } from './embedder.js';
import { FactGraph, META_CONSTRAINT, META_TYPE, META_VALID, type FactNode } from './graph.js';
import { LexicalIndex } from './lexical-index.js';
import type { MemoryOp } from './ops.js';
import { activate, DEFAULT_ACTIVATION, type ActivationOptions } from './ranking.js';
import { SkillStore } from './skills.js';
import type { SnapshotData } from './snapshot.js';
import { rankBelowSuccessors, slotOf, supersede, SUPERSEDED_PENALTY, SUPERSEDES_WEIGHT } from './supersession.js';
import { normalizeSubject, terms } from './text.js';
import { MEMORY_TYPES, MemoryError, type FactInput, type FactKind, type FactRecord, type MemoryType, type QueryRow } from './types.js';
import { DEFAULT_UTILITY, utilityFactor, type UtilitySettings } from './utility.js';
import { round } from '../util/values.js';

/** Facts a connection adds within this window of its previous one are linked (co-occurrence). */
const CO_OCCURRENCE_WINDOW_MS = 10 * 60 * 1000;
const CO_OCCURRENCE_WEIGHT = 0.3;
const SEED_LIMIT = 40;
/** Each query term also seeds its best few facts, even when common words fill the top. */
const PER_TERM_SEEDS = 3;
/** Nearest facts by embedding added to the seeds when the query carries a vector. */
const VECTOR_SEEDS = 10;
export const MAX_QUERY_K = 50;

export interface QueryOptions {
  k?: number;
  tenant_id?: string | null;
  /** Lexical ranking only (no graph walk): the fast context path. */
  lexicalOnly?: boolean;
  /** Restrict to these memory types / this kind. */
  types?: ReadonlySet<MemoryType>;
  kind?: FactKind;
  /** Count the returned facts as accessed (default true). Evaluation passes false. */
  touch?: boolean;
  /** The query's embedding, when the scope has an embedder: its nearest facts join the seeds. */
  vector?: Float32Array;
  /** Clock for access stamps. */
  now?: string;
}

export interface QueryHit {
  node: FactNode;
  /** Activation, scaled to 0..1 (how strongly and how surely the query reached this fact). */
  score: number;
}

export interface AddResult {
  node: FactNode;
  /** Ids of facts this one superseded. */
  superseded: string[];
  /** The fact was already stored (same subject, body, kind and type): merged into it, not added. */
  duplicate: boolean;
}

export interface EngineOptions {
  /** Shared by every engine of a daemon (`memory.utility_set` is global). */
  utility?: UtilitySettings;
  activation?: ActivationOptions;
}

/**
 * One memory graph: facts, their lexical index, skills. Pure and synchronous; durability is the
 * scope's business (it logs each op before applying it here).
 */
export class MemoryEngine {
  private factGraph = new FactGraph();
  readonly index = new LexicalIndex();
  readonly skills = new SkillStore();
  readonly utility: UtilitySettings;
  activation: ActivationOptions;
  private nextAutoId = 1;
  private readonly lastByOrigin = new Map<string, { ix: number; atMs: number }>();
  /** Queries answered, for the exploration bonus. */
  queries = 0;
  /** Fact embeddings, present once a scope with an embedder uses this engine. */
  vectors: VectorStore | null = null;

  constructor(opts: EngineOptions = {}) {
    this.utility = opts.utility ?? { ...DEFAULT_UTILITY };
    this.activation = opts.activation ?? DEFAULT_ACTIVATION;
  }

  get graph(): FactGraph {
    return this.factGraph;
  }

  get factCount(): number {
    return this.graph.validCount;
  }

  get autoIdCounter(): number {
    return this.nextAutoId;
  }

  /** Apply one op; the return value is the op's result (see the typed methods below). */
  apply(op: MemoryOp): unknown {
    switch (op.op) {
      case 'add':
        return this.addFact(op.fact, op.at, op.origin);
      case 'delete':
        return this.deleteFact(op.id);
      case 'inject':
        return this.markInjected(op.id, op.at);
      case 'consolidate':
        return this.applyConsolidation(op.plan, op.at);
      case 'skill_ingest':
        return op.skills.map((s) => this.skills.ingest(s, op.at));
      case 'skill_report':
        return this.skills.report(op.name, op.outcome, op.at, op.tenant_id);
    }
  }

  addFact(input: FactInput, at: string, origin: string | null = null): AddResult {
    const subject = input.subject.trim();
    const body = input.body.trim();
    if (!subject && !body) throw new MemoryError('a fact needs a subject or a body');
    const record: FactRecord = {
      id: '',
      subject: subject || body,
      body: body || subject,
      kind: input.kind ?? 'pattern',
      confidence: clampConfidence(input.confidence),
      tags: [...new Set(input.tags ?? [])],
      source: input.source ?? null,
      tenant_id: input.tenant_id ?? null,
      memory_type: input.memory_type ?? 'fact',
      created_at: at,
      valid: true,
      superseded_by: null,
      invalidated_at: null,
      access_count: 0,
      injection_count: 0,
      last_accessed_at: null,
      decayed_at: null,
      origin,
    };
    const same = record.memory_type === 'fact' ? this.findDuplicate(record) : undefined;
    if (same) {
      mergeInto(same, record);
      return { node: same, superseded: [], duplicate: true };
    }
    record.id = this.freshId(input.id);
    const superseded = supersede(this.graph, record, input.supersedes ?? null);
    const node = this.graph.insert(record);
    this.index.add(node);
    for (const id of superseded) {
      const old = this.graph.getById(id);
      if (old) this.graph.addEdge(node.ix, old.ix, 'supersedes', SUPERSEDES_WEIGHT);
    }
    this.linkCoOccurrence(node, at, origin);
    return { node, superseded, duplicate: false };
  }

  /** A valid fact saying exactly the same thing (case, spacing and punctuation aside). */
  private findDuplicate(record: FactRecord): FactNode | undefined {
    const body = normalizeSubject(record.body);
    for (const ix of this.graph.subjectMates(record)) {
      const n = this.graph.get(ix)!;
      if (n.kind === record.kind && n.memory_type === record.memory_type && normalizeSubject(n.body) === body) return n;
    }
    return undefined;
  }

  private linkCoOccurrence(node: FactNode, at: string, origin: string | null): void {
    if (origin === null) return;
    const atMs = Date.parse(at);
    const prev = this.lastByOrigin.get(origin);
    if (prev && Math.abs(atMs - prev.atMs) <= CO_OCCURRENCE_WINDOW_MS) {
      const p = this.graph.get(prev.ix);
      if (p && p.tenant_id === node.tenant_id) this.graph.addEdge(prev.ix, node.ix, 'co_occurrence', CO_OCCURRENCE_WEIGHT);
    }
    this.lastByOrigin.set(origin, { ix: node.ix, atMs });
  }

  private freshId(requested: string | undefined): string {
    if (requested !== undefined && requested !== '') {
      if (!this.graph.hasId(requested)) return requested;
      for (let n = 2; ; n++) if (!this.graph.hasId(`${requested}-${n}`)) return `${requested}-${n}`;
    }
    for (;;) {
      const id = `ws-${this.nextAutoId++}`;
      if (!this.graph.hasId(id)) return id;
    }
  }

  deleteFact(id: string): FactNode | undefined {
    const node = this.graph.getById(id);
    if (!node) return undefined;
    this.index.remove(node);
    this.vectors?.delete(node.ix);
    this.graph.delete(node.ix);
    for (const other of this.graph.all()) if (other.superseded_by === id) other.superseded_by = null;
    return node;
  }

  markInjected(id: string, at: string): FactNode | undefined {
    const node = this.graph.getById(id);
    if (!node) return undefined;
    node.injection_count++;
    node.last_accessed_at = at;
    return node;
  }

  /** Retire a fact: out of retrieval and counts, kept in the graph and in snapshots. */
  retire(node: FactNode, at: string): void {
    if (!node.valid) return;
    this.index.remove(node);
    this.vectors?.delete(node.ix);
    this.graph.retire(node.ix, at);
  }

  applyConsolidation(plan: ConsolidationPlan, at: string): void {
    applyPlan(this, plan, at);
  }

  /**
   * The visibility test of a query: valid, of the kind and types asked for. It reads the graph's
   * per-node flags, not the node objects, because it runs for every matching fact. Tenants need
   * no test here: everything a query walks (index postings, subject groups, explicit edges) is
   * kept per tenant.
   */
  private acceptor(opts: QueryOptions): (ix: number) => boolean {
    const g = this.graph;
    const kind = opts.kind === undefined ? -1 : opts.kind === 'constraint' ? META_CONSTRAINT : 0;
    let types = 0;
    for (const t of opts.types ?? []) types |= 1 << MEMORY_TYPES.indexOf(t);
    return (ix) => {
      const m = g.metaAt(ix);
      if ((m & META_VALID) === 0) return false;
      if (kind >= 0 && (m & META_CONSTRAINT) !== kind) return false;
      return types === 0 || (types & (1 << (m & META_TYPE))) !== 0;
    };
  }

  /** Ranked facts for a natural-language query. */
  query(text: string, opts: QueryOptions = {}): QueryHit[] {
    const k = clampK(opts.k);
    const tenant = opts.tenant_id ?? null;
    const accept = this.acceptor(opts);
    // The index holds only valid facts, per tenant: without kind or type filters, all it returns is visible.
    const filtered = opts.kind !== undefined || opts.types !== undefined;
    let lexical = this.index.search(tenant, text, Math.max(SEED_LIMIT, k), filtered ? accept : null, PER_TERM_SEEDS);
    let near: { ix: number; similarity: number }[] = [];
    const lexicalRanking = lexical.hits.map((h) => h.ix);
    if (opts.vector && this.vectors) {
      near = this.vectors.nearest(opts.vector, VECTOR_SEEDS, (ix) => accept(ix) && this.graph.get(ix)!.tenant_id === tenant);
      lexical = { ...lexical, hits: fuseSeeds(lexical.hits, near) };
    }
    const seeds = lexical.hits;
    if (seeds.length === 0) return [];
    this.queries++;

    const raw = opts.lexicalOnly
      ? new Map(seeds.map((s) => [s.ix, s.score]))
      : activate(this.graph, this.index, tenant, lexical, accept, this.activation);

    const scored: { node: FactNode; score: number }[] = [];
    for (const [ix, mass] of raw) {
      if (!accept(ix)) continue;
      const node = this.graph.get(ix)!;
      let score = mass * (0.6 + 0.4 * node.confidence);
      if (node.superseded_by !== null) score *= SUPERSEDED_PENALTY;
      score *= utilityFactor(node, this.utility, this.queries);
      scored.push({ node, score });
    }
    rankBelowSuccessors(scored);
    scored.sort((a, b) => b.score - a.score || b.node.ix - a.node.ix);
    if (near.length > 0) {
      // Three signals, one ranking: the graph walk, the lexical seeds and the nearest vectors.
      const fused = reciprocalRankFusion([scored.map((s) => s.node.ix), lexicalRanking, near.map((n) => n.ix)]);
      for (const s of scored) s.score = fused.get(s.node.ix) ?? 0;
      rankBelowSuccessors(scored);
      scored.sort((a, b) => b.score - a.score || b.node.ix - a.node.ix);
    }

    const top = scored.slice(0, k);
    const max = top[0]?.score ?? 0;
    const strength = top[0] ? this.coverage(text, top[0].node, tenant) : 0;
    const hits = top.map((s) => ({ node: s.node, score: max > 0 ? round((s.score / max) * strength, 4) : 0 }));
    if (opts.touch !== false) {
      const now = opts.now ?? new Date().toISOString();
      for (const h of hits) {
        h.node.access_count++;
        h.node.last_accessed_at = now;
      }
    }
    return hits;
  }

  /**
   * How much of the query (its terms weighted by rarity, unknown terms weighing most) one fact
   * covers, in [0,1]. Scales the activations of a query so that a full match reads close to 1
   * whatever the graph size, and a partial one lower.
   */
  coverage(text: string, node: FactNode, tenant: string | null): number {
    const query = new Set(terms(text));
    if (query.size === 0) return 0;
    const own = new Set(terms(`${node.subject} ${node.body} ${node.tags.join(' ')} ${slotOf(node.subject, node.body) ?? ''}`));
    const n = Math.max(1, this.index.docCount(tenant));
    let total = 0;
    let covered = 0;
    for (const t of query) {
      const df = this.index.df(tenant, t);
      const w = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      total += w;
      if (own.has(t)) covered += w;
    }
    return total > 0 ? covered / total : 0;
  }

  /** Query terms no stored fact of the tenant contains (the Known Unknowns of a context). */
  unknownTerms(text: string, tenant: string | null): string[] {
    return [...new Set(terms(text))].filter((t) => this.index.df(tenant, t) === 0);
  }

  /** Valid facts of a tenant, oldest first, optionally filtered. */
  facts(tenant: string | null, filter: (n: FactNode) => boolean = () => true): FactNode[] {
    const out: FactNode[] = [];
    for (const node of this.graph.all()) if (node.valid && node.tenant_id === tenant && filter(node)) out.push(node);
    return out;
  }

  /** Replace everything with a parsed snapshot. */
  reset(data: SnapshotData): void {
    this.factGraph = new FactGraph();
    this.index.clear();
    if (this.vectors) this.vectors = new VectorStore(this.vectors.dimensions);
    this.lastByOrigin.clear();
    this.nextAutoId = Math.max(1, data.next_auto_id);
    const docs: FactNode[] = [];
    for (const record of data.facts) {
      const node = this.graph.insert({ ...record, id: this.graph.hasId(record.id) ? this.freshId(record.id) : record.id });
      if (node.valid) docs.push(node);
      const n = /^ws-(\d+)$/.exec(node.id);
      if (n) this.nextAutoId = Math.max(this.nextAutoId, Number(n[1]) + 1);
    }
    this.index.addAll(docs);
    for (const e of data.edges) {
      const a = this.graph.getById(e.from);
      const b = this.graph.getById(e.to);
      if (a && b) this.graph.addEdge(a.ix, b.ix, e.kind, e.weight);
    }
    this.skills.load(data.skills);
  }
}

/** Rank constant of reciprocal-rank fusion (the usual 60: late ranks still count, a little). */
export const RRF_K = 60;

/** Σ 1/(RRF_K + rank) over the rankings each item appears in (ranks from 1). */
export function reciprocalRankFusion(rankings: readonly (readonly number[])[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const ranking of rankings) ranking.forEach((ix, i) => out.set(ix, (out.get(ix) ?? 0) + 1 / (RRF_K + i + 1)));
  return out;
}

export function toRow(hit: QueryHit): QueryRow {
  const n = hit.node;
  return { fact_id: n.id, subject: n.subject, body: n.body, kind: n.kind, confidence: hit.score, tags: n.tags, source: n.source };
}

export function clampK(k: number | undefined): number {
  if (k === undefined || !Number.isFinite(k)) return 5;
  return Math.min(MAX_QUERY_K, Math.max(1, Math.floor(k)));
}

function clampConfidence(c: number | undefined): number {
  if (c === undefined || !Number.isFinite(c)) return 1;
  return Math.min(1, Math.max(0, c));
}
