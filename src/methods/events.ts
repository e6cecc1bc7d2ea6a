import { z } from 'zod';
import { DEFAULT_QUERY_LIMIT } from '../engine/events/query.js';
import { wireKind } from '../engine/event-kinds.js';
import { defineMethod } from '../contract/index.js';
import { noParams } from './schemas.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

const timestamp = z
  .string()
  .regex(RFC3339, 'expected an RFC 3339 timestamp such as 2025-01-31T12:00:00Z')
  .refine((s) => Number.isFinite(Date.parse(s)), 'not a valid date');

const eventShape = z.object({
  seq: z.number(),
  id: z.string(),
  kind: z.string(),
  timestamp: z.string(),
  proposal_id: z.string().optional(),
  action_id: z.string().optional(),
  data: z.record(z.string(), z.unknown()),
  prev_hash: z.string().optional(),
  hash: z.string().optional(),
});

const retentionPolicy = z.object({
  max_events: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).nullish(),
  max_age_secs: z.number().positive().max(Number.MAX_SAFE_INTEGER / 1000).nullish(),
});

const retentionResult = z.object({
  max_events: z.number().optional(),
  max_age_secs: z.number().optional(),
});

export const eventsCount = defineMethod({
  name: 'events.count',
  summary: "Number of events this session's log holds (after retention).",
  params: noParams,
  result: z.number().int(),
  handler: (_p, ctx) => ctx.session.events.count,
});

export const eventsQuery = defineMethod({
  name: 'events.query',
  summary: `Events matching every given filter, newest first, kinds in snake_case (a PascalCase filter matches too); limit defaults to ${DEFAULT_QUERY_LIMIT}, 0 returns all.`,
  params: z.object({
    kinds: z.array(z.string()).max(1000).optional(),
    action_id: z.string().optional(),
    proposal_id: z.string().optional(),
    since: timestamp.optional(),
    until: timestamp.optional(),
    data_matches: z.record(z.string(), z.unknown()).optional(),
    limit: z.number().int().min(0).optional(),
  }),
  result: z.object({ count: z.number().int(), events: z.array(eventShape) }),
  handler(p, ctx) {
    const events = ctx.session.events.query({
      kinds: p.kinds,
      action_id: p.action_id,
      proposal_id: p.proposal_id,
      since: p.since === undefined ? undefined : Date.parse(p.since),
      until: p.until === undefined ? undefined : Date.parse(p.until),
      data_matches: p.data_matches,
      limit: p.limit,
    });
    return { count: events.length, events: events.map((e) => ({ ...e, kind: wireKind(e.kind) })) };
  },
});

export const eventsChainEnable = defineMethod({
  name: 'events.chain.enable',
  summary: 'Hash-chain (SHA-256) every event appended from now on. Idempotent.',
  params: noParams,
  result: z.object({ ok: z.literal(true) }),
  handler(_p, ctx) {
    ctx.session.events.enableChain();
    return { ok: true };
  },
});

export const eventsChainVerify = defineMethod({
  name: 'events.chain.verify',
  summary:
    'Check the hash chain: {verified: n} or {tampered_at: position (0-based, oldest first)}. Edits, deletions and reorders are found; events cut off either end are not.',
  params: noParams,
  result: z.union([z.object({ verified: z.number().int() }), z.object({ tampered_at: z.number().int() })]),
  handler: (_p, ctx) => ctx.session.events.verifyChain(),
});

export const eventsRetention = defineMethod({
  name: 'events.retention',
  summary:
    'Without policy: the retention policy in force. With policy: replace it, drop what it excludes at once, and return {policy, removed}.',
  params: z.object({ policy: retentionPolicy.nullish() }),
  result: z.object({ policy: retentionResult, removed: z.number().int().optional() }),
  handler(p, ctx) {
    const log = ctx.session.events;
    if (p.policy === undefined || p.policy === null) return { policy: log.retention };
    const removed = log.setRetention({
      max_events: p.policy.max_events ?? undefined,
      max_age_secs: p.policy.max_age_secs ?? undefined,
    });
    return { policy: log.retention, removed };
  },
});

export const eventsCostByAgent = defineMethod({
  name: 'events.cost_by_agent',
  summary: 'Inference calls, tokens and cost per agent, from the InferenceMetered events held.',
  params: noParams,
  result: z.array(
    z.object({ agent: z.string(), calls: z.number(), tokens_in: z.number(), tokens_out: z.number(), cost_usd: z.number() }),
  ),
  handler: (_p, ctx) => ctx.session.events.costByAgent(),
});

export const eventsMethods = [
  eventsCount,
  eventsQuery,
  eventsChainEnable,
  eventsChainVerify,
  eventsRetention,
  eventsCostByAgent,
];
