import type { FactGraph } from './graph.js';
import type { LexicalIndex, LexicalResult } from './lexical-index.js';
import { termSet } from './text.js';

export interface ActivationOptions {
  /** Seeds whose neighbourhood is explored (the strongest lexical hits). */
  expandSeeds: number;
  /** Most neighbours kept per seed. */
  neighbourCap: number;
  /** Terms shared by more facts than this say nothing about relatedness and link nothing. */
  termDfCap: number;
  /** Strength of the edge from a fact to the facts about an entity its body names. */
  mentionWeight: number;
  /** Share of a seed's activation that crosses one edge of full strength. */
  decay: number;
  /** Personalized PageRank over the activated subgraph: restart probability and steps. */
  pprRestart: number;
  pprSteps: number;
  /** How much of the final score comes from the PageRank pass (0 = spreading activation only). */
  pprBlend: number;
}

export const DEFAULT_ACTIVATION: ActivationOptions = {
  expandSeeds: 64,
  neighbourCap: 24,
  termDfCap: 64,
  mentionWeight: 1,
  decay: 0.8,
  pprRestart: 0.5,
  pprSteps: 8,
  pprBlend: 0.1,
};

interface LocalEdge {
  a: number;
  b: number;
  strength: number;
}

/**
 * Spreading activation from the lexical seeds, then personalized PageRank on what it reached.
 *
 * Each seed passes activation to its neighbours: facts with the same subject, facts sharing a rare
 * term (the rarer, the stronger the edge) and explicit edges (supersession, co-occurrence). What
 * crosses an edge is the part of the seed's score earned by query terms the neighbour does not
 * contain itself, times the edge strength and a decay. A neighbour keeps the best such offer on
 * top of its own lexical match. So for "which port does project Falcon use?" the codename fact
 * (matching "Falcon") vouches for the port fact of its service (matching "port"), which then
 * outranks every other port fact; while facts that only repeat what their seed matched (a cluster
 * of look-alike facts) gain nothing from each other.
 *
 * The PageRank pass runs on the same subgraph with the activations as the restart vector and
 * contributes a small share of the final score: a tie-breaker towards facts the rest of the
 * activated neighbourhood points at.
 */
export function activate(
  graph: FactGraph,
  index: LexicalIndex,
  tenant: string | null,
  lexical: LexicalResult,
  accept: (ix: number) => boolean,
  opts: ActivationOptions = DEFAULT_ACTIVATION,
): Map<number, number> {
  const { hits: seeds, maskOf, weights } = lexical;
  const act = new Map<number, number>();
  for (const s of seeds) act.set(s.ix, s.score);
  if (seeds.length === 0) return act;
  const n = Math.max(index.docCount(tenant), 2);
  const logN = Math.log(n);
  const massOf = (mask: number): number => {
    let m = 0;
    for (let b = 0; mask !== 0; b++, mask >>>= 1) if (mask & 1) m += weights[b]!;
    return m;
  };

  const received = new Map<number, number>();
  const edges: LocalEdge[] = [];
  for (const seed of seeds.slice(0, opts.expandSeeds)) {
    const u = graph.get(seed.ix);
    if (!u) continue;
    // Edge strengths in [0,1], combined as a noisy-or over the ways two facts are linked.
    const strength = new Map<number, number>();
    const add = (v: number, w: number): void => {
      if (v !== u.ix) strength.set(v, 1 - (1 - (strength.get(v) ?? 0)) * (1 - Math.min(1, w)));
    };
    for (const v of graph.subjectMates(u).slice(-opts.neighbourCap)) add(v, 1);
    for (const v of graph.mentioned(u).slice(0, opts.neighbourCap)) add(v, opts.mentionWeight);
    for (const term of termSet(`${u.subject} ${u.body}`)) {
      const df = index.df(tenant, term);
      if (df < 2 || df > opts.termDfCap) continue;
      const rarity = Math.log(n / df) / logN;
      const w = rarity * rarity;
      for (const v of index.postings(tenant, term)) add(v, w);
    }
    for (const e of graph.explicitEdges(u.ix)) add(e.to, e.weight);

    // What u can vouch for on v's behalf: the query terms u matches and v does not.
    const uMask = maskOf(u.ix);
    const uMass = massOf(uMask);
    const offers: { v: number; s: number; amount: number }[] = [];
    for (const [v, w] of strength) {
      if (!accept(v)) continue;
      const share = uMass > 0 ? massOf(uMask & ~maskOf(v)) / uMass : 1;
      const s = w;
      // Squared: a seed vouches fully for what the neighbour lacks entirely, and little for a
      // neighbour that already matches most of what the seed matched.
      if (share > 0) offers.push({ v, s, amount: opts.decay * s * seed.score * share * share });
    }
    offers.sort((a, b) => b.amount - a.amount || b.v - a.v);
    for (const o of offers.slice(0, opts.neighbourCap)) {
      if (o.amount > (received.get(o.v) ?? 0)) received.set(o.v, o.amount);
      edges.push({ a: u.ix, b: o.v, strength: o.s });
    }
  }

  for (const [ix, got] of received) {
    // A neighbour that was not a seed: estimate its own lexical match from the terms it contains.
    const own = act.get(ix) ?? massOf(maskOf(ix));
    act.set(ix, own + got);
  }
  if (opts.pprBlend <= 0 || edges.length === 0) return act;
  return blendPageRank(act, edges, opts);
}

/** Power iteration on the activated subgraph (arrays, not maps: this runs on every query). */
function blendPageRank(act: Map<number, number>, edges: LocalEdge[], opts: ActivationOptions): Map<number, number> {
  const ids = [...act.keys()];
  const local = new Map(ids.map((ix, i) => [ix, i]));
  const m = ids.length;
  const restart = new Float64Array(m);
  let total = 0;
  ids.forEach((ix, i) => {
    restart[i] = act.get(ix)!;
    total += restart[i]!;
  });
  for (let i = 0; i < m; i++) restart[i]! /= total;
  const out = new Float64Array(m);
  const from: number[] = [];
  const to: number[] = [];
  const w: number[] = [];
  for (const e of edges) {
    const a = local.get(e.a)!;
    const b = local.get(e.b)!;
    from.push(a, b);
    to.push(b, a);
    w.push(e.strength, e.strength);
    out[a]! += e.strength;
    out[b]! += e.strength;
  }
  let x = Float64Array.from(restart);
  for (let step = 0; step < opts.pprSteps; step++) {
    const next = new Float64Array(m);
    let dangling = 0;
    for (let i = 0; i < m; i++) if (out[i] === 0) dangling += x[i]!;
    for (let k = 0; k < from.length; k++) next[to[k]!]! += ((1 - opts.pprRestart) * x[from[k]!]! * w[k]!) / out[from[k]!]!;
    const back = opts.pprRestart + (1 - opts.pprRestart) * dangling;
    for (let i = 0; i < m; i++) next[i]! += back * restart[i]!;
    x = next;
  }
  let maxAct = 0;
  let maxPpr = 0;
  for (let i = 0; i < m; i++) {
    maxAct = Math.max(maxAct, restart[i]!);
    maxPpr = Math.max(maxPpr, x[i]!);
  }
  const blended = new Map<number, number>();
  const scale = total * maxAct;
  ids.forEach((ix, i) => {
    const a = restart[i]! / maxAct;
    const p = maxPpr > 0 ? x[i]! / maxPpr : 0;
    blended.set(ix, scale * ((1 - opts.pprBlend) * a + opts.pprBlend * p));
  });
  return blended;
}
