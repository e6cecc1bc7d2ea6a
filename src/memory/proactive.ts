import { createHash } from 'node:crypto';
import type { MemoryEngine, QueryHit } from './engine.js';
import type { FactInput, MemoryType } from './types.js';
import { round } from '../util/values.js';

/** The proactive bank: what `save_knowledge` / `save_procedural` stored. */
export const BANK_TYPES: ReadonlySet<MemoryType> = new Set<MemoryType>(['knowledge', 'procedural']);
/** Without a trigger, only a match this strong is worth an interruption. */
export const STRONG_MATCH = 0.75;
/** With a trigger (a failure, uncertainty, risk, a context shift) a weaker match is enough. */
export const TRIGGERED_MATCH = 0.3;
export const DEFAULT_MAX_CANDIDATES = 8;
export const MAX_CANDIDATES = 32;

export interface Trigger {
  repeated_failures?: number | boolean;
  tool_error?: boolean | string | null;
  explicit_uncertainty?: boolean;
  high_risk_action?: boolean;
  context_shift?: boolean;
}

export interface InterveneRequest {
  query?: string;
  recent?: string[];
  trigger?: Trigger;
  force?: boolean;
  max_candidates?: number;
  tenant_id?: string | null;
}

export interface Candidate {
  id: string;
  subject: string;
  body: string;
  kind: MemoryType;
  score: number;
  injections: number;
}

export interface BankInfo {
  size: number;
  knowledge: number;
  procedural: number;
}

export type Intervention =
  | { decision: 'inject'; reminder: string; selected: Candidate; candidates: Candidate[]; bank: BankInfo }
  | { decision: 'silent'; reason: string; candidates: Candidate[]; bank: BankInfo };

export function triggerActive(t: Trigger | undefined): boolean {
  if (!t) return false;
  const failures = typeof t.repeated_failures === 'number' ? t.repeated_failures > 0 : t.repeated_failures === true;
  return failures || Boolean(t.tool_error) || Boolean(t.explicit_uncertainty) || Boolean(t.high_risk_action) || Boolean(t.context_shift);
}

function failureTrigger(t: Trigger | undefined): boolean {
  return Boolean(t && ((typeof t.repeated_failures === 'number' ? t.repeated_failures > 0 : t.repeated_failures) || t.tool_error));
}

export function bankInfo(engine: MemoryEngine, tenant: string | null): BankInfo {
  const knowledge = engine.graph.group(tenant, 'knowledge').length;
  const procedural = engine.graph.group(tenant, 'procedural').length;
  return { size: knowledge + procedural, knowledge, procedural };
}

function toCandidate(h: QueryHit): Candidate {
  const n = h.node;
  return { id: n.id, subject: n.subject, body: n.body, kind: n.memory_type, score: h.score, injections: n.injection_count };
}

export function candidatesFor(engine: MemoryEngine, req: InterveneRequest): Candidate[] {
  const text = [req.query ?? '', ...(req.recent ?? [])].join('\n');
  const max = Math.min(MAX_CANDIDATES, Math.max(1, Math.floor(req.max_candidates ?? DEFAULT_MAX_CANDIDATES)));
  return engine.query(text, { k: max, tenant_id: req.tenant_id ?? null, types: BANK_TYPES, touch: false }).map(toCandidate);
}

/**
 * Pick at most one reminder. Forced calls inject the best candidate; otherwise a strong match
 * always qualifies and a weaker one only under a trigger. Reminders that were already injected
 * lose ground (so the same one does not nag), and after a failure a procedural memory is
 * preferred over an equally good piece of knowledge.
 */
export function decide(candidates: Candidate[], req: InterveneRequest): { selected: Candidate } | { reason: string } {
  if (candidates.length === 0) return { reason: 'no_candidates' };
  const preferProcedural = failureTrigger(req.trigger);
  const effective = (c: Candidate): number =>
    (c.score / (1 + 0.25 * c.injections)) * (preferProcedural && c.kind === 'procedural' ? 1.15 : 1);
  const best = [...candidates].sort((a, b) => effective(b) - effective(a))[0]!;
  if (req.force) return { selected: best };
  const threshold = triggerActive(req.trigger) ? TRIGGERED_MATCH : STRONG_MATCH;
  if (effective(best) >= threshold) return { selected: best };
  return { reason: triggerActive(req.trigger) ? 'below_threshold' : 'no_trigger' };
}

export function reminderText(c: Candidate): string {
  return `Reminder (${c.kind}): ${c.subject}: ${c.body}`;
}

export interface EvaluationCase {
  id: string;
  /** A ProactiveMemoryRequest; its tenant_id, when set, overrides the call's. */
  request: InterveneRequest;
  relevant_fact_ids?: string[];
}

export interface ModeStats {
  interventions: number;
  true_positives: number;
  false_positives: number;
  false_negatives: number;
  precision: number;
  recall: number;
  interruption_rate: number;
  avg_candidates_exposed: number;
}

interface ModeTally {
  interventions: number;
  tp: number;
  fp: number;
  fn: number;
  exposed: number;
}

function tally(t: ModeTally, surfaced: string[], relevant: Set<string>, interrupted: boolean): void {
  if (interrupted) t.interventions++;
  t.exposed += surfaced.length;
  const hit = surfaced.filter((id) => relevant.has(id)).length;
  t.tp += hit;
  t.fp += surfaced.length - hit;
  t.fn += relevant.size - hit;
}

function stats(t: ModeTally, cases: number): ModeStats {
  const ratio = (a: number, b: number): number => (b === 0 ? 0 : round(a / b, 4));
  return {
    interventions: t.interventions,
    true_positives: t.tp,
    false_positives: t.fp,
    false_negatives: t.fn,
    precision: ratio(t.tp, t.tp + t.fp),
    recall: ratio(t.tp, t.tp + t.fn),
    interruption_rate: ratio(t.interventions, cases),
    avg_candidates_exposed: ratio(t.exposed, cases),
  };
}

/**
 * Offline comparison of four policies on the same cases, deterministically (no counters move):
 * selective (this engine's decision rule), always inject the best candidate, passive retrieval
 * (the candidates are exposed, nothing interrupts), and no memory at all.
 */
export function evaluate(engine: MemoryEngine, cases: EvaluationCase[], tenant: string | null = null) {
  const zero = (): ModeTally => ({ interventions: 0, tp: 0, fp: 0, fn: 0, exposed: 0 });
  const modes = { selective: zero(), always_inject: zero(), passive_retrieval: zero(), no_memory: zero() };
  const perCase = cases.map((c) => {
    const relevant = new Set(c.relevant_fact_ids ?? []);
    const req: InterveneRequest = { ...c.request, tenant_id: c.request.tenant_id ?? tenant };
    const candidates = candidatesFor(engine, req);
    const verdict = decide(candidates, req);
    const selected = 'selected' in verdict ? verdict.selected.id : null;
    tally(modes.selective, selected ? [selected] : [], relevant, selected !== null);
    const top = candidates[0]?.id;
    tally(modes.always_inject, top ? [top] : [], relevant, top !== undefined);
    tally(modes.passive_retrieval, candidates.map((x) => x.id), relevant, false);
    tally(modes.no_memory, [], relevant, false);
    return {
      id: c.id,
      decision: selected ? 'inject' : 'silent',
      selected,
      candidates: candidates.map((x) => x.id),
      relevant_fact_ids: [...relevant],
    };
  });
  return {
    cases: perCase,
    selective: stats(modes.selective, cases.length),
    always_inject: stats(modes.always_inject, cases.length),
    passive_retrieval: stats(modes.passive_retrieval, cases.length),
    no_memory: stats(modes.no_memory, cases.length),
  };
}

/** The slice of a runtime event `maintain` reads. */
export interface RecentEvent {
  kind: string;
  action_id?: string;
  data: Record<string, unknown>;
}

export interface MaintenancePlan {
  trigger: Required<Pick<Trigger, 'explicit_uncertainty' | 'high_risk_action' | 'context_shift'>> & {
    repeated_failures: number;
    tool_error: boolean;
  };
  /** Procedural memories to save, with ids derived from their content (so a rerun finds them). */
  facts: (FactInput & { id: string })[];
}

const FAILED = new Set(['ActionFailed', 'action_failed']);
const RISKY = new Set(['GateRejection', 'PermissionDecision']);

/**
 * Phase 1 of proactive memory over the recent events: each distinct tool failure becomes a
 * procedural memory, and the events yield the trigger the next `intervene` would see.
 */
export function planMaintenance(events: readonly RecentEvent[], tenant: string | null): MaintenancePlan {
  const failures = events.filter((e) => FAILED.has(e.kind));
  const risky = events.some(
    (e) => RISKY.has(e.kind) && (e.kind === 'GateRejection' || e.data.decision === 'needs_approval' || e.data.decision === 'denied'),
  );
  const facts = new Map<string, FactInput & { id: string }>();
  for (const e of failures) {
    const tool = typeof e.data.tool === 'string' ? e.data.tool : 'action';
    const error = typeof e.data.error === 'string' ? e.data.error : JSON.stringify(e.data.error ?? 'failed');
    const digest = createHash('sha256').update(`${tenant ?? ''}\u0000${tool}\u0000${error}`).digest('hex').slice(0, 12);
    const id = `procedural-failure-${digest}`;
    facts.set(id, {
      id,
      subject: `${tool} failure: ${error.slice(0, 80)}`,
      body: `${tool} failed: ${error.slice(0, 500)}`,
      tags: ['failure', tool],
      confidence: 0.6,
      tenant_id: tenant,
      memory_type: 'procedural',
      source: 'maintain',
    });
  }
  return {
    trigger: {
      repeated_failures: failures.length,
      tool_error: failures.length > 0,
      explicit_uncertainty: false,
      high_risk_action: risky,
      context_shift: false,
    },
    facts: [...facts.values()],
  };
}
