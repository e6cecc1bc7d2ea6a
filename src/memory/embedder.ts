import type { LexicalHit } from './lexical-index.js';

/**
 * A text-embedding provider. None ships with the daemon and nothing needs one; when a scope is
 * given an embedder, facts are embedded as they are added and queries seed the graph walk with
 * the nearest facts by cosine similarity as well as with the lexical hits.
 */
export interface Embedder {
  /** Length of every vector `embed` returns. */
  readonly dimensions: number;
  embed(texts: string[]): Promise<Float32Array[]>;
}

/** Fact vectors, unit-normalised, searched by brute force (fine for the sizes a graph reaches). */
export class VectorStore {
  private readonly vectors = new Map<number, Float32Array>();

  constructor(readonly dimensions: number) {}

  get size(): number {
    return this.vectors.size;
  }

  set(ix: number, vector: Float32Array): void {
    if (vector.length !== this.dimensions) {
      throw new RangeError(`embedding has ${vector.length} dimensions, expected ${this.dimensions}`);
    }
    this.vectors.set(ix, normalise(vector));
  }

  has(ix: number): boolean {
    return this.vectors.has(ix);
  }

  delete(ix: number): void {
    this.vectors.delete(ix);
  }

  /** The `k` nearest accepted facts with positive similarity, best first. */
  nearest(query: Float32Array, k: number, accept: (ix: number) => boolean): { ix: number; similarity: number }[] {
    const q = normalise(query);
    const out: { ix: number; similarity: number }[] = [];
    for (const [ix, v] of this.vectors) {
      if (!accept(ix)) continue;
      let dot = 0;
      for (let i = 0; i < v.length; i++) dot += v[i]! * q[i]!;
      if (dot > 0) out.push({ ix, similarity: dot });
    }
    return out.sort((a, b) => b.similarity - a.similarity || a.ix - b.ix).slice(0, k);
  }
}

/**
 * Fuse vector neighbours into the lexical seeds: each gets `similarity × the best lexical score`
 * (or 1 when nothing matched lexically), added to a lexical score it may already have.
 */
export function fuseSeeds(lexical: LexicalHit[], nearest: { ix: number; similarity: number }[]): LexicalHit[] {
  const scale = lexical[0]?.score ?? 1;
  const byIx = new Map(lexical.map((h) => [h.ix, h.score]));
  for (const n of nearest) byIx.set(n.ix, (byIx.get(n.ix) ?? 0) + n.similarity * scale);
  return [...byIx].map(([ix, score]) => ({ ix, score })).sort((a, b) => b.score - a.score || a.ix - b.ix);
}

function normalise(v: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
  norm = Math.sqrt(norm);
  if (norm === 0) return v;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / norm;
  return out;
}
