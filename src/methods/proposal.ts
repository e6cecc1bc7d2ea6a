import { z } from 'zod';
import { executeProposal, type EventSink, type PolicyChecker } from '../engine/executor/index.js';
import type { EventFields } from '../engine/event-log.js';
import type { ToolOutcome } from '../engine/trajectories.js';
import { DEFAULT_MAX_RETRIES } from '../engine/ir.js';
import { schemaViolations } from '../engine/verify/schema.js';
import type { PolicySet } from '../engine/policy/index.js';
import { defineMethod, type HandlerConfig, type MethodContext, type SessionHalt } from '../contract/index.js';
import type { Action } from '../engine/ir.js';
import { EventKind } from '../engine/event-kinds.js';
import { RUN_LIMITS } from '../engine/runs/index.js';
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
  for (let i = 0; i < actions.length; i++) {
    const a: unknown = actions[i];
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
    const traceRunId = session.currentRunId;
    const outcomes: ToolOutcome[] = [];
    const run = executeProposal(proposal, {
      executor: session.toolExecutor,
      store: session.state,
      tenant,
      policies,
      authorize: permissionAuthorizer(ctx, proposal.id),
      events: outcomeTap(session.events, outcomes),
      tools: (name) => session.tools.get(name),
      toolCache: session.toolCache,
      rateLimiter: session.rateLimiter,
      checkParameters: (tool, parameters) => {
        const violations = schemaViolations(parameters, tool.parameters);
        return violations.length === 0 ? NO_PROBLEMS : violations.map((v) => `${v.path} ${v.message}`);
      },
      maxConcurrency: state.config.maxActionConcurrency,
      signal,
      // tools.execute carries the open run's id unless the proposal named a policy session
      sessionId: p.session_id ?? session.currentRunId ?? session.policies.runtimeSessionId,
      executorLabel: 'the WebSocket executor',
    });
    return run.then(async (result) => {
      await ctx.state.trajectories.record(outcomes).catch(() => undefined);
      if (traceRunId !== null) await recordProposalTurns(ctx, traceRunId, proposal, result.results);
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

const NO_PROBLEMS: readonly string[] = [];

/**
 * File policies first, then the registered ones; every denial of both is reported. None at all
 * when neither holds a policy, so the executor has nothing to ask.
 */
function bothPolicies(files: PolicyChecker | null, registered: PolicySet): PolicyChecker | undefined {
  if (files === null) return registered.size === 0 ? undefined : registered;
  if (registered.size === 0) return files;
  return {
    check(subject, state) {
      const a = files.check(subject, state);
      const b = registered.check(subject, state);
      return a.length === 0 ? b : b.length === 0 ? a : [...a, ...b];
    },
  };
}

type ActionResultLike = { action_id: string; status: string; output?: unknown; error?: string | null };

/**
 * Passes every event on to the session's log and notes, in order, each dispatch outcome of this
 * run (ActionSucceeded / ActionFailed naming a tool; rejected and skipped actions never
 * dispatched). The proposal records them into the daemon's outcome history, on disk before the
 * reply; a history that cannot be written costs the next simulation some evidence, never this
 * proposal its answer. Taken from this run's own events, so an earlier proposal with the same id
 * is never counted again.
 */
function outcomeTap(events: EventSink, outcomes: ToolOutcome[]): EventSink {
  return {
    append(kind: string, fields?: EventFields): unknown {
      const tool = fields?.data?.tool;
      if (typeof tool === 'string' && (kind === EventKind.ActionSucceeded || kind === EventKind.ActionFailed)) {
        outcomes.push({ tool, ok: kind === EventKind.ActionSucceeded });
      }
      return events.append(kind, fields);
    },
  };
}

/**
 * Each action of a proposal submitted inside an open run becomes one turn of that run (tool,
 * parameters, output or error; `policy_rejected` for a rejected action), through the same path as
 * `runs.record_turns`, so subscribers see them live. A full or ended run simply takes no more.
 */
async function recordProposalTurns(
  ctx: MethodContext,
  runId: string,
  proposal: { actions: readonly Action[] },
  results: readonly ActionResultLike[],
): Promise<void> {
  const byId = new Map(proposal.actions.map((a) => [a.id, a]));
  const turns = results.map((r) => {
    const action = byId.get(r.action_id);
    const turn: Record<string, unknown> = {
      tool: action?.tool ?? action?.type ?? r.action_id,
      parameters: action?.parameters ?? {},
      output: r.status === 'succeeded' ? (r.output ?? null) : { status: r.status, error: r.error ?? null },
    };
    if (r.status === 'rejected') turn.policy_rejected = { action_id: r.action_id, reason: r.error ?? null };
    return turn;
  });
  if (turns.length === 0) return;
  // The daemon records into the run this connection opened, whatever the connection's own binding:
  // only runs.start on this connection makes a run its current one.
  const caller = { agentId: await ctx.state.runs.agentOf(runId), clientId: ctx.session.clientId };
  // A trace that cannot be written is reported by the run store itself; the proposal's answer stands.
  for (let i = 0; i < turns.length; i += RUN_LIMITS.maxTurnsPerBatch) {
    const done = await ctx.state.runs.recordTurns(runId, turns.slice(i, i + RUN_LIMITS.maxTurnsPerBatch), caller).catch(() => null);
    if (done === null || !done.ok) return;
  }
}

function haltedError(halt: SessionHalt): CarError {
  return new CarError(
    'denied',
    `session halted: action '${halt.action_id}' of proposal '${halt.proposal_id}' raised a terminal tool error (${halt.error}); ` +
      'a host must call session.clear_halt (or the client reconnects) before proposals run again',
    { detail: { halted: halt } },
  );
}
