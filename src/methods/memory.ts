import { z } from 'zod';
import { buildContext } from '../memory/context.js';
import { toRow } from '../memory/engine.js';
import { updateUtility } from '../memory/utility.js';
import { defineMethod, type MethodContext, type MethodSpec } from '../contract/index.js';
import { proactiveMethods } from './memory-proactive.js';
import { noParams } from './schemas.js';
import { body, confidenceParam, getStatus, identityOf, scopeOf, subject, tags, tenantId } from './memory-common.js';

/** Any label; "constraint" (any case) sets the constraint flag, everything else is a pattern. */
const kind = z
  .string()
  .max(256)
  .transform((k): 'pattern' | 'constraint' => (k.toLowerCase() === 'constraint' ? 'constraint' : 'pattern'))
  .optional();

const confidence = confidenceParam;

export const memoryAddFact = defineMethod({
  name: 'memory.add_fact',
  summary: "Add a fact (pattern or constraint) to this session's memory graph; returns the fact count.",
  params: z.object({
    subject,
    body,
    kind,
    confidence,
    fact_id: z.string().min(1).max(256).optional(),
    tags,
    source: z.string().max(1024).optional(),
    tenant_id: tenantId,
    supersedes: z.string().min(1).max(256).optional(),
  }),
  result: z.number(),
  handler: async (p, ctx) => {
    const scope = await scopeOf(ctx);
    await scope.addFact(
      {
        subject: p.subject,
        body: p.body,
        kind: p.kind,
        confidence: p.confidence,
        id: p.fact_id,
        tags: p.tags,
        source: p.source ?? 'ws',
        tenant_id: p.tenant_id,
        supersedes: p.supersedes,
      },
      ctx.session.clientId,
    );
    return scope.engine.factCount;
  },
});

export const memoryQuery = defineMethod({
  name: 'memory.query',
  summary: 'Rank facts for a query (lexical seeds, then personalized PageRank over the graph); confidence is the activation.',
  params: z.object({ query: z.string().max(64 * 1024), k: z.number().int().optional(), tenant_id: tenantId }),
  handler: async (p, ctx) => {
    const scope = await scopeOf(ctx);
    return (await scope.query(p.query, { k: p.k, tenant_id: p.tenant_id })).map(toRow);
  },
});

const contextParams = z.object({
  query: z.string().max(64 * 1024),
  model_context_window: z.number().int().positive().optional(),
  tenant_id: tenantId,
});

function contextHandler(fast: boolean) {
  return async (p: z.infer<typeof contextParams>, ctx: MethodContext): Promise<string> => {
    const scope = await scopeOf(ctx);
    return buildContext(scope.engine, {
      query: p.query,
      modelContextWindow: p.model_context_window,
      tenant_id: p.tenant_id,
      identity: identityOf(ctx, scope),
      status: getStatus(ctx.session, p.tenant_id)?.body ?? null,
      fast,
      vector: fast ? undefined : await scope.queryVector(p.query),
    });
  };
}

export const memoryBuildContext = defineMethod({
  name: 'memory.build_context',
  summary: 'Assemble the six-section context block (Identity … Known Unknowns) for a query, within a token budget.',
  params: contextParams,
  result: z.string(),
  handler: contextHandler(false),
});

export const memoryBuildContextFast = defineMethod({
  name: 'memory.build_context_fast',
  summary: 'The fast context block: no graph walk, facts in creation order, no Known Unknowns.',
  params: contextParams,
  result: z.string(),
  handler: contextHandler(true),
});

export const memoryFactCount = defineMethod({
  name: 'memory.fact_count',
  summary: "Number of valid facts in this session's memory graph.",
  params: noParams,
  result: z.number(),
  handler: async (_p, ctx) => (await scopeOf(ctx)).engine.factCount,
});

export const memoryConsolidate = defineMethod({
  name: 'memory.consolidate',
  summary:
    'Run one dream pass: merge duplicates, resolve supersession, promote or reject candidates, decay stale facts. candidates_promoted/rejected list fact ids (the *_count fields count them); each is also an event.',
  params: noParams,
  handler: async (_p, ctx) => {
    const { promoted_ids, rejected_ids, candidates_promoted, candidates_rejected, ...rest } = await (await scopeOf(ctx)).consolidate();
    for (const fact_id of promoted_ids) ctx.session.events.append('CandidatePromoted', { data: { fact_id } });
    for (const fact_id of rejected_ids) ctx.session.events.append('CandidateRejected', { data: { fact_id } });
    return {
      ...rest,
      candidates_promoted: promoted_ids,
      candidates_rejected: rejected_ids,
      candidates_promoted_count: candidates_promoted,
      candidates_rejected_count: candidates_rejected,
    };
  },
});

const pathParams = z.object({ path: z.string().max(4096) });

export const memoryPersist = defineMethod({
  name: 'memory.persist',
  summary: "Write the whole graph as flat JSON to a name under the memory export folder (`memory/exports/`); returns the facts written.",
  params: pathParams,
  result: z.number(),
  handler: async (p, ctx) => {
    const path = await ctx.state.memory.exportPath(p.path, 'persist');
    return (await scopeOf(ctx)).persistTo(path);
  },
});

export const memoryLoad = defineMethod({
  name: 'memory.load',
  summary: 'Replace the graph with a file from the memory export folder (parsed whole first); returns the facts loaded.',
  params: pathParams,
  result: z.number(),
  handler: async (p, ctx) => {
    const path = await ctx.state.memory.exportPath(p.path, 'load');
    return (await scopeOf(ctx)).loadFrom(path, p.path);
  },
});

export const memoryUtilityGet = defineMethod({
  name: 'memory.utility_get',
  summary: 'The global utility-aware retrieval knobs.',
  params: noParams,
  handler: (_p, ctx) => ({ ...ctx.state.memory.utility }),
});

/** Anything numeric-ish is accepted; whatever is not a finite number becomes 0. */
const knob = z.optional(
  z.unknown().transform((v, ctx) => {
    if (v === undefined) return undefined;
    if (typeof v === 'number' || typeof v === 'string' || v === null) return finiteOrZero(Number(v));
    ctx.addIssue({ code: 'custom', message: 'must be a number' });
    return z.NEVER;
  }),
);

function finiteOrZero(n: number): number {
  return Number.isFinite(n) ? n : 0;
}

export const memoryUtilitySet = defineMethod({
  name: 'memory.utility_set',
  summary: 'Set the global utility knobs (weight clamped to [0,1], exploration to [0,4]); omitted fields keep their value.',
  params: z.object({ utility_weight: knob, utility_exploration: knob }),
  handler: (p, ctx) => updateUtility(ctx.state.memory.utility, p),
});


/** Every `memory.*` method. */
export function memoryMethods(): MethodSpec[] {
  return [
    memoryAddFact,
    memoryQuery,
    memoryBuildContext,
    memoryBuildContextFast,
    memoryFactCount,
    memoryConsolidate,
    memoryPersist,
    memoryLoad,
    memoryUtilityGet,
    memoryUtilitySet,
    ...proactiveMethods,
  ];
}
