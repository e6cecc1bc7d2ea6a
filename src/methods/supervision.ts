import { z } from 'zod';
import type { ActionProposal } from '../engine/ir.js';
import type { SupervisionIntent } from '../engine/supervision/intent.js';
import { DECISION_KINDS, SupervisionError, type SupervisionVerdict } from '../engine/supervision/supervisor.js';
import { ErrorCode, RpcError } from '../rpc/errors.js';
import { defineMethod, type MethodContext } from '../server/method.js';
import { noParams } from './schemas.js';

const label = z.string().min(1).max(256);

const subscribeParams = z
  .object({
    filter: z
      .object({
        tools: z.array(label).max(4096).optional(),
        sessions: z.array(label).max(4096).optional(),
        min_reversibility: label.optional(),
      })
      .optional(),
  })
  .optional();

const decideParams = z.object({
  intent_id: label,
  decision: z.object({ kind: z.enum(DECISION_KINDS), reason: z.string().max(4096).optional() }),
});

export const supervisionSubscribe = defineMethod({
  name: 'supervision.subscribe',
  summary: 'Watch proposals from every session that match a filter, and decide each before it runs; calling again replaces the filter.',
  params: subscribeParams,
  result: z.object({ subscribed: z.literal(true), decision_timeout_ms: z.number(), supervisors: z.number() }),
  handler(p, { state, session }) {
    const supervisors = state.supervision.subscribe(session.clientId, {
      filter: p?.filter ?? {},
      deliver: (intent) => {
        session.channel.notify('supervision.intent', intent as unknown as Record<string, unknown>);
      },
    });
    return { subscribed: true, decision_timeout_ms: state.supervision.decisionTimeoutMs, supervisors };
  },
});

export const supervisionUnsubscribe = defineMethod({
  name: 'supervision.unsubscribe',
  summary: 'Stop supervising; intents already waiting stay pending.',
  params: noParams,
  result: z.object({ subscribed: z.literal(false), was_subscribed: z.boolean() }),
  handler: (_p, { state, session }) => ({ subscribed: false, was_subscribed: state.supervision.unsubscribe(session.clientId) }),
});

export const supervisionPending = defineMethod({
  name: 'supervision.pending',
  summary: 'Intents waiting for a decision, oldest first.',
  params: noParams,
  handler: (_p, { state }) => ({ intents: state.supervision.pending() }),
});

export const supervisionDecide = defineMethod({
  name: 'supervision.decide',
  summary: 'Allow, deny or escalate a pending intent; deny and escalate need a reason.',
  params: decideParams,
  result: z.object({ decided: z.literal(true) }),
  handler(p, { state }) {
    try {
      state.supervision.decide(p.intent_id, p.decision);
    } catch (err) {
      if (!(err instanceof SupervisionError)) throw err;
      if (err.code === 'reason_required') throw RpcError.invalidParams(err.message, { field: 'decision.reason' });
      throw new RpcError(ErrorCode.InternalError, err.message, { intent_id: p.intent_id, state: err.code });
    }
    return { decided: true };
  },
});

export const supervisionMethods = [supervisionSubscribe, supervisionUnsubscribe, supervisionPending, supervisionDecide];

/** Action label of the host approvals escalated intents become. */
export const ESCALATION_ACTION = 'supervision.escalate';

/**
 * The supervision gate of `proposal.submit`. Free when nobody supervises; otherwise waits for a
 * decision and throws -32603 unless a supervisor allowed the proposal. An escalated intent becomes
 * a system approval on the host ledger and waits (the approval gate's timeout) for a human.
 */
export async function enforceSupervisionGate(
  ctx: MethodContext,
  proposal: ActionProposal,
  origin: { sessionId?: string; scope?: unknown },
): Promise<void> {
  const review = ctx.state.supervision.review(proposal, origin, ctx.signal);
  if (review === null) return;
  const verdict = await review;
  if (verdict.outcome === 'allow') return;
  if (verdict.outcome === 'escalate') return escalate(ctx, verdict.intent, verdict.reason);
  throw supervisionRejection(verdict);
}

async function escalate(ctx: MethodContext, intent: SupervisionIntent, reason: string): Promise<void> {
  const approval = ctx.state.host.createApproval(null, {
    title: `Run proposal ${intent.proposal_id}? (escalated by a supervisor)`,
    action: ESCALATION_ACTION,
    description: reason,
    details: { intent, reason },
  });
  const timeoutMs = ctx.state.config.approvalGate.timeoutMs;
  const outcome = await ctx.state.host.waitForResolution(approval.id, timeoutMs, ctx.signal);
  if (outcome === 'approved') return;
  const data = { intent_id: intent.id, proposal_id: intent.proposal_id, supervision: 'escalate', reason, approval_id: approval.id };
  const why =
    outcome === 'denied'
      ? 'was denied'
      : outcome === 'timeout'
        ? `was not resolved within ${timeoutMs} ms and is still pending`
        : 'was abandoned';
  throw new RpcError(
    ErrorCode.InternalError,
    `proposal rejected by supervision: intent ${intent.id} was escalated (${reason}) and approval ${approval.id} ${why}`,
    data,
  );
}

function supervisionRejection(verdict: Exclude<SupervisionVerdict, { outcome: 'allow' | 'escalate' }>): RpcError {
  const id = verdict.intent.id;
  const data = { intent_id: id, proposal_id: verdict.intent.proposal_id, supervision: verdict.outcome };
  if (verdict.outcome === 'deny') {
    return new RpcError(ErrorCode.InternalError, `proposal rejected by supervision: intent ${id} denied: ${verdict.reason}`, {
      ...data,
      reason: verdict.reason,
    });
  }
  return new RpcError(
    ErrorCode.InternalError,
    `proposal rejected by supervision: no decision on intent ${id} within ${verdict.timeoutMs} ms`,
    data,
  );
}
