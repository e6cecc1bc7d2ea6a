import type { Action, Reversibility } from '../ir.js';
import { classifyAction, requiredTier, type ActionClassification, type ClassifyOptions } from './classifier.js';
import { actionFingerprint } from './fingerprint.js';
import type { ApprovalRecord } from './ledger.js';
import { compareTiers, type Tier } from './tiers.js';

export type PermissionVerdict = 'allow' | 'needs_approval' | 'deny';

/** One action's admission decision. */
export interface PermissionDecisionRow {
  action_id: string;
  fingerprint: string;
  decision: PermissionVerdict;
  required: Tier;
  reversibility: Reversibility;
  /** The tier the decision was made against (the session's, capped by a skill ceiling). */
  granted: Tier;
  reason?: string;
}

/** Where standing decisions are looked up; ApprovalLedger is one. */
export interface ApprovalLookup {
  get(fingerprint: string): ApprovalRecord | undefined;
  /** Decisions recorded; when 0, an action the tier allows needs no lookup (nor a fingerprint yet). */
  readonly size?: number;
}

export interface EvaluateOptions extends ClassifyOptions {
  /** Caps the granted tier (a skill's deployment tier). */
  ceiling?: Tier | undefined;
}

export interface PermissionEvaluation {
  decisions: PermissionDecisionRow[];
  /** min(granted, ceiling); the granted tier when there is no ceiling. */
  effective: Tier;
}

type ActionLike = Pick<Action, 'id' | 'type' | 'tool' | 'parameters' | 'reversibility' | 'compensation'>;

export function effectiveTier(granted: Tier, ceiling?: Tier): Tier {
  return ceiling !== undefined && compareTiers(ceiling, granted) < 0 ? ceiling : granted;
}

/** Whether a recorded approval covers an action that needs `required`. */
export function approvalCovers(record: ApprovalRecord | undefined, required: Tier): boolean {
  return record !== undefined && record.decision === 'approved' && compareTiers(record.required_tier, required) >= 0;
}

/**
 * Decide one action. A rejection recorded for its fingerprint denies it outright. A full_access
 * action always needs a human: it is allowed only when its fingerprint was approved. An action
 * needing more than the granted tier is likewise allowed only with an approval. An approval
 * counts only when it was recorded for at least the tier the action needs now, so an approval
 * made against an understated tier cannot widen access.
 */
export function evaluateAction(
  action: ActionLike,
  granted: Tier,
  approvals: ApprovalLookup,
  options: ClassifyOptions = {},
): PermissionDecisionRow {
  const c = classifyAction(action, options);
  const needsHuman = c.required_tier === 'full_access';
  const exceeds = compareTiers(c.required_tier, granted) > 0;
  if (!needsHuman && !exceeds && approvals.size === 0) return allowRow(action, c, granted);
  const fingerprint = actionFingerprint(action);
  const record = approvals.get(fingerprint);
  const row: PermissionDecisionRow = {
    action_id: action.id,
    fingerprint,
    decision: 'allow',
    required: c.required_tier,
    reversibility: c.reversibility,
    granted,
  };
  const why = c.reasons.length > 0 ? ` (${c.reasons[0]})` : '';
  if (record?.decision === 'rejected') {
    row.decision = 'deny';
    row.reason = `rejected by ${record.reviewer}${record.reason ? `: ${record.reason}` : ''}`;
    return row;
  }
  if (!needsHuman && !exceeds) return row;
  if (approvalCovers(record, c.required_tier)) {
    row.reason = `approved by ${record?.reviewer}`;
    return row;
  }
  row.decision = 'needs_approval';
  row.reason = needsHuman
    ? `full_access always needs a recorded approval${why}`
    : `requires ${c.required_tier}, session is granted ${granted}${why}`;
  if (record !== undefined) {
    row.reason += `; the recorded approval covers only ${record.required_tier}`;
  }
  return row;
}

/**
 * Whether an action is allowed whatever its fingerprint: within the granted tier, not full_access,
 * and no decision recorded at all (so none can deny it). Such an action's row is `allowRow`.
 */
export function allowedOutright(action: ActionLike, granted: Tier, approvals: ApprovalLookup, options: ClassifyOptions = {}): boolean {
  if (approvals.size !== 0) return false;
  const required = requiredTier(action, options);
  return required !== 'full_access' && compareTiers(required, granted) <= 0;
}

/** The row of an action allowed outright; its fingerprint is computed only if someone reads it. */
export function allowRow(action: ActionLike, c: ActionClassification, granted: Tier): PermissionDecisionRow {
  let fingerprint: string | undefined;
  return {
    action_id: action.id,
    get fingerprint(): string {
      return (fingerprint ??= actionFingerprint(action));
    },
    decision: 'allow',
    required: c.required_tier,
    reversibility: c.reversibility,
    granted,
  };
}

/** Decide every action of a proposal against a granted tier and the standing approvals. */
export function evaluateProposal(
  proposal: { actions: readonly ActionLike[] },
  granted: Tier,
  approvals: ApprovalLookup,
  options: EvaluateOptions = {},
): PermissionEvaluation {
  const effective = effectiveTier(granted, options.ceiling);
  return {
    decisions: proposal.actions.map((a) => evaluateAction(a, effective, approvals, options)),
    effective,
  };
}
