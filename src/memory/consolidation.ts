import type { MemoryEngine } from './engine.js';
import type { FactRecord } from './types.js';
import type { FactNode } from './graph.js';
import { normalizeSubject } from './text.js';
import { round } from '../util/values.js';

/** Facts below this confidence are candidates: consolidation promotes or rejects them. */
export const CANDIDATE_THRESHOLD = 0.5;
export const PROMOTED_CONFIDENCE = 0.7;
/** An unused candidate older than this is rejected. */
export const CANDIDATE_TTL_MS = 3 * 24 * 3600 * 1000;
/** A pattern fact unused for this long loses a fifth of its confidence (once per period). */
export const STALE_AFTER_MS = 30 * 24 * 3600 * 1000;
const DECAY_FACTOR = 0.8;
const CONFIDENCE_FLOOR = 0.05;

/** The decisions of one dream pass, by fact id, fixed before anything changes (so it can be logged). */
export interface ConsolidationPlan {
  merge: { keep: string; drop: string[] }[];
  retire: string[];
  reject: string[];
  promote: { id: string; confidence: number }[];
  decay: { id: string; confidence: number }[];
}

export interface ConsolidationReport {
  candidates_promoted: number;
  candidates_rejected: number;
  /** The fact ids behind the two counts above. */
  promoted_ids: string[];
  rejected_ids: string[];
  merged: number;
  decayed: number;
  superseded_retired: number;
  facts_before: number;
  facts_after: number;
  duration_ms: number;
  skills_needing_evolution: string[];
  started_at: string;
  /** What was folded or retired and why (the first `REPORT_DETAIL_LIMIT` of each). */
  details: ConsolidationDetails;
}

export interface ConsolidationDetails {
  /** Exact restatements folded into the oldest copy. */
  merged: { kept: string; dropped: string[]; reason: 'duplicate' }[];
  /** Facts replaced by a newer value of the same attribute (or explicitly), now retired. */
  retired: { id: string; superseded_by: string; reason: 'superseded' }[];
  /** Unused low-confidence candidates past their time to live. */
  rejected: { id: string; reason: 'unused_candidate' }[];
}

export const REPORT_DETAIL_LIMIT = 50;

export function emptyPlan(plan: ConsolidationPlan): boolean {
  return !plan.merge.length && !plan.retire.length && !plan.reject.length && !plan.promote.length && !plan.decay.length;
}

/**
 * Decide one dream pass: merge exact duplicates (same tenant, kind, type, subject and body; the
 * oldest survives), retire facts whose successor is valid, promote candidates that proved useful
 * and reject the ones nobody used, and decay pattern facts left unused for a long time.
 * Nothing is deleted: merged, retired and rejected facts stay for audit.
 */
export function planConsolidation(engine: MemoryEngine, nowIso: string): ConsolidationPlan {
  const now = Date.parse(nowIso);
  const plan: ConsolidationPlan = { merge: [], retire: [], reject: [], promote: [], decay: [] };
  const valid: FactNode[] = [];
  for (const node of engine.graph.all()) if (node.valid) valid.push(node);

  const groups = new Map<string, FactNode[]>();
  for (const n of valid) {
    const key = [n.tenant_id ?? '', n.kind, n.memory_type, normalizeSubject(n.subject), normalizeSubject(n.body)].join('\u0000');
    const g = groups.get(key);
    if (g) g.push(n);
    else groups.set(key, [n]);
  }
  const gone = new Set<string>();
  const reinforced = new Set<string>();
  for (const g of groups.values()) {
    if (g.length < 2) continue;
    const [keep, ...drop] = g;
    plan.merge.push({ keep: keep!.id, drop: drop.map((d) => d.id) });
    for (const d of drop) gone.add(d.id);
    reinforced.add(keep!.id);
  }

  for (const n of valid) {
    if (gone.has(n.id) || n.superseded_by === null) continue;
    const successor = engine.graph.getById(n.superseded_by);
    if (successor?.valid && !gone.has(successor.id)) {
      plan.retire.push(n.id);
      gone.add(n.id);
    }
  }

  for (const n of valid) {
    if (gone.has(n.id)) continue;
    if (n.confidence < CANDIDATE_THRESHOLD) {
      if (reinforced.has(n.id) || n.access_count >= 2 || n.injection_count >= 1) {
        plan.promote.push({ id: n.id, confidence: Math.max(n.confidence, PROMOTED_CONFIDENCE) });
        continue;
      }
      if (n.access_count === 0 && now - Date.parse(n.created_at) > CANDIDATE_TTL_MS) {
        plan.reject.push(n.id);
        continue;
      }
    }
    if (n.kind === 'constraint' || n.confidence <= CONFIDENCE_FLOOR) continue;
    const lastTouch = Math.max(Date.parse(n.created_at), stamp(n.last_accessed_at), stamp(n.decayed_at));
    if (now - lastTouch > STALE_AFTER_MS) {
      plan.decay.push({ id: n.id, confidence: Math.max(CONFIDENCE_FLOOR, round(n.confidence * DECAY_FACTOR, 4)) });
    }
  }
  return plan;
}

/** Carry out a plan; ids that no longer name a valid fact are skipped. */
export function applyPlan(engine: MemoryEngine, plan: ConsolidationPlan, at: string): void {
  const g = engine.graph;
  for (const { keep, drop } of plan.merge) {
    const k = g.getById(keep);
    if (!k?.valid) continue;
    for (const id of drop) {
      const d = g.getById(id);
      if (!d?.valid) continue;
      k.access_count += d.access_count;
      k.injection_count += d.injection_count;
      mergeInto(k, d);
      d.superseded_by = k.id;
      engine.retire(d, at);
    }
  }
  for (const id of [...plan.retire, ...plan.reject]) {
    const n = g.getById(id);
    if (n?.valid) engine.retire(n, at);
  }
  for (const { id, confidence } of plan.promote) {
    const n = g.getById(id);
    if (n?.valid) n.confidence = confidence;
  }
  for (const { id, confidence } of plan.decay) {
    const n = g.getById(id);
    if (!n?.valid) continue;
    n.confidence = confidence;
    n.decayed_at = at;
  }
}

export function reportOf(
  plan: ConsolidationPlan,
  successorOf: (id: string) => string | null,
): Omit<ConsolidationReport, 'facts_before' | 'facts_after' | 'duration_ms' | 'skills_needing_evolution' | 'started_at'> {
  return {
    details: {
      merged: plan.merge.slice(0, REPORT_DETAIL_LIMIT).map((m) => ({ kept: m.keep, dropped: m.drop, reason: 'duplicate' as const })),
      retired: plan.retire.slice(0, REPORT_DETAIL_LIMIT).map((id) => ({ id, superseded_by: successorOf(id) ?? '', reason: 'superseded' as const })),
      rejected: plan.reject.slice(0, REPORT_DETAIL_LIMIT).map((id) => ({ id, reason: 'unused_candidate' as const })),
    },
    candidates_promoted: plan.promote.length,
    candidates_rejected: plan.reject.length,
    promoted_ids: plan.promote.map((p) => p.id),
    rejected_ids: [...plan.reject],
    merged: plan.merge.reduce((s, m) => s + m.drop.length, 0),
    decayed: plan.decay.length,
    superseded_retired: plan.retire.length,
  };
}

function stamp(iso: string | null): number {
  return iso === null ? 0 : Date.parse(iso);
}

/** Fold a restated fact into the stored one: the higher confidence, every tag and every source. */
export function mergeInto(kept: FactRecord, dup: Pick<FactRecord, 'confidence' | 'tags' | 'source'>): void {
  kept.confidence = Math.max(kept.confidence, dup.confidence);
  for (const t of dup.tags) if (!kept.tags.includes(t)) kept.tags.push(t);
  if (dup.source !== null && dup.source !== kept.source) {
    const sources = new Set((kept.source ?? '').split(', ').filter(Boolean));
    if (!sources.has(dup.source) && sources.size < MAX_SOURCES) kept.source = [...sources, dup.source].join(', ');
  }
}

/** Sources remembered for one fact restated from several places. */
const MAX_SOURCES = 8;
