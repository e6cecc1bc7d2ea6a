import { normalizeSubject, words } from './text.js';
import { MEMORY_TYPES, type EdgeKind, type EdgeRecord, type FactRecord, type MemoryType } from './types.js';

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
  /** Valid facts per tenant and group (`constraint`, or a memory type other than `fact`), in insertion order. */
  private readonly byGroup = new Map<string, Set<number>>();
  private readonly edges = new Map<number, Edge[]>();
  /** Per node: VALID | CONSTRAINT | memory type index, for filters that must not touch the node objects. */
  private meta = new Uint8Array(1024);
  private valid = 0;

  /** Facts stored, retired ones included. */
  get storedCount(): number {
    return this.byId.size;
  }

  /** One past the highest node index ever used. */
  get capacity(): number {
    return this.nodes.length;
  }

  /** Facts still valid (what `fact_count` reports). */
  get validCount(): number {
    return this.valid;
  }

  /** VALID | CONSTRAINT | type index of a node (0 when there is none). */
  metaAt(ix: number): number {
    return this.meta[ix] ?? 0;
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
    if (node.ix >= this.meta.length) {
      const grown = new Uint8Array(this.meta.length * 2);
      grown.set(this.meta);
      this.meta = grown;
    }
    this.meta[node.ix] = metaOf(node);
    this.byId.set(node.id, node.ix);
    if (node.valid) this.link(node);
    return node;
  }

  private link(node: FactNode): void {
    this.valid++;
    const scope = scopeKey(node.tenant_id);
    push(this.bySubject, `${scope}\u0000${normalizeSubject(node.subject)}`, node.ix);
    for (const group of groupsOf(node)) {
      const key = `${scope}\u0000${group}`;
      let set = this.byGroup.get(key);
      if (!set) this.byGroup.set(key, (set = new Set()));
      set.add(node.ix);
    }
  }

  private unlink(node: FactNode): void {
    this.valid--;
    const scope = scopeKey(node.tenant_id);
    removeFrom(this.bySubject, `${scope}\u0000${normalizeSubject(node.subject)}`, node.ix);
    for (const group of groupsOf(node)) this.byGroup.get(`${scope}\u0000${group}`)?.delete(node.ix);
  }

  /** Valid facts of a tenant in a group: `constraint`, or a memory type (not `fact`). Oldest first. */
  group(tenant: string | null, group: 'constraint' | Exclude<MemoryType, 'fact'>): FactNode[] {
    const set = this.byGroup.get(`${scopeKey(tenant)}\u0000${group}`);
    const out: FactNode[] = [];
    if (set) for (const ix of set) out.push(this.nodes[ix]!);
    return out;
  }

  /** The newest valid facts of a tenant that pass `filter`, newest first, at most `limit`. */
  latest(tenant: string | null, limit: number, filter: (n: FactNode) => boolean): FactNode[] {
    const out: FactNode[] = [];
    for (let ix = this.nodes.length - 1; ix >= 0 && out.length < limit; ix--) {
      const n = this.nodes[ix];
      if (n && n.valid && n.tenant_id === tenant && filter(n)) out.push(n);
    }
    return out;
  }

  /** Mark a fact retired: it stays stored (and persisted) but leaves retrieval. */
  retire(ix: number, at: string): void {
    const node = this.nodes[ix];
    if (!node || !node.valid) return;
    this.unlink(node);
    node.valid = false;
    node.invalidated_at = at;
    this.meta[ix] = metaOf(node);
  }

  /** Remove a fact for good, with its edges. */
  delete(ix: number): FactNode | undefined {
    const node = this.nodes[ix];
    if (!node) return undefined;
    if (node.valid) this.unlink(node);
    this.byId.delete(node.id);
    this.nodes[ix] = undefined;
    this.meta[ix] = 0;
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

  /**
   * Valid facts (same tenant) whose subject the node's body names: "Owned by Project Falcon" reaches
   * every fact about "Project Falcon". Subjects of two to four words are looked for, as word runs.
   */
  mentioned(node: FactRecord & { ix: number }): number[] {
    const w = words(node.body);
    const own = normalizeSubject(node.subject);
    const scope = scopeKey(node.tenant_id);
    const out: number[] = [];
    for (let n = MENTION_MAX_WORDS; n >= 2; n--) {
      for (let i = 0; i + n <= w.length; i++) {
        const name = w.slice(i, i + n).join(' ');
        if (name === own) continue;
        const list = this.bySubject.get(`${scope}\u0000${name}`);
        if (list) for (const ix of list) if (ix !== node.ix) out.push(ix);
      }
    }
    return out;
  }

  /** Link two facts (both directions). Facts of different tenants are never linked. */
  addEdge(a: number, b: number, kind: EdgeKind, weight: number): void {
    const x = this.nodes[a];
    const y = this.nodes[b];
    if (a === b || !x || !y || x.tenant_id !== y.tenant_id) return;
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
/** Longest subject, in words, recognised when a fact's body names it. */
const MENTION_MAX_WORDS = 4;

export const META_VALID = 0x80;
export const META_CONSTRAINT = 0x40;
export const META_TYPE = 0x0f;

function metaOf(node: FactRecord): number {
  return (node.valid ? META_VALID : 0) | (node.kind === 'constraint' ? META_CONSTRAINT : 0) | MEMORY_TYPES.indexOf(node.memory_type);
}

function groupsOf(node: FactRecord): string[] {
  const out: string[] = node.kind === 'constraint' ? ['constraint'] : [];
  if (node.memory_type !== 'fact') out.push(node.memory_type);
  return out;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
