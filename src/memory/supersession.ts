import type { FactGraph, FactNode } from './graph.js';
import { normalizeSubject } from './text.js';
import type { FactRecord } from './types.js';

/** Weight of the edge from a fact to one it superseded. */
export const SUPERSEDES_WEIGHT = 0.5;
/** A superseded fact keeps this share of its activation, and never ranks above its successor. */
export const SUPERSEDED_PENALTY = 0.35;

/**
 * Mark the facts a new one supersedes: older valid facts of its tenant with the same subject
 * (case, spacing and separators ignored), kind and memory type, and a different body. They stay
 * valid (and stored) until consolidation retires them. Returns their ids.
 */
export function supersede(graph: FactGraph, record: FactRecord): string[] {
  const out: string[] = [];
  const body = normalizeSubject(record.body);
  for (const ix of graph.subjectMates(record)) {
    const old = graph.get(ix);
    if (!old || old.superseded_by !== null) continue;
    if (old.kind !== record.kind || old.memory_type !== record.memory_type) continue;
    if (normalizeSubject(old.body) === body) continue;
    old.superseded_by = record.id;
    out.push(old.id);
  }
  return out;
}

/** Push superseded facts below their successors among scored results (in place). */
export function rankBelowSuccessors(scored: { node: FactNode; score: number }[]): void {
  const byId = new Map(scored.map((s) => [s.node.id, s]));
  for (const s of scored) {
    const successor = s.node.superseded_by === null ? undefined : byId.get(s.node.superseded_by);
    if (successor && s.score >= successor.score) s.score = successor.score * 0.9;
  }
}
