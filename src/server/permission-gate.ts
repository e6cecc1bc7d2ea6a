import { EventKind } from '../engine/event-kinds.js';
import type { ActionProposal } from '../engine/ir.js';
import { checkProposalPermissions, permissionDenied, type GateOptions, type PermissionCheck } from '../engine/permission/gate.js';
import type { MethodContext } from '../contract/context.js';
import type { RpcError } from '../rpc/errors.js';
import { toRpcError } from './error-map.js';

/** The reply the daemon answers a blocked proposal with: -32603, data `{kind: "denied", blocked, results}`. */
export function permissionGateError(check: PermissionCheck & { ok: false }): RpcError {
  return toRpcError(permissionDenied(check));
}

/**
 * The permission gate, for one session: decide every action against the session's tier and the
 * daemon's ledger, record PermissionDecision events (one per action that is not allowed, one for
 * all the allowed ones together) and a GateRejection when blocked, and throw a
 * `PermissionDeniedError` when any action is not allowed. Runs before anything runs or is written.
 */
export function enforcePermissionGate(
  ctx: Pick<MethodContext, 'state' | 'session'>,
  proposal: Pick<ActionProposal, 'id' | 'actions'>,
  options: GateOptions = {},
): PermissionCheck {
  const { session } = ctx;
  const check = checkProposalPermissions(proposal, session.grantedTier, ctx.state.approvals, {
    tools: session.tools,
    ...options,
  });
  // Allowed actions are recorded as one event per proposal (their runs are audited one by one by
  // the executor); every action that is not allowed gets its own event. A check that passed holds
  // only allowed actions.
  let allowed = check.ok ? proposal.actions.length : 0;
  if (!check.ok) {
    for (const d of check.decisions) {
      if (d.decision === 'allow') {
        allowed++;
        continue;
      }
      session.events.append(EventKind.PermissionDecision, {
        proposal_id: proposal.id,
        action_id: d.action_id,
        data: { fingerprint: d.fingerprint, decision: d.decision, required: d.required, granted: d.granted, count: 1 },
      });
    }
  }
  if (allowed > 0) {
    session.events.append(EventKind.PermissionDecision, {
      proposal_id: proposal.id,
      data: { decision: 'allow', count: allowed, granted: session.grantedTier },
    });
  }
  if (check.ok) return check;
  const error = permissionDenied(check);
  session.events.append(EventKind.GateRejection, {
    proposal_id: proposal.id,
    data: { gate: 'permission', reason: error.message, blocked: check.blocked },
  });
  throw error;
}
