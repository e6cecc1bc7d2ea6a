import { normalizeSubject } from './text.js';
import type { EdgeKind, EdgeRecord, FactRecord } from './types.js';

/** A fact in the graph: the stored record plus its node index (never reused). */
export interface FactNode extends FactRecord {
  readonly ix: number;
}

export interface Edge {
  to: number;
  kind: EdgeKind;
  weight: number;
}

/** Postings key that keeps tenants apart: nothing links facts of different tenants. */
function scopeKey(tenant: string | null): string {
  return tenant === null ? '-' : `t${tenant}`;
}

function removeFrom(map: Map<string, number[]>, key: string, ix: number): void {
  const list = map.get(key);
  if (!list) return;
  const at = list.indexOf(ix);
  if (at >= 0) list.splice(at, 1);
  if (list.length === 0) map.delete(key);
}

/**
 * Facts as nodes. Edges come in two sorts: derived ones (facts sharing a subject, here; facts
 * sharing a rare term, from the lexical index's postings) and explicit ones (supersession,
 * co-occurrence) stored per node in both directions. Retired facts keep their record (audit) but
 * leave the subject groups and the index, so they take no part in retrieval.
 */
export class FactGraph {
  private nodes: (FactNode | undefined)[] = [];
  private readonly byId = new Map<string, number>();
  private readonly bySubject = new Map<string, number[]>();
  private readonly edges = new Map<number, Edge[]>();
  private valid = 0;

  /** Facts stored, retired ones included. */
  get storedCount(): number {
    return this.byId.size;
  }

  /** Facts still valid (what `fact_count` reports). */
  get validCount(): number {
    return this.valid;
  }

  get(ix: number): FactNode | undefined {
    return this.nodes[ix];
  }

  getById(id: string): FactNode | undefined {
    const ix = this.byId.get(id);
    return ix === undefined ? undefined : this.nodes[ix];
  }

  hasId(id: string): boolean {
    return this.byId.has(id);
  }

  /** Insert a record as a new node; the caller has made its id unique. */
  insert(record: FactRecord): FactNode {
    const node: FactNode = { ...record, ix: this.nodes.length };
    this.nodes.push(node);
    this.byId.set(node.id, node.ix);
    if (node.valid) this.link(node);
    return node;
  }

  private link(node: FactNode): void {
    this.valid++;
    const scope = scopeKey(node.tenant_id);
    push(this.bySubject, `${scope}\u0000${normalizeSubject(node.subject)}`, node.ix);
  }

  private unlink(node: FactNode): void {
    this.valid--;
    const scope = scopeKey(node.tenant_id);
    removeFrom(this.bySubject, `${scope}\u0000${normalizeSubject(node.subject)}`, node.ix);
  }

  /** Mark a fact retired: it stays stored (and persisted) but leaves retrieval. */
  retire(ix: number, at: string): void {
    const node = this.nodes[ix];
    if (!node || !node.valid) return;
    this.unlink(node);
    node.valid = false;
    node.invalidated_at = at;
  }

  /** Remove a fact for good, with its edges. */
  delete(ix: number): FactNode | undefined {
    const node = this.nodes[ix];
    if (!node) return undefined;
    if (node.valid) this.unlink(node);
    this.byId.delete(node.id);
    this.nodes[ix] = undefined;
    for (const e of this.edges.get(ix) ?? []) {
      const back = this.edges.get(e.to);
      if (!back) continue;
      const kept = back.filter((b) => b.to !== ix);
      if (kept.length === 0) this.edges.delete(e.to);
      else this.edges.set(e.to, kept);
    }
    this.edges.delete(ix);
    return node;
  }

  /** Valid facts with the same subject (same tenant), oldest first, the node itself excluded. */
  subjectMates(node: FactRecord & { ix?: number }): number[] {
    const list = this.bySubject.get(`${scopeKey(node.tenant_id)}\u0000${normalizeSubject(node.subject)}`) ?? [];
    return node.ix === undefined ? list.slice() : list.filter((ix) => ix !== node.ix);
  }

  addEdge(a: number, b: number, kind: EdgeKind, weight: number): void {
    if (a === b || !this.nodes[a] || !this.nodes[b]) return;
    push(this.edges, a, { to: b, kind, weight });
    push(this.edges, b, { to: a, kind, weight });
  }

  explicitEdges(ix: number): readonly Edge[] {
    return this.edges.get(ix) ?? EMPTY_EDGES;
  }

  /** Every stored node, in insertion order. */
  *all(): IterableIterator<FactNode> {
    for (const node of this.nodes) if (node) yield node;
  }

  /** Stored explicit edges, each once, as records keyed by fact id. */
  edgeRecords(): EdgeRecord[] {
    const out: EdgeRecord[] = [];
    for (const [ix, list] of this.edges) {
      const from = this.nodes[ix];
      if (!from) continue;
      for (const e of list) {
        if (e.to < ix) continue;
        const to = this.nodes[e.to];
        if (to) out.push({ from: from.id, to: to.id, kind: e.kind, weight: e.weight });
      }
    }
    return out;
  }
}

const EMPTY_EDGES: readonly Edge[] = Object.freeze([]);

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
