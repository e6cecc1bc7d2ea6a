import type { ActionProposal } from '../engine/ir.js';
import type { SupervisionIntent } from '../engine/supervision/intent.js';
import type { SupervisionVerdict } from '../engine/supervision/supervisor.js';
import type { MethodContext } from '../contract/context.js';
import { CarError } from '../util/errors.js';

/** Action label of the host approvals escalated intents become. */
export const ESCALATION_ACTION = 'supervision.escalate';

type GateContext = Pick<MethodContext, 'state' | 'signal'> & { session?: { clientId: string } };

/**
 * The supervision gate. Null (nothing to wait for) when no supervisor's filter matches; otherwise
 * a promise that resolves once a supervisor allowed the proposal and rejects when it was denied,
 * not decided in time, or escalated and not approved. An escalated intent becomes a system
 * approval on the host ledger and waits the approval gate's timeout for a human.
 */
export function superviseProposal(
  ctx: GateContext,
  proposal: ActionProposal,
  origin: { sessionId?: string; scope?: unknown },
): Promise<void> | null {
  const review = ctx.state.supervision.review(proposal, origin, ctx.signal);
  if (review === null) return null;
  return review.then((verdict) => {
    if (verdict.outcome === 'allow') return;
    if (verdict.outcome === 'escalate') return escalate(ctx, verdict.intent, verdict.reason);
    throw supervisionRejection(verdict);
  });
}

/** `superviseProposal` as one awaitable step. */
export async function enforceSupervisionGate(
  ctx: GateContext,
  proposal: ActionProposal,
  origin: { sessionId?: string; scope?: unknown },
): Promise<void> {
  await superviseProposal(ctx, proposal, origin);
}

async function escalate(ctx: GateContext, intent: SupervisionIntent, reason: string): Promise<void> {
  const approval = ctx.state.host.createApproval(null, {
    title: `Run proposal ${intent.proposal_id}? (escalated by a supervisor)`,
    action: ESCALATION_ACTION,
    description: reason,
    details: { intent, reason },
  }, ctx.session?.clientId ?? null);
  const timeoutMs = ctx.state.config.approvalGate.timeoutMs;
  const outcome = await ctx.state.host.waitForResolution(approval.id, timeoutMs, ctx.signal);
  if (outcome === 'approved') return;
  const data = { intent_id: intent.id, proposal_id: intent.proposal_id, supervision: 'escalate', reason, approval_id: approval.id };
  const why =
    outcome === 'denied'
      ? 'was denied'
      : outcome === 'timeout'
        ? `was not resolved within ${timeoutMs} ms and has expired`
        : 'was abandoned';
  throw new CarError(
    outcome === 'timeout' ? 'timeout' : 'denied',
    `proposal rejected by supervision: intent ${intent.id} was escalated (${reason}) and approval ${approval.id} ${why}`,
    { detail: data },
  );
}

function supervisionRejection(verdict: Exclude<SupervisionVerdict, { outcome: 'allow' | 'escalate' }>): CarError {
  const id = verdict.intent.id;
  const data = { intent_id: id, proposal_id: verdict.intent.proposal_id, supervision: verdict.outcome };
  if (verdict.outcome === 'deny') {
    return new CarError('denied', `proposal rejected by supervision: intent ${id} denied: ${verdict.reason}`, {
      detail: { ...data, reason: verdict.reason },
    });
  }
  return new CarError('timeout', `proposal rejected by supervision: no decision on intent ${id} within ${verdict.timeoutMs} ms`, {
    detail: data,
  });
}
