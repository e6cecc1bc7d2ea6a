import { applyPlan, type ConsolidationPlan } from './consolidation.js';
import { FactGraph, type FactNode } from './graph.js';
import { LexicalIndex } from './lexical-index.js';
import type { MemoryOp } from './ops.js';
import { activate, DEFAULT_ACTIVATION, type ActivationOptions } from './ranking.js';
import { SkillStore, type SkillInput } from './skills.js';
import type { SnapshotData } from './snapshot.js';
import { normalizeSubject, terms } from './text.js';
import { MemoryError, type FactInput, type FactKind, type FactRecord, type MemoryType, type QueryRow } from './types.js';
import { DEFAULT_UTILITY, utilityFactor, type UtilitySettings } from './utility.js';

/** Facts a connection adds within this window of its previous one are linked (co-occurrence). */
const CO_OCCURRENCE_WINDOW_MS = 10 * 60 * 1000;
const CO_OCCURRENCE_WEIGHT = 0.3;
const SUPERSEDES_WEIGHT = 0.5;
/** A superseded fact keeps this share of its activation, and never ranks above its successor. */
const SUPERSEDED_PENALTY = 0.35;
const SEED_LIMIT = 40;
/** Each query term also seeds its best few facts, even when common words fill the top. */
const PER_TERM_SEEDS = 3;
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
      id: this.freshId(input.id),
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
    const superseded = this.supersede(record);
    const node = this.graph.insert(record);
    this.index.add(node);
    for (const id of superseded) {
      const old = this.graph.getById(id);
      if (old) this.graph.addEdge(node.ix, old.ix, 'supersedes', SUPERSEDES_WEIGHT);
    }
    this.linkCoOccurrence(node, at, origin);
    return { node, superseded };
  }

  /** Older valid facts on the same subject, of the same kind and type, with a different body. */
  private supersede(record: FactRecord): string[] {
    const out: string[] = [];
    const body = normalizeSubject(record.body);
    for (const ix of this.graph.subjectMates(record)) {
      const old = this.graph.get(ix);
      if (!old || old.superseded_by !== null) continue;
      if (old.kind !== record.kind || old.memory_type !== record.memory_type) continue;
      if (normalizeSubject(old.body) === body) continue;
      old.superseded_by = record.id;
      out.push(old.id);
    }
    return out;
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
    this.graph.retire(node.ix, at);
  }

  applyConsolidation(plan: ConsolidationPlan, at: string): void {
    applyPlan(this, plan, at);
  }

  ingestSkills(skills: SkillInput[], at: string): number[] {
    return skills.map((s) => this.skills.ingest(s, at).index);
  }

  /** Whether a node is visible to a query in `tenant` with these filters. */
  private accepts(node: FactNode | undefined, tenant: string | null, opts: QueryOptions): node is FactNode {
    if (!node || !node.valid || node.tenant_id !== tenant) return false;
    if (opts.kind !== undefined && node.kind !== opts.kind) return false;
    if (opts.types !== undefined && !opts.types.has(node.memory_type)) return false;
    return true;
  }

  /** Ranked facts for a natural-language query. */
  query(text: string, opts: QueryOptions = {}): QueryHit[] {
    const k = clampK(opts.k);
    const tenant = opts.tenant_id ?? null;
    const accept = (ix: number): boolean => this.accepts(this.graph.get(ix), tenant, opts);
    // The index holds only valid facts, per tenant: without kind or type filters, all it returns is visible.
    const filtered = opts.kind !== undefined || opts.types !== undefined;
    const lexical = this.index.search(tenant, text, Math.max(SEED_LIMIT, k), filtered ? accept : null, PER_TERM_SEEDS);
    const seeds = lexical.hits;
    if (seeds.length === 0) return [];
    this.queries++;

    const raw = opts.lexicalOnly
      ? new Map(seeds.map((s) => [s.ix, s.score]))
      : activate(this.graph, this.index, tenant, lexical, accept, this.activation);

    const scored: { node: FactNode; score: number }[] = [];
    for (const [ix, mass] of raw) {
      const node = this.graph.get(ix);
      if (!this.accepts(node, tenant, opts)) continue;
      let score = mass * (0.6 + 0.4 * node.confidence);
      if (node.superseded_by !== null) score *= SUPERSEDED_PENALTY;
      score *= utilityFactor(node, this.utility, this.queries);
      scored.push({ node, score });
    }
    const byId = new Map(scored.map((s) => [s.node.id, s]));
    for (const s of scored) {
      const successor = s.node.superseded_by === null ? undefined : byId.get(s.node.superseded_by);
      if (successor && s.score >= successor.score) s.score = successor.score * 0.9;
    }
    scored.sort((a, b) => b.score - a.score || b.node.ix - a.node.ix);

    const top = scored.slice(0, k);
    const max = top[0]?.score ?? 0;
    const strength = 1 - Math.exp(-(seeds[0]?.score ?? 0) / 4);
    const hits = top.map((s) => ({ node: s.node, score: max > 0 ? round((s.score / max) * strength) : 0 }));
    if (opts.touch !== false) {
      const now = opts.now ?? new Date().toISOString();
      for (const h of hits) {
        h.node.access_count++;
        h.node.last_accessed_at = now;
      }
    }
    return hits;
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

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}
