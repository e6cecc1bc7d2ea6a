import { z } from 'zod';
import { executeProposal, type PolicyChecker } from '../engine/executor/index.js';
import { DEFAULT_MAX_RETRIES } from '../engine/ir.js';
import { schemaViolations } from '../engine/verify/schema.js';
import { defineMethod, type HandlerConfig, type SessionHalt } from '../contract/index.js';
import { CarError } from '../util/errors.js';
import { permissionAuthorizer } from './proposal-authorize.js';
import { proposalSchema } from './schemas.js';
import { isObject } from '../util/values.js';

const submitParams = z.object({
  proposal: proposalSchema,
  session_id: z.string().min(1).max(256).optional(),
  scope: z
    .object({
      callerId: z.string().max(256).optional(),
      // The tenant view's own rule, checked here so a bad tenant is refused before any gate runs.
      tenantId: z.string().max(256).refine((t) => !t.includes(':'), "must not contain ':'").optional(),
      claims: z.unknown().optional(),
    })
    .loose()
    .optional(),
});

/**
 * How long `proposal.submit` may take: every action's own callback wait (its `timeout_ms` plus
 * the callback grace, or the default tool timeout) times its attempts, plus `deadlineSlackMs`
 * (15 s, as the upstream adds), and never less than the ordinary handler deadline. Counting the
 * grace keeps the executor's own timeouts firing before this deadline does. Takes the parsed
 * proposal or a raw one (malformed parts count as absent).
 */
export function proposalDeadlineMs(
  rawProposal: unknown,
  config: Pick<HandlerConfig, 'toolTimeoutMs' | 'toolCallbackGraceMs' | 'handlerTimeoutMs' | 'deadlineSlackMs'>,
): number {
  const actions = isObject(rawProposal) && Array.isArray(rawProposal.actions) ? rawProposal.actions : [];
  let budget = 0;
  for (const a of actions) {
    if (!isObject(a)) continue;
    const timeout = typeof a.timeout_ms === 'number' && a.timeout_ms >= 0 ? a.timeout_ms : undefined;
    const wait = timeout === undefined ? config.toolTimeoutMs : timeout + config.toolCallbackGraceMs;
    const retries =
      typeof a.max_retries === 'number' && Number.isInteger(a.max_retries) && a.max_retries >= 0 ? a.max_retries : DEFAULT_MAX_RETRIES;
    budget += wait * (a.failure_behavior === 'retry' ? retries + 1 : 1);
  }
  return Math.max(config.handlerTimeoutMs, budget + config.deadlineSlackMs);
}


export const proposalSubmit = defineMethod({
  name: 'proposal.submit',
  summary:
    'Validate and execute a proposal: a DAG of actions whose tool calls come back to this client as tools.execute.',
  params: submitParams,
  supervision: true,
  permission: true,
  // The supervision gate runs under this deadline too, and may wait out its decision timeout.
  deadlineMs: (p, state) =>
    proposalDeadlineMs(p.proposal, state.config) + (state.supervision.supervisorCount > 0 ? state.config.supervisionDecisionTimeoutMs : 0),
  handler(p, ctx) {
    const { session, state } = ctx;
    const proposal = p.proposal;
    if (session.halt !== null) throw haltedError(session.halt);
    const policies = bothPolicies(session.filePolicies(), session.policies.policySet(p.session_id));
    const tenant = p.scope?.tenantId;

    const signal = ctx.signal;
    const run = executeProposal(proposal, {
      executor: session.toolExecutor,
      store: session.state,
      tenant,
      policies,
      authorize: permissionAuthorizer(ctx, proposal.id),
      events: session.events,
      tools: (name) => session.tools.get(name),
      toolCache: session.toolCache,
      rateLimiter: session.rateLimiter,
      checkParameters: (tool, parameters) =>
        schemaViolations(parameters, tool.parameters).map((v) => `${v.path} ${v.message}`),
      maxConcurrency: state.config.maxActionConcurrency,
      signal,
      // tools.execute carries the open run's id unless the proposal named a policy session
      sessionId: p.session_id ?? session.currentRunId ?? session.policies.runtimeSessionId,
      executorLabel: 'the WebSocket executor',
    });
    return run.then((result) => {
      if (result.halted === true) {
        const terminal = result.results.find((r) => r.terminal === true);
        session.halt = {
          proposal_id: result.proposal_id,
          action_id: terminal?.action_id ?? '',
          error: terminal?.error ?? 'terminal tool error',
          at: new Date().toISOString(),
        };
      }
      return result;
    });
  },
});

/** File policies first, then the registered ones; every denial of both is reported. */
function bothPolicies(files: PolicyChecker | null, registered: PolicyChecker): PolicyChecker {
  if (files === null) return registered;
  return {
    check(subject, state) {
      const a = files.check(subject, state);
      const b = registered.check(subject, state);
      return a.length === 0 ? b : b.length === 0 ? a : [...a, ...b];
    },
  };
}

function haltedError(halt: SessionHalt): CarError {
  return new CarError(
    'denied',
    `session halted: action '${halt.action_id}' of proposal '${halt.proposal_id}' raised a terminal tool error (${halt.error}); ` +
      'a host must call session.clear_halt (or the client reconnects) before proposals run again',
    { detail: { halted: halt } },
  );
}
