/**
 * Typed helpers for the daemon's memory and skill methods, named after the upstream Node binding
 * (`addFact`, `queryFacts`, `buildContext`, …). Each takes the `call` function of a connection
 * (for example `(m, p) => client.call(m, p)`) and returns parsed values, not JSON strings.
 */

import type { ConsolidationReport as EngineConsolidationReport } from '../memory/consolidation.js';
import type { SkillStats } from '../memory/skills.js';
import { defined } from '../util/values.js';

export type { SkillStats };

/** `memory.consolidate` on the wire: the candidates as fact ids, their numbers beside them. */
export type ConsolidationReport = Omit<EngineConsolidationReport, 'candidates_promoted' | 'candidates_rejected' | 'promoted_ids' | 'rejected_ids'> & {
  candidates_promoted: string[];
  candidates_rejected: string[];
  candidates_promoted_count: number;
  candidates_rejected_count: number;
};

export type RpcCall = (method: string, params: Record<string, unknown>) => Promise<unknown>;

export type FactKind = 'pattern' | 'constraint';

export interface QueryRow {
  fact_id: string | null;
  subject: string;
  body: string;
  kind: FactKind;
  /** The activation score of this query. */
  confidence: number;
  tags: string[];
  source: string | null;
}

export interface SaveParams {
  id?: string;
  subject: string;
  body: string;
  tags?: string[];
  confidence?: number | string;
  tenant_id?: string;
  is_constraint?: boolean;
}

export interface SaveResult {
  id: string;
  kind: 'knowledge' | 'procedural';
  fact_count: number;
}

export interface StatusSlot {
  id: string;
  body: string;
  tenant_id?: string;
}

export interface InterveneParams {
  query?: string;
  recent?: string[];
  trigger?: {
    repeated_failures?: number | boolean;
    tool_error?: boolean | string | null;
    explicit_uncertainty?: boolean;
    high_risk_action?: boolean;
    context_shift?: boolean;
  };
  force?: boolean;
  max_candidates?: number;
  tenant_id?: string;
}

export interface InterventionCandidate {
  id: string;
  subject: string;
  body: string;
  kind: string;
  score: number;
  injections: number;
}

export interface Bank {
  size: number;
  knowledge: number;
  procedural: number;
}

export type Intervention =
  | { decision: 'inject'; reminder: string; selected: InterventionCandidate; candidates: InterventionCandidate[]; bank: Bank }
  | { decision: 'silent'; reason: string; candidates: InterventionCandidate[]; bank: Bank };

export interface EvaluationModeStats {
  interventions: number;
  true_positives: number;
  false_positives: number;
  false_negatives: number;
  precision: number;
  recall: number;
  interruption_rate: number;
  avg_candidates_exposed: number;
}

export interface Evaluation {
  cases: { id: string; decision: 'inject' | 'silent'; selected: string | null; candidates: string[]; relevant_fact_ids: string[] }[];
  selective: EvaluationModeStats;
  always_inject: EvaluationModeStats;
  passive_retrieval: EvaluationModeStats;
  no_memory: EvaluationModeStats;
}

export interface MaintainResult {
  trigger: { repeated_failures: number; tool_error: boolean; explicit_uncertainty: boolean; high_risk_action: boolean; context_shift: boolean };
  saved: number;
  skipped_existing: number;
  status?: StatusSlot;
}

export interface UtilitySettings {
  utility_weight: number;
  utility_exploration: number;
}

export interface Skill {
  name: string;
  code: string;
  platform: string;
  persona: string;
  url_pattern: string;
  task_keywords: string[];
  description: string;
  domain: string;
  when_to_apply: string;
  source: string;
  deprecated: boolean;
  superseded_by: string | null;
  degraded: boolean;
  stats: SkillStats;
}

export interface DistilledSkill {
  name: string;
  description?: string;
  when_to_apply?: string;
  scope?: { domain?: string };
  source?: string;
  domain?: string;
  trigger?: { persona?: string; url_pattern?: string; task_keywords?: string[] };
  code: string;
}

const as = <T>(p: Promise<unknown>): Promise<T> => p as Promise<T>;

/** Returns the fact count after the add. */
export function addFact(
  call: RpcCall,
  subject: string,
  body: string,
  kind: FactKind = 'pattern',
  confidence?: number,
  factId?: string,
  tags?: string[],
  source?: string,
): Promise<number> {
  return as(call('memory.add_fact', defined({ subject, body, kind, confidence, fact_id: factId, tags, source })));
}

export function queryFacts(call: RpcCall, query: string, k?: number): Promise<QueryRow[]> {
  return as(call('memory.query', defined({ query, k })));
}

export function factCount(call: RpcCall): Promise<number> {
  return as(call('memory.fact_count', {}));
}

export function buildContext(call: RpcCall, query: string, modelContextWindow?: number): Promise<string> {
  return as(call('memory.build_context', defined({ query, model_context_window: modelContextWindow })));
}

export function buildContextFast(call: RpcCall, query: string, modelContextWindow?: number): Promise<string> {
  return as(call('memory.build_context_fast', defined({ query, model_context_window: modelContextWindow })));
}

export function consolidate(call: RpcCall): Promise<ConsolidationReport> {
  return as(call('memory.consolidate', {}));
}

/** `path` is relative to the daemon's memory directory. Returns the facts written. */
export function persistMemory(call: RpcCall, path: string): Promise<number> {
  return as(call('memory.persist', { path }));
}

/** Replaces the bound graph; returns the facts loaded. */
export function loadMemory(call: RpcCall, path: string): Promise<number> {
  return as(call('memory.load', { path }));
}

export function memoryUpdateStatus(call: RpcCall, params: { body: string; tenant_id?: string }): Promise<StatusSlot> {
  return as(call('memory.update_status', defined(params)));
}

export function memorySaveKnowledge(call: RpcCall, params: SaveParams): Promise<SaveResult> {
  return as(call('memory.save_knowledge', defined({ ...params })));
}

export function memorySaveProcedural(call: RpcCall, params: SaveParams): Promise<SaveResult> {
  return as(call('memory.save_procedural', defined({ ...params })));
}

export function memoryDelete(
  call: RpcCall,
  params: { id: string },
): Promise<{ id: string; deleted: boolean; kind: string | null; fact_count: number }> {
  return as(call('memory.delete', params));
}

export function memoryIntervene(call: RpcCall, params: InterveneParams = {}): Promise<Intervention> {
  return as(call('memory.intervene', defined({ ...params })));
}

export function memoryEvaluate(
  call: RpcCall,
  params: { cases: { id: string; request: string | InterveneParams; relevant_fact_ids?: string[] }[]; tenant_id?: string },
): Promise<Evaluation> {
  return as(call('memory.evaluate', defined({ ...params })));
}

export function memoryMaintain(call: RpcCall, params: { max_recent?: number; tenant_id?: string } = {}): Promise<MaintainResult> {
  return as(call('memory.maintain', defined(params)));
}

export function memoryUtilityGet(call: RpcCall): Promise<UtilitySettings> {
  return as(call('memory.utility_get', {}));
}

export function memoryUtilitySet(call: RpcCall, params: Partial<UtilitySettings>): Promise<UtilitySettings> {
  return as(call('memory.utility_set', defined(params)));
}

/** Returns the skill's node index. */
export function ingestSkill(
  call: RpcCall,
  name: string,
  code: string,
  platform: string,
  persona: string,
  urlPattern: string,
  taskKeywords: string[],
  description: string,
  supersedes?: string,
): Promise<number> {
  return as(
    call(
      'skill.ingest',
      defined({ name, code, platform, persona, url_pattern: urlPattern, task_keywords: taskKeywords, description, supersedes }),
    ),
  );
}

/** Best matches first, or `null` when nothing matches. */
export function findSkill(
  call: RpcCall,
  persona: string,
  url: string,
  task: string,
  maxResults?: number,
): Promise<(Skill & { match_score: number })[] | null> {
  return as(call('skill.find', defined({ persona, url, task, max_results: maxResults })));
}

export function reportOutcome(call: RpcCall, name: string, outcome: string): Promise<SkillStats & { name: string; skill_name: string }> {
  return as(call('skill.report', { skill_name: name, outcome }));
}

export function listSkills(call: RpcCall, domain?: string): Promise<Skill[]> {
  return as(call('skills.list', defined({ domain })));
}

export async function ingestDistilledSkills(call: RpcCall, skills: DistilledSkill[]): Promise<number> {
  return (await as<{ ingested: number }>(call('skills.ingest_distilled', { skills }))).ingested;
}

export function domainsNeedingEvolution(call: RpcCall, threshold?: number): Promise<string[]> {
  return as(call('skills.domains_needing_evolution', defined({ threshold })));
}

/** Runs on a model the daemon can reach (rejects when it has none). Returns the skills, not yet stored. */
export function distillSkills(call: RpcCall, events: unknown[]): Promise<DistilledSkill[]> {
  return as(call('skills.distill', { events }));
}

/** Runs on a model the daemon can reach. Returns proposed skills for the domain. */
export function evolveSkills(call: RpcCall, events: unknown[], domain: string): Promise<unknown> {
  return as(call('skills.evolve', { events, domain }));
}

/** Runs on a model the daemon can reach. Returns proposed code (the skill is not changed), or null when it is not broken. */
export async function repairSkill(call: RpcCall, name: string): Promise<string | null> {
  return (await as<{ code: string } | null>(call('skill.repair', { skill_name: name })))?.code ?? null;
}
