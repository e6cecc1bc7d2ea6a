import { z } from 'zod';
import { RECORD_TURNS_USAGE, RunError, truncateString } from '../engine/runs/index.js';
import type { RunOutcome, RunRecord, TraceEvent } from '../engine/runs/index.js';
import { CarError } from '../util/errors.js';
import { defineMethod, hostCheckOff, type MethodContext } from '../contract/index.js';

const id = z.string().min(1).max(256);

/** `name:<slug>` from a display name: lower case, runs of other characters folded to `-`. */
export function agentSlug(name: string): string | null {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
  return slug === '' ? null : `name:${slug}`;
}

/** Host role for reads: the host token, or any session when no host token is configured. */
function isHostRole(ctx: MethodContext): boolean {
  return ctx.session.isHost || hostCheckOff(ctx.state);
}

function caller(ctx: MethodContext): { agentId: string | null; clientId: string } {
  return { agentId: ctx.session.agentId, clientId: ctx.session.clientId };
}

/** Reads are for the owning agent (by its binding) and the host role. */
function assertMayRead(ctx: MethodContext, method: string, runId: string, agentId: string): void {
  if (isHostRole(ctx) || ctx.session.agentId === agentId) return;
  throw new CarError('denied', `${method}: run '${runId}' can be read only by its agent or the host`);
}

/** A record as the wire carries it: tagged `record: started|turn|ended` (and `kind`, the same tag, as before). */
export function wireRecord<R extends RunRecord>(r: R): R & { record: R['kind'] } {
  return { record: r.kind, ...r };
}

const outcomeSchema = z
  .object({
    status: z.string().min(1).max(256),
    summary: z.string().optional(),
    evidence: z.array(z.unknown()).optional(),
    metrics: z.record(z.string(), z.unknown()).optional(),
    timestamp: z.union([z.string().max(64), z.number()]).optional(),
  })
  .loose();

export const runsStart = defineMethod({
  name: 'runs.start',
  summary: 'Open a durable run trace for a mission; it becomes this connection\'s current run.',
  params: z.object({
    intent: z.string().max(64 * 1024),
    agent_id: id.optional(),
    agent_name: z.string().min(1).max(256).optional(),
    outcome_description: z.string().max(64 * 1024).optional(),
    idempotency_key: id.optional(),
  }),
  async handler(p, ctx) {
    const agentId = p.agent_id ?? ctx.session.agentId ?? (p.agent_name === undefined ? null : agentSlug(p.agent_name));
    if (agentId === null) {
      throw new CarError('invalid', 'runs.start needs an agent: pass agent_id or agent_name, or bind one with session.auth {agent_id}', {
        field: 'agent_id',
      });
    }
    const started = await ctx.state.runs.start({
      intent: p.intent,
      agentId,
      outcomeDescription: p.outcome_description,
      idempotencyKey: p.idempotency_key,
      clientId: ctx.session.clientId,
    });
    ctx.session.currentRunId = started.run_id;
    return started;
  },
});

export const runsRecordTurns = defineMethod({
  name: 'runs.record_turns',
  summary: 'Append turns to a run this agent owns; the daemon stamps their indexes.',
  params: z.object({ run_id: z.unknown().optional(), turns: z.unknown().optional() }).loose(),
  handler(p, ctx) {
    if (typeof p.run_id !== 'string' || p.run_id === '') throw new RunError('invalid_turns', RECORD_TURNS_USAGE);
    const runId = p.run_id;
    return ctx.state.runs.recordTurns(runId, p.turns, caller(ctx));
  },
});

export const runsComplete = defineMethod({
  name: 'runs.complete',
  summary: 'End a run with its outcome; only a session bound to the run\'s agent may.',
  params: z.object({ run_id: id, outcome: outcomeSchema }),
  async handler(p, ctx) {
    const outcome: RunOutcome = { ...p.outcome, status: p.outcome.status };
    if (outcome.summary !== undefined) outcome.summary = truncateString(outcome.summary);
    const result = await ctx.state.runs.complete(p.run_id, outcome, caller(ctx));
    if (ctx.session.currentRunId === p.run_id) ctx.session.currentRunId = null;
    return result;
  },
});

export const runsSubscribe = defineMethod({
  name: 'runs.subscribe',
  summary: 'Snapshot a run\'s turns and receive its next records as runs.trace.event.',
  params: z.object({ run_id: id }),
  async handler(p, ctx) {
    const { state, session } = ctx;
    const agentId = await state.runs.agentOf(p.run_id);
    if (agentId === null) return { run_id: p.run_id, not_found: true };
    assertMayRead(ctx, 'runs.subscribe', p.run_id, agentId);
    const bound = state.config.maxOutboundBufferedBytes / 2;
    const sink = (event: TraceEvent): boolean =>
      session.channel.notifyLossy('runs.trace.event', { ...event, record: wireRecord(event.record) }, bound);
    const snapshot = await state.runs.subscribe(p.run_id, session.clientId, sink);
    if (snapshot === null) return { run_id: p.run_id, not_found: true };
    return { ...snapshot, turns_so_far: snapshot.turns_so_far.map(wireRecord) };
  },
});

export const runsUnsubscribe = defineMethod({
  name: 'runs.unsubscribe',
  summary: 'Stop receiving runs.trace.event for a run.',
  params: z.object({ run_id: id }),
  handler(p, ctx) {
    return { run_id: p.run_id, removed: ctx.state.runs.unsubscribe(p.run_id, ctx.session.clientId) };
  },
});

export const runsList = defineMethod({
  name: 'runs.list',
  summary: 'An agent\'s runs, newest first.',
  params: z.object({ agent_id: id.optional() }),
  async handler(p, ctx) {
    const agentId = p.agent_id ?? ctx.session.agentId;
    if (agentId === null) throw new CarError('invalid', 'agent_id is required on a connection with no agent binding', { field: 'agent_id' });
    if (!isHostRole(ctx) && ctx.session.agentId !== agentId) {
      throw new CarError('denied', `runs.list: the runs of '${agentId}' can be read only by that agent or the host`);
    }
    return { agent_id: agentId, runs: await ctx.state.runs.list(agentId) };
  },
});

export const runsGetTrace = defineMethod({
  name: 'runs.get_trace',
  summary: 'Every record of a run (started, turns, ended) from an optional record cursor, which is echoed; record_count is the total.',
  params: z.object({ run_id: id, cursor: z.number().int().nonnegative().optional() }),
  async handler(p, ctx) {
    const cursor = p.cursor ?? 0;
    const trace = await ctx.state.runs.trace(p.run_id, cursor);
    if (trace === null) return { run_id: p.run_id, not_found: true };
    assertMayRead(ctx, 'runs.get_trace', p.run_id, trace.agent_id);
    return { run_id: p.run_id, agent_id: trace.agent_id, records: trace.records.map(wireRecord), cursor, record_count: trace.cursor };
  },
});

export const runsMethods = [runsStart, runsRecordTurns, runsComplete, runsSubscribe, runsUnsubscribe, runsList, runsGetTrace];
