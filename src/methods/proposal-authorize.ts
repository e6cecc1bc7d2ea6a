import { EventKind } from '../engine/event-kinds.js';
import type { AttemptAuthorizer } from '../engine/executor/index.js';
import { evaluateAction } from '../engine/permission/evaluate.js';
import type { MethodContext } from '../contract/index.js';

/**
 * The permission tier, asked again before every attempt of a proposal's actions: on the
 * parameters the attempt dispatches with (`$id.output` references substituted) and the session's
 * tier and the ledger as they are then. The permission gate already decided each action on its
 * literal parameters before anything ran, so a first attempt with those same parameters under an
 * unchanged tier is not decided twice. An action that is riskier than the gate saw is rejected,
 * naming its fingerprint with the required and granted tier, unless its fingerprint was approved.
 */
export function permissionAuthorizer(ctx: Pick<MethodContext, 'state' | 'session'>, proposalId: string): AttemptAuthorizer {
  const { session, state } = ctx;
  const gateTier = session.grantedTier;
  return (action, parameters, attempt) => {
    if (attempt === 1 && parameters === action.parameters && session.grantedTier === gateTier) return null;
    const row = evaluateAction({ ...action, parameters }, session.grantedTier, state.approvals, { tools: session.tools });
    if (row.decision === 'allow') return null;
    session.events.append(EventKind.PermissionDecision, {
      proposal_id: proposalId,
      action_id: action.id,
      data: { fingerprint: row.fingerprint, decision: row.decision, required: row.required, granted: row.granted, count: 1, attempt },
    });
    const verdict = row.decision === 'deny' ? 'denied' : 'needs approval';
    const hint = row.decision === 'needs_approval' ? '; approve the fingerprint with permission.approve' : '';
    return (
      `permission ${verdict} at dispatch for fingerprint ${row.fingerprint}: requires ${row.required}, ` +
      `session is granted ${row.granted}${row.reason !== undefined ? ` (${row.reason})` : ''}${hint}`
    );
  };
}
