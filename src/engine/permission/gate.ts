/**
 * The permission admission gate for `proposal.submit`. Stable exports:
 *
 * - `checkProposalPermissions(proposal, grantedTier, ledger, {tools?, ceiling?})` →
 *   `{ok: true, decisions}` or `{ok: false, decisions, blocked}`. Decides every action (see
 *   evaluate.ts); any action that is not `allow` blocks the whole proposal, so the caller must run
 *   nothing and write nothing when `ok` is false.
 * - `permissionDeniedMessage(blocked)` → the error message naming each blocked fingerprint with its
 *   required and granted tier.
 * - `rejectedResults(check)` → one ActionResult per action, every one `status: "rejected"`.
 * - `PermissionDeniedError` (engine error: `blocked`, `results`) and `permissionDenied(check)`.
 *
 * The request pipeline's permission gate (src/server/permission-gate.ts) runs the check for a
 * session, appends PermissionDecision and GateRejection events, and throws the
 * PermissionDeniedError when blocked; the error mapper sends it as -32603 with
 * `{kind: "denied", blocked, results}`.
 */
import { CarError } from '../../util/errors.js';
import type { ActionProposal } from '../ir.js';
import { classifyAction, type ClassifyOptions } from './classifier.js';
import { allowedOutright, allowRow, effectiveTier, evaluateProposal, type ApprovalLookup, type PermissionDecisionRow } from './evaluate.js';
import type { Tier } from './tiers.js';

export interface BlockedAction {
  action_id: string;
  fingerprint: string;
  required: Tier;
  granted: Tier;
  decision: 'needs_approval' | 'deny';
  reason?: string;
}

export type PermissionCheck =
  | { ok: true; decisions: PermissionDecisionRow[] }
  | { ok: false; decisions: PermissionDecisionRow[]; blocked: BlockedAction[] };

export interface GateOptions extends ClassifyOptions {
  /** Caps the granted tier (a skill's deployment tier). */
  ceiling?: Tier | undefined;
}

/** The agent-ir ActionResult of an action the gate refused to run. */
export interface RejectedResult {
  action_id: string;
  status: 'rejected';
  output: null;
  error: string;
  state_changes: Record<string, never>;
  duration_ms: 0;
  timestamp: string;
}

export function checkProposalPermissions(
  proposal: Pick<ActionProposal, 'actions'>,
  grantedTier: Tier,
  ledger: ApprovalLookup,
  options: GateOptions = {},
): PermissionCheck {
  const effective = effectiveTier(grantedTier, options.ceiling);
  if (proposal.actions.every((a) => allowedOutright(a, effective, ledger, options))) {
    // The usual case: every row would be a plain allow, so they are built only if someone reads them.
    let rows: PermissionDecisionRow[] | undefined;
    const actions = proposal.actions;
    return {
      ok: true,
      get decisions(): PermissionDecisionRow[] {
        return (rows ??= actions.map((a) => allowRow(a, classifyAction(a, options), effective)));
      },
    };
  }
  const { decisions } = evaluateProposal(proposal, grantedTier, ledger, options);
  const blocked: BlockedAction[] = [];
  for (const d of decisions) {
    if (d.decision === 'allow') continue;
    const b: BlockedAction = {
      action_id: d.action_id,
      fingerprint: d.fingerprint,
      required: d.required,
      granted: d.granted,
      decision: d.decision,
    };
    if (d.reason !== undefined) b.reason = d.reason;
    blocked.push(b);
  }
  return blocked.length === 0 ? { ok: true, decisions } : { ok: false, decisions, blocked };
}

function describe(b: BlockedAction): string {
  const head = `action '${b.action_id}' (fingerprint ${b.fingerprint}) requires ${b.required}, session is granted ${b.granted}`;
  return b.decision === 'deny' ? `${head}; its fingerprint was rejected` : head;
}

export function permissionDeniedMessage(blocked: readonly BlockedAction[]): string {
  const parts = blocked.map(describe).join('; ');
  const hint = blocked.some((b) => b.decision === 'needs_approval') ? '; approve it with permission.approve' : '';
  return `permission denied: ${parts}${hint}`;
}

/** Every action of the proposal, rejected: the blocked ones for their own reason, the rest as collateral. */
export function rejectedResults(check: PermissionCheck): RejectedResult[] {
  const timestamp = new Date().toISOString();
  const blockedIds = check.ok ? new Set<string>() : new Set(check.blocked.map((b) => b.action_id));
  const first = check.ok ? undefined : check.blocked[0];
  return check.decisions.map((d) => ({
    action_id: d.action_id,
    status: 'rejected' as const,
    output: null,
    error: blockedIds.has(d.action_id)
      ? `permission ${d.decision === 'deny' ? 'denied' : 'needs approval'} for ${d.fingerprint}: ${d.reason ?? `requires ${d.required}, session is granted ${d.granted}`}`
      : `not run: the permission gate blocked the proposal${first ? ` (action '${first.action_id}')` : ''}`,
    state_changes: {},
    duration_ms: 0,
    timestamp,
  }));
}

/** A failed check as an engine error: `denied`, with `{blocked, results}` as its detail. */
export class PermissionDeniedError extends CarError {
  constructor(
    readonly blocked: BlockedAction[],
    readonly results: RejectedResult[],
  ) {
    super('denied', permissionDeniedMessage(blocked), { detail: { blocked, results } });
    this.name = 'PermissionDeniedError';
  }
}

export function permissionDenied(check: PermissionCheck & { ok: false }): PermissionDeniedError {
  return new PermissionDeniedError(check.blocked, rejectedResults(check));
}
