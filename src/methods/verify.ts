import { z } from 'zod';
import { DEFAULT_RATE_WINDOW_DAYS, monteCarlo, verify, type Block, type VerifyOptions } from '../engine/verify/index.js';
import { checkProposalPermissions, permissionDeniedMessage } from '../engine/permission/index.js';
import { defineMethod, type MethodContext } from '../contract/index.js';
import { policyViolationsFor } from './policy.js';
import { readProposal } from './schemas.js';

const stateObject = z.record(z.string(), z.unknown());
const rate = z.number().min(0).max(1);


/** The policy check verify reports denials from: the session's policies (and a named policy session's). */
function sessionPolicies(ctx: MethodContext, params: { session_id?: string }): VerifyOptions['policyViolations'] {
  return policyViolationsFor(ctx.session, params.session_id);
}

export const verifyProposal = defineMethod({
  name: 'verify',
  summary: "Statically check a proposal against this session's tools without calling any: issues, levels, conflicts, simulated state.",
  params: z.object({ proposal: z.unknown(), initial_state: stateObject.optional(), session_id: z.string().max(256).optional() }),
  deadlineMs: (_p, state) => state.config.verifyDeadlineMs,
  handler(p, ctx) {
    const proposal = readProposal(p.proposal);
    const opts: VerifyOptions = { tools: (name) => ctx.session.tools.get(name), maxActions: ctx.state.config.maxVerifyActions };
    if (p.initial_state !== undefined) opts.initialState = p.initial_state;
    const policyViolations = sessionPolicies(ctx, p);
    if (policyViolations) opts.policyViolations = policyViolations;
    return verify(proposal, opts);
  },
});

export const verifyMonteCarlo = defineMethod({
  name: 'verify.monte_carlo',
  summary:
    "Estimate success odds of a proposal over seeded random tool failures (no tool is called). Rates come from this daemon's recorded dispatch outcomes over rate_window_days (0: none), caller rates override per tool; this session's policies and permission tier refuse actions as at run time.",
  params: z.object({
    proposal: z.unknown(),
    initial_state: stateObject.optional(),
    tool_success_rates: z.record(z.string(), z.number()).optional(),
    goal: z.unknown().optional(),
    session_id: z.string().max(256).optional(),
    rate_window_days: z.number().nonnegative().max(3650).optional(),
    config: z
      .object({
        trials: z.number().int().min(1).optional(),
        seed: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
        default_success_rate: rate.optional(),
        retry_attempts: z.number().int().min(0).max(100).optional(),
      })
      .optional(),
  }),
  deadlineMs: (_p, state) => state.config.verifyDeadlineMs,
  async handler(p, ctx) {
    const proposal = readProposal(p.proposal);
    const windowDays = p.rate_window_days ?? DEFAULT_RATE_WINDOW_DAYS;
    const history = windowDays > 0 ? await ctx.state.trajectories.counts(windowDays) : null;
    const permission = checkProposalPermissions(proposal, ctx.session.grantedTier, ctx.state.approvals, { tools: ctx.session.tools });
    const proposalBlock: Block | undefined = permission.ok ? undefined : { gate: 'permission', reason: permissionDeniedMessage(permission.blocked) };
    const denials = sessionPolicies(ctx, p);
    return monteCarlo(proposal, {
      initialState: p.initial_state,
      toolSuccessRates: p.tool_success_rates,
      goal: p.goal,
      history,
      trajectoriesAvailable: windowDays > 0,
      rateWindowDays: windowDays,
      proposalBlock,
      policyCheck: denials === undefined ? undefined : (action, state) => denials(action, state)[0]?.reason ?? null,
      config: p.config,
    });
  },
});

export const verifyMethods = [verifyProposal, verifyMonteCarlo];
