import { CarError } from '../../util/errors.js';
import type { Action } from '../ir.js';
import type { ToolDefinition } from '../tool-registry.js';

/** Result types and options of static verification. */

export type IssueSeverity = 'error' | 'warning' | 'info';

/**
 * How much an issue can be trusted: `decision_procedure` is exact over what the proposal declares,
 * `heuristic` is a rule of thumb, `sampled` comes from probing a finite set of states.
 */
export type IssueTier = 'decision_procedure' | 'heuristic' | 'sampled';

export interface VerifyIssue {
  action_id: string;
  severity: IssueSeverity;
  message: string;
  tier: IssueTier;
}

/** One check that verify ran (or skipped), with what it can and cannot establish. */
export interface EvidenceCheck {
  name: string;
  ran: boolean;
  verifies: string;
  cannot_verify: string;
  findings: number;
  tier: IssueTier;
}

export interface VerifyEvidence {
  checks: EvidenceCheck[];
  assumptions: string[];
  untested_regions: string[];
  residual_risks: string[];
  /** 0..1: how much of the proposal the checks could actually see. */
  confidence: number;
}

/** `[a, b, key]`: a and b both write key and neither is ordered before the other. */
export type WriteConflict = [string, string, string];

export interface VerifyResult {
  valid: boolean;
  issues: VerifyIssue[];
  simulated_state: Record<string, unknown>;
  execution_levels: string[][];
  conflicts: WriteConflict[];
  evidence: VerifyEvidence;
}

export interface PolicyViolation {
  policy_name: string;
  reason: string;
}

export interface VerifyOptions {
  initialState?: Record<string, unknown>;
  /** Registered tools by name; when absent, the unknown-tool and schema checks are skipped. */
  tools?: (name: string) => ToolDefinition | undefined;
  /** Most actions a proposal may hold (default 1000). */
  maxActions?: number;
  /** Policy denials for one action given the state the walk reached before it. */
  policyViolations?: (action: Action, state: Record<string, unknown>) => PolicyViolation[];
}

/** Bad input to a verification entry point (e.g. too many probe states); callers map it to invalid params. */
export class VerifyInputError extends CarError {
  declare readonly field: string;

  constructor(message: string, field: string) {
    super('invalid', message, { field });
    this.name = 'VerifyInputError';
  }
}
