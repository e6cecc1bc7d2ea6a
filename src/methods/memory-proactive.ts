import { z } from 'zod';
import type { RecoveryInfo } from '../memory/durable-log.js';
import {
  bankInfo,
  candidatesFor,
  decide,
  DEFAULT_MAX_CANDIDATES,
  evaluate,
  MAX_CANDIDATES,
  planMaintenance,
  reminderText,
  type Intervention,
} from '../memory/proactive.js';
import { defineMethod, type MethodContext } from '../contract/index.js';
import {
  body,
  clearStatus,
  getStatus,
  confidenceParam,
  scopeOf,
  setStatus,
  statusId,
  subject,
  tags,
  tenantId,
  type StatusSlot,
} from './memory-common.js';

const PROACTIVE_MAINTAINED = 'ProactiveMemoryMaintained';
const PROACTIVE_INTERVENTION = 'ProactiveMemoryIntervention';

export const memoryUpdateStatus = defineMethod({
  name: 'memory.update_status',
  summary: "Set this connection's private proactive status slot (not a fact); the next call overwrites it.",
  params: z.object({ body, tenant_id: tenantId }),
  handler(p, ctx) {
    const slot: StatusSlot = { id: statusId(p.tenant_id), body: p.body };
    if (p.tenant_id !== undefined) slot.tenant_id = p.tenant_id;
    setStatus(ctx.session, slot);
    return slot;
  },
});

const saveParams = z.object({
  id: z.string().min(1).max(256).optional(),
  subject,
  body,
  tags,
  confidence: confidenceParam,
  tenant_id: tenantId,
  is_constraint: z.boolean().optional(),
});

function saveHandler(type: 'knowledge' | 'procedural') {
  return async (p: z.infer<typeof saveParams>, ctx: MethodContext) => {
    const scope = await scopeOf(ctx);
    const { node } = await scope.addFact(
      {
        id: p.id,
        subject: p.subject,
        body: p.body,
        tags: p.tags,
        confidence: p.confidence,
        tenant_id: p.tenant_id,
        kind: p.is_constraint ? 'constraint' : 'pattern',
        memory_type: type,
        source: `save_${type}`,
      },
      ctx.session.clientId,
    );
    return { id: node.id, kind: type, fact_count: scope.engine.factCount };
  };
}

export const memorySaveKnowledge = defineMethod({
  name: 'memory.save_knowledge',
  summary: 'Save durable knowledge (execution state, findings) to the proactive bank; a repeated id gets a suffix.',
  params: saveParams,
  handler: saveHandler('knowledge'),
});

export const memorySaveProcedural = defineMethod({
  name: 'memory.save_procedural',
  summary: 'Save procedural evidence (failed approaches, working recipes) to the proactive bank.',
  params: saveParams,
  handler: saveHandler('procedural'),
});

export const memoryDelete = defineMethod({
  name: 'memory.delete',
  summary: 'Delete a memory by id; proactive-status:<tenant|global> clears the status slot.',
  params: z.object({ id: z.string().min(1).max(512) }),
  handler: async (p, ctx) => {
    const scope = await scopeOf(ctx);
    if (p.id.startsWith('proactive-status:')) {
      const deleted = clearStatus(ctx.session, p.id);
      return { id: p.id, deleted, kind: 'status', fact_count: scope.engine.factCount };
    }
    const node = await scope.deleteFact(p.id);
    return { id: p.id, deleted: node !== undefined, kind: node?.memory_type ?? null, fact_count: scope.engine.factCount };
  },
});

export const memoryMaintain = defineMethod({
  name: 'memory.maintain',
  summary: "Turn this session's recent failures into procedural memories (idempotent) and report the trigger state.",
  params: z.object({ max_recent: z.number().int().min(1).max(1024).optional(), tenant_id: tenantId }),
  handler: async (p, ctx) => {
    const scope = await scopeOf(ctx);
    const recent = ctx.session.events.all().slice(-(p.max_recent ?? 32));
    const plan = planMaintenance(recent, p.tenant_id ?? null);
    let saved = 0;
    let skipped = 0;
    for (const fact of plan.facts) {
      if (scope.engine.graph.hasId(fact.id)) {
        skipped++;
        continue;
      }
      await scope.addFact(fact, ctx.session.clientId);
      saved++;
    }
    const result: Record<string, unknown> = { trigger: plan.trigger, saved, skipped_existing: skipped };
    const status = getStatus(ctx.session, p.tenant_id);
    if (status) result.status = status;
    const damage = recoveryReport(scope.recovery);
    if (damage) result.recovery = damage;
    ctx.session.events.append(PROACTIVE_MAINTAINED, { data: { saved, skipped_existing: skipped, trigger: plan.trigger } });
    return result;
  },
});

const trigger = z
  .object({
    repeated_failures: z.union([z.number().int().min(0), z.boolean()]).optional(),
    tool_error: z.union([z.boolean(), z.string(), z.null()]).optional(),
    explicit_uncertainty: z.boolean().optional(),
    high_risk_action: z.boolean().optional(),
    context_shift: z.boolean().optional(),
  })
  .optional();

/** A ProactiveMemoryRequest: what `memory.intervene` takes, and each `memory.evaluate` case's request. */
const proactiveRequest = z.object({
  query: z.string().max(64 * 1024).optional(),
  recent: z.array(z.string().max(64 * 1024)).max(256).optional(),
  trigger,
  force: z.boolean().optional(),
  max_candidates: z.number().int().min(1).max(MAX_CANDIDATES).optional(),
  tenant_id: tenantId,
});

export const memoryIntervene = defineMethod({
  name: 'memory.intervene',
  summary: 'Decide whether one reminder from the proactive bank should be injected now; bumps its injection counter.',
  params: proactiveRequest,
  handler: async (p, ctx): Promise<Intervention> => {
    const scope = await scopeOf(ctx);
    const req = { ...p, max_candidates: p.max_candidates ?? DEFAULT_MAX_CANDIDATES, tenant_id: p.tenant_id ?? null };
    const candidates = candidatesFor(scope.engine, req);
    const bank = bankInfo(scope.engine, req.tenant_id);
    const verdict = decide(candidates, req);
    let result: Intervention;
    if ('selected' in verdict) {
      await scope.markInjected(verdict.selected.id);
      result = { decision: 'inject', reminder: reminderText(verdict.selected), selected: verdict.selected, candidates, bank };
    } else {
      result = { decision: 'silent', reason: verdict.reason, candidates, bank };
    }
    ctx.session.events.append(PROACTIVE_INTERVENTION, {
      data: {
        decision: result.decision,
        selected: result.decision === 'inject' ? result.selected.id : null,
        candidates: candidates.length,
      },
    });
    return result;
  },
});

export const memoryEvaluate = defineMethod({
  name: 'memory.evaluate',
  summary: 'Compare selective injection with always-inject, passive retrieval and no memory on labelled cases (no counters move).',
  params: z.object({
    cases: z
      .array(
        z.object({
          id: z.union([z.string(), z.number()]).transform(String),
          request: z.union([z.string().max(64 * 1024).transform((query) => ({ query })), proactiveRequest]),
          relevant_fact_ids: z.array(z.string()).max(1024).optional(),
        }),
      )
      .max(10_000),
    tenant_id: tenantId,
  }),
  handler: async (p, ctx) => evaluate((await scopeOf(ctx)).engine, p.cases, p.tenant_id ?? null),
});

export const proactiveMethods = [
  memoryUpdateStatus,
  memorySaveKnowledge,
  memorySaveProcedural,
  memoryDelete,
  memoryMaintain,
  memoryIntervene,
  memoryEvaluate,
];

/** What opening this graph had to skip or fall back from, when anything; absent for a clean open. */
function recoveryReport(r: RecoveryInfo | null): Record<string, unknown> | null {
  if (!r || (r.skipped.length === 0 && r.corruptSnapshots.length === 0 && r.base !== 'previous')) return null;
  return {
    rebuilt_from: r.base,
    skipped_records: r.skipped.map((s) => ({ file: s.file, line: s.line, reason: s.reason })),
    unreadable_snapshots: r.corruptSnapshots,
    records_lost: r.gap,
  };
}
