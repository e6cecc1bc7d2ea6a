import { slotOf } from './supersession.js';
import { terms } from './text.js';
import { TopK } from './top-k.js';

/** What the lexical index needs of a fact. */
export interface IndexedDoc {
  ix: number;
  tenant_id: string | null;
  subject: string;
  body: string;
  tags: string[];
}

export interface LexicalHit {
  ix: number;
  /** BM25F score, unnormalised. */
  score: number;
}

/** Seeds, plus which of the informative query terms each matching fact contains. */
export interface LexicalResult {
  hits: LexicalHit[];
  /** Bit set over `weights`: the informative query terms (in at most a tenth of the facts) a fact contains. */
  maskOf(ix: number): number;
  /** idf of each informative query term, by bit position. */
  weights: number[];
}

const EMPTY_RESULT: LexicalResult = Object.freeze({ hits: [], maskOf: () => 0, weights: [] });

/** Subject and tag words count this many times a body word (a field boost folded into tf). */
const TITLE_WEIGHT = 2;
const K1 = 1.2;
const B = 0.75;

/** Fact indexes containing one term, with the (field-weighted) term frequency in each. */
class Postings {
  ix = new Int32Array(4);
  tf = new Uint8Array(4);
  n = 0;
  /** Entries whose fact was removed; compacted away once they are half the list. */
  dead = 0;

  push(ix: number, tf: number): void {
    if (this.n === this.ix.length) {
      const grow = this.n * 2;
      const ixs = new Int32Array(grow);
      ixs.set(this.ix);
      this.ix = ixs;
      const tfs = new Uint8Array(grow);
      tfs.set(this.tf);
      this.tf = tfs;
    }
    this.ix[this.n] = ix;
    this.tf[this.n] = Math.min(255, tf);
    this.n++;
  }

  get live(): number {
    return this.n - this.dead;
  }

  compact(alive: (ix: number) => boolean): void {
    let w = 0;
    for (let r = 0; r < this.n; r++) {
      const ix = this.ix[r]!;
      if (!alive(ix)) continue;
      this.ix[w] = ix;
      this.tf[w] = this.tf[r]!;
      w++;
    }
    this.n = w;
    this.dead = 0;
  }
}

/** One tenant's postings and length statistics (tenants never share idf or postings). */
class Scope {
  readonly terms = new Map<string, Postings>();
  docs = 0;
  totalLength = 0;
}

function scopeKey(tenant: string | null): string {
  return tenant === null ? '-' : `t${tenant}`;
}

/** Weighted term frequencies of a fact. */
function weightedTerms(doc: IndexedDoc): { tf: Map<string, number>; length: number } {
  const tf = new Map<string, number>();
  let length = 0;
  const add = (text: string, weight: number): void => {
    for (const t of terms(text)) {
      tf.set(t, (tf.get(t) ?? 0) + weight);
      length += weight;
    }
  };
  add(doc.subject, TITLE_WEIGHT);
  add(doc.tags.join(' '), TITLE_WEIGHT);
  add(doc.body, 1);
  // The attribute a fact sets is searchable even when the body only implies it ("Reports to X").
  const slot = slotOf(doc.subject, doc.body);
  if (slot) for (const t of slot.split(' ')) if (!tf.has(t)) add(t, 1);
  return { tf, length };
}

/**
 * BM25F over subject, tags and body, with compact typed-array postings per tenant and
 * term-at-a-time scoring into a reusable score array: a query costs the total length of its terms'
 * postings, with no per-match allocation. (MiniSearch, measured on the same facts, spends most of
 * a query building a result object for every matching fact: about 30 ms at 100k facts against
 * well under 1 ms here; see bench/memory.ts.) The postings double as the shared-term edges of the
 * graph.
 */
export class LexicalIndex {
  private readonly scopes = new Map<string, Scope>();
  private docLength = new Uint16Array(1024);
  private docScope: (Scope | undefined)[] = [];
  private alive = new Uint8Array(1024);
  private scores = new Float64Array(1024);
  private masks = new Uint32Array(1024);
  private maskGen = new Uint32Array(1024);
  private generation = 0;
  private size_ = 0;

  get size(): number {
    return this.size_;
  }

  has(ix: number): boolean {
    return ix < this.alive.length && this.alive[ix] === 1;
  }

  private ensure(ix: number): void {
    if (ix < this.alive.length) return;
    let cap = this.alive.length;
    while (cap <= ix) cap *= 2;
    const len = new Uint16Array(cap);
    len.set(this.docLength);
    this.docLength = len;
    const alive = new Uint8Array(cap);
    alive.set(this.alive);
    this.alive = alive;
    this.scores = new Float64Array(cap);
    this.masks = new Uint32Array(cap);
    this.maskGen = new Uint32Array(cap);
  }

  private scope(tenant: string | null): Scope {
    const key = scopeKey(tenant);
    let s = this.scopes.get(key);
    if (!s) this.scopes.set(key, (s = new Scope()));
    return s;
  }

  add(doc: IndexedDoc): void {
    if (this.has(doc.ix)) return;
    this.ensure(doc.ix);
    const scope = this.scope(doc.tenant_id);
    const { tf, length } = weightedTerms(doc);
    for (const [term, f] of tf) {
      let p = scope.terms.get(term);
      if (!p) scope.terms.set(term, (p = new Postings()));
      p.push(doc.ix, f);
    }
    this.docLength[doc.ix] = Math.min(65535, length);
    this.docScope[doc.ix] = scope;
    this.alive[doc.ix] = 1;
    scope.docs++;
    scope.totalLength += length;
    this.size_++;
  }

  addAll(docs: readonly IndexedDoc[]): void {
    for (const d of docs) this.add(d);
  }

  /** Remove a fact (its postings entries become dead and are compacted lazily). */
  remove(doc: IndexedDoc): void {
    if (!this.has(doc.ix)) return;
    const scope = this.docScope[doc.ix]!;
    const { tf } = weightedTerms(doc);
    for (const term of tf.keys()) {
      const p = scope.terms.get(term);
      if (!p) continue;
      p.dead++;
      if (p.live === 0) scope.terms.delete(term);
    }
    this.alive[doc.ix] = 0;
    scope.docs--;
    scope.totalLength -= this.docLength[doc.ix]!;
    this.docScope[doc.ix] = undefined;
    this.size_--;
  }

  clear(): void {
    this.scopes.clear();
    this.docLength = new Uint16Array(1024);
    this.docScope = [];
    this.alive = new Uint8Array(1024);
    this.scores = new Float64Array(1024);
    this.masks = new Uint32Array(1024);
    this.maskGen = new Uint32Array(1024);
    this.size_ = 0;
  }

  /** Facts of a tenant indexed, for idf. */
  docCount(tenant: string | null): number {
    return this.scopes.get(scopeKey(tenant))?.docs ?? 0;
  }

  /** How many live facts of a tenant contain `term`. */
  df(tenant: string | null, term: string): number {
    return this.scopes.get(scopeKey(tenant))?.terms.get(term)?.live ?? 0;
  }

  private live(tenant: string | null, term: string): Postings | undefined {
    const p = this.scopes.get(scopeKey(tenant))?.terms.get(term);
    if (p && p.dead > 0 && p.dead * 2 >= p.n) p.compact((ix) => this.alive[ix] === 1);
    return p;
  }

  /** Live facts of a tenant containing `term`, oldest first. */
  postings(tenant: string | null, term: string): number[] {
    const p = this.live(tenant, term);
    if (!p) return [];
    const out: number[] = [];
    for (let i = 0; i < p.n; i++) if (this.alive[p.ix[i]!] === 1) out.push(p.ix[i]!);
    return out;
  }

  /**
   * The best `limit` matches of a tenant, plus each query term's best `perTerm` matches that did
   * not make the cut (so a rare entity named beside common words still gets seeded). `accept`,
   * when given, filters first. Best first. The result's `maskOf` is valid until the next search.
   */
  search(
    tenant: string | null,
    query: string,
    limit: number,
    accept: ((ix: number) => boolean) | null = null,
    perTerm = 0,
  ): LexicalResult {
    const scope = this.scopes.get(scopeKey(tenant));
    if (!scope || scope.docs === 0) return EMPTY_RESULT;
    const qterms = [...new Set(terms(query))];
    const n = scope.docs;
    const avg = scope.totalLength / n;
    const scores = this.scores;
    const masks = this.masks;
    const gen = ++this.generation;
    const maskGen = this.maskGen;
    const touched: number[] = [];
    const termBest: number[][] = [];
    const weights: number[] = [];
    for (const t of qterms) {
      const p = this.live(tenant, t);
      if (!p || p.live === 0) continue;
      const idf = Math.log(1 + (n - p.live + 0.5) / (p.live + 0.5));
      const bit = p.live * 10 <= n && weights.length < 31 ? 1 << weights.length : 0;
      if (bit) weights.push(idf);
      const bestIx: number[] = [];
      const bestC: number[] = [];
      for (let i = 0; i < p.n; i++) {
        const ix = p.ix[i]!;
        if (this.alive[ix] !== 1) continue;
        const tf = p.tf[i]!;
        const c = (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * this.docLength[ix]!) / avg));
        if (scores[ix] === 0) touched.push(ix);
        scores[ix]! += c;
        if (bit) {
          if (maskGen[ix] !== gen) {
            maskGen[ix] = gen;
            masks[ix] = 0;
          }
          masks[ix]! |= bit;
        }
        if (perTerm > 0 && (bestIx.length < perTerm || c > bestC[bestC.length - 1]!) && (accept === null || accept(ix))) {
          let at = bestC.length;
          while (at > 0 && bestC[at - 1]! < c) at--;
          bestIx.splice(at, 0, ix);
          bestC.splice(at, 0, c);
          if (bestIx.length > perTerm) {
            bestIx.pop();
            bestC.pop();
          }
        }
      }
      termBest.push(bestIx);
    }

    const heap = new TopK(limit);
    for (const ix of touched) if (accept === null || accept(ix)) heap.offer(ix, scores[ix]!);
    const hits = heap.drain();
    const chosen = new Set(hits.map((h) => h.ix));
    for (const best of termBest) {
      for (const ix of best) {
        if (chosen.has(ix)) continue;
        chosen.add(ix);
        hits.push({ ix, score: scores[ix]! });
      }
    }
    for (const ix of touched) scores[ix] = 0;
    hits.sort((a, b) => b.score - a.score || a.ix - b.ix);
    const maskOf = (ix: number): number => (maskGen[ix] === gen ? masks[ix]! : 0);
    return { hits, maskOf, weights };
  }
}
