import { z } from 'zod';
import { monteCarlo, verify, type VerifyOptions } from '../engine/verify/index.js';
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
  summary: 'Estimate success odds of a proposal over seeded random tool failures (no tool is called).',
  params: z.object({
    proposal: z.unknown(),
    initial_state: stateObject.optional(),
    tool_success_rates: z.record(z.string(), rate).optional(),
    goal: stateObject.optional(),
    rate_window_days: z.number().positive().max(3650).optional(),
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
  handler(p) {
    const proposal = readProposal(p.proposal);
    // No outcome history is kept yet, so every rate comes from the caller or the default.
    return monteCarlo(proposal, {
      initialState: p.initial_state,
      toolSuccessRates: p.tool_success_rates,
      goal: p.goal,
      rateWindowDays: p.rate_window_days ?? 30,
      config: p.config,
    });
  },
});

export const verifyMethods = [verifyProposal, verifyMonteCarlo];
