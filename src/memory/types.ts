import { CarError, type CarErrorKind } from '../util/errors.js';

/** `pattern` is ordinary knowledge; `constraint` is a hard rule that goes into the Constraints layer. */
export type FactKind = 'pattern' | 'constraint';

/**
 * Where a fact came from, which decides the context section it lands in and which proactive
 * memory bank sees it. Plain `memory.add_fact` facts are `fact`.
 */
export type MemoryType = 'fact' | 'knowledge' | 'procedural' | 'conversation' | 'identity' | 'environment';

export const MEMORY_TYPES: readonly MemoryType[] = ['fact', 'knowledge', 'procedural', 'conversation', 'identity', 'environment'];

/** One fact as stored and as written to the flat JSON snapshot. */
export interface FactRecord {
  id: string;
  subject: string;
  body: string;
  kind: FactKind;
  /** Authority of the fact, 0..1. Below the candidate threshold a fact is a candidate for consolidation. */
  confidence: number;
  tags: string[];
  source: string | null;
  tenant_id: string | null;
  memory_type: MemoryType;
  /** ISO-8601. */
  created_at: string;
  /** False once retired (superseded and resolved, or rejected by consolidation); kept for audit. */
  valid: boolean;
  /** Id of the newer fact on the same subject that outranks this one. */
  superseded_by: string | null;
  /** ISO-8601 time the fact stopped being valid. */
  invalidated_at: string | null;
  /** Times the fact was returned by a query (not logged; carried by snapshots). */
  access_count: number;
  /** Times `intervene` injected it as a reminder. */
  injection_count: number;
  last_accessed_at: string | null;
  /** Last time consolidation lowered its confidence for going unused. */
  decayed_at: string | null;
  /** The connection that added it; facts added in a row by one connection are linked (co-occurrence). */
  origin: string | null;
}

/** What a caller supplies to add a fact; everything but subject and body has a default. */
export interface FactInput {
  subject: string;
  body: string;
  kind?: FactKind;
  confidence?: number;
  id?: string;
  tags?: string[];
  source?: string | null;
  tenant_id?: string | null;
  memory_type?: MemoryType;
  /** Id of an older fact this one replaces (besides the ones it replaces by attribute). */
  supersedes?: string;
}

/** A row of `memory.query`. `confidence` holds the activation score of this query. */
export interface QueryRow {
  fact_id: string | null;
  subject: string;
  body: string;
  kind: FactKind;
  confidence: number;
  tags: string[];
  source: string | null;
}

export type EdgeKind = 'supersedes' | 'co_occurrence' | 'related';

/** An explicit edge; edges implied by a shared subject or shared terms are derived, never stored. */
export interface EdgeRecord {
  from: string;
  to: string;
  kind: EdgeKind;
  weight: number;
}

/** Skill trigger context and outcome stats (`skill.*`). */
export interface SkillRecord {
  /** Node index returned by ingest; stable for the skill's lifetime. */
  index: number;
  name: string;
  code: string;
  platform: string;
  persona: string;
  url_pattern: string;
  task_keywords: string[];
  description: string;
  /** `global` skills are returned for every domain filter. */
  domain: string;
  when_to_apply: string;
  source: string;
  tenant_id: string | null;
  created_at: string;
  deprecated: boolean;
  superseded_by: string | null;
  success_count: number;
  fail_count: number;
  last_outcome: 'success' | 'fail' | null;
  last_used_at: string | null;
}

export type MemoryErrorCode = 'invalid' | 'not_found' | 'unavailable' | 'rejected_path' | 'corrupt';

const MEMORY_ERROR_KINDS: Readonly<Record<MemoryErrorCode, CarErrorKind>> = {
  invalid: 'invalid',
  not_found: 'not_found',
  unavailable: 'unavailable',
  rejected_path: 'denied',
  corrupt: 'unavailable',
};

/** `code` is the memory engine's own reason, also sent as `data.reason`. */
export class MemoryError extends CarError {
  constructor(
    message: string,
    readonly code: MemoryErrorCode = 'invalid',
  ) {
    super(MEMORY_ERROR_KINDS[code], message, { detail: { reason: code } });
    this.name = 'MemoryError';
  }
}
