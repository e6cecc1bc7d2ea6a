import { z } from 'zod';
import { EventKind } from '../engine/event-kinds.js';
import type { Action } from '../engine/ir.js';
import { classifyAction, classifyProposal } from '../engine/permission/classifier.js';
import { evaluateProposal, type PermissionDecisionRow } from '../engine/permission/evaluate.js';
import { actionFingerprint } from '../engine/permission/fingerprint.js';
import type { ApprovalDecision, ApprovalRecord } from '../engine/permission/ledger.js';
import { TIERS, type Tier } from '../engine/permission/tiers.js';
import { CarError } from '../util/errors.js';
import { defineMethod, type MethodContext, type SessionContext } from '../contract/index.js';
import { noParams, readProposal } from './schemas.js';

const tier = z.enum(TIERS);
const fingerprint = z.string().regex(/^fp-[0-9a-f]{64}$/, 'expected a fingerprint (fp- followed by 64 hex digits)');

/**
 * A skill whose deployment tier caps the session's. Skills arrive with the memory engine; until
 * then only an explicit `deployment_tier` applies a ceiling, and a bare name applies none.
 */
const skill = z.union([
  z.string().min(1).max(256),
  z.object({ name: z.string().min(1).max(256), deployment_tier: tier.optional() }),
]);

const proposalParams = z.object({ proposal: z.unknown(), skill: skill.optional() });


function ceilingOf(s: z.infer<typeof skill> | undefined): Tier | undefined {
  return typeof s === 'object' ? s.deployment_tier : undefined;
}

function evaluate(p: z.infer<typeof proposalParams>, ctx: MethodContext) {
  const proposal = readProposal(p.proposal);
  const ceiling = ceilingOf(p.skill);
  const evaluation = evaluateProposal(proposal, ctx.session.grantedTier, ctx.state.approvals, {
    tools: ctx.session.tools,
    ceiling,
  });
  const out: { decisions: PermissionDecisionRow[]; skill_ceiling?: Tier } = { decisions: evaluation.decisions };
  if (ceiling !== undefined) out.skill_ceiling = evaluation.effective;
  return out;
}

export function reviewerOf(session: SessionContext): string {
  return session.agentId !== null ? `agent:${session.agentId}` : `conn:${session.clientId}`;
}

export const permissionGetTier = defineMethod({
  name: 'permission.get_tier',
  summary: "This connection's standing permission tier.",
  params: noParams,
  result: z.object({ granted_tier: tier }),
  handler: (_p, { session }) => ({ granted_tier: session.grantedTier }),
});

export const permissionSetTier = defineMethod({
  name: 'permission.set_tier',
  summary: "Change this connection's standing tier; under a host token only the host role may change it, lowering included.",
  params: z.object({ tier }),
  result: z.object({ granted_tier: tier }),
  role: 'host',
  handler(p, ctx) {
    ctx.session.grantedTier = p.tier;
    return { granted_tier: p.tier };
  },
});

export const permissionClassify = defineMethod({
  name: 'permission.classify',
  summary: 'The tier each action of a proposal needs, its reversibility, and the declared rollback contract.',
  params: z.object({ proposal: z.unknown() }),
  handler: (p, { session }) => classifyProposal(readProposal(p.proposal), { tools: session.tools }),
});

export const permissionEvaluate = defineMethod({
  name: 'permission.evaluate',
  summary: "Decide each action of a proposal (allow, needs_approval or deny) against this connection's tier and the approval ledger.",
  params: proposalParams,
  handler: (p, ctx) => evaluate(p, ctx),
});

export const permissionPending = defineMethod({
  name: 'permission.pending',
  summary: 'The actions of a proposal that would wait for a human approval.',
  params: proposalParams,
  handler(p, ctx) {
    const { decisions } = evaluate(p, ctx);
    return { pending: decisions.filter((d) => d.decision === 'needs_approval') };
  },
});

const decisionParams = z.object({
  fingerprint: fingerprint.optional(),
  required_tier: tier.optional(),
  action: z.unknown().optional(),
  reason: z.string().max(4096).optional(),
  evidence: z.unknown().optional(),
});

function readAction(raw: unknown): Action {
  const proposal = readProposal({ actions: [raw] });
  return proposal.actions[0] as Action;
}

function recordDecision(decision: ApprovalDecision, p: z.infer<typeof decisionParams>, ctx: MethodContext): ApprovalRecord {
  const maxEvidence = ctx.state.config.maxEvidenceBytes;
  if (p.evidence !== undefined && Buffer.byteLength(JSON.stringify(p.evidence) ?? '', 'utf8') > maxEvidence) {
    throw new CarError('invalid', `evidence must serialise to at most ${maxEvidence} bytes of JSON`, {
      field: 'evidence',
      limit: maxEvidence,
    });
  }
  let fp: string;
  let required: Tier;
  if (p.action !== undefined && p.action !== null) {
    if (p.fingerprint !== undefined) throw new CarError('invalid', 'give either action or fingerprint, not both', { field: 'action' });
    const action = readAction(p.action);
    fp = actionFingerprint(action);
    required = classifyAction(action, { tools: ctx.session.tools }).required_tier;
  } else {
    if (p.fingerprint === undefined) throw new CarError('invalid', 'fingerprint (with required_tier) or action is required', { field: 'fingerprint' });
    if (p.required_tier === undefined) throw new CarError('invalid', 'required_tier is required with fingerprint', { field: 'required_tier' });
    fp = p.fingerprint;
    required = p.required_tier;
  }
  const record = ctx.state.approvals.record({
    fingerprint: fp,
    decision,
    required_tier: required,
    reviewer: reviewerOf(ctx.session),
    reason: p.reason,
    evidence: p.evidence,
  });
  ctx.session.events.append(EventKind.ApprovalRecorded, {
    data: { fingerprint: fp, decision, required_tier: required, reviewer: record.reviewer },
  });
  return record;
}

export const permissionApprove = defineMethod({
  name: 'permission.approve',
  summary: 'Record a durable approval for an operation (by fingerprint and required_tier, or by action); applies to every connection.',
  params: decisionParams,
  role: 'host',
  handler: (p, ctx) => recordDecision('approved', p, ctx),
});

export const permissionReject = defineMethod({
  name: 'permission.reject',
  summary: 'Record a durable rejection for an operation; later evaluations of it are denied on every connection.',
  params: decisionParams,
  role: 'host',
  handler: (p, ctx) => recordDecision('rejected', p, ctx),
});

export const permissionMethods = [
  permissionGetTier,
  permissionSetTier,
  permissionClassify,
  permissionEvaluate,
  permissionPending,
  permissionApprove,
  permissionReject,
];
