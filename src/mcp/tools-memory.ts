import { z } from 'zod';
import { toRow, MAX_QUERY_K } from '../memory/engine.js';
import { bankInfo, candidatesFor, decide, DEFAULT_MAX_CANDIDATES, evaluate, MAX_CANDIDATES, reminderText } from '../memory/proactive.js';
import type { FactInput } from '../memory/types.js';
import { defineTool, READ_ONLY, WRITES, type McpTool } from './tool.js';

const subject = z.string().max(4096).describe('What the fact is about');
const body = z.string().max(256 * 1024).describe('The fact itself');
const tenantId = z.string().min(1).max(256).optional().describe('Tenant whose facts this touches');
const factCount = { fact_count: z.number().int() };

const row = z
  .object({
    fact_id: z.string().nullable(),
    subject: z.string(),
    body: z.string(),
    kind: z.string(),
    activation: z.number(),
    tags: z.array(z.string()),
    source: z.string().nullable(),
  })
  .loose();

export const memoryAddFact = defineTool({
  name: 'memory_add_fact',
  title: 'Add a fact',
  description: 'Add a fact to the shared memory graph (kind pattern, the default, or constraint).',
  input: { subject, body, kind: z.enum(['pattern', 'constraint']).optional().describe('pattern (default) or constraint') },
  output: z.object({ id: z.string(), superseded: z.array(z.string()), ...factCount }),
  hints: WRITES,
  async run(p, { host }) {
    const scope = await host.memory();
    const fact: FactInput = { subject: p.subject, body: p.body, kind: p.kind ?? 'pattern', source: 'mcp' };
    const { node, superseded } = await scope.addFact(fact, 'mcp');
    await host.factAdded?.({ ...fact, id: node.id });
    return { id: node.id, superseded, fact_count: scope.engine.factCount };
  },
});

export const memoryQuery = defineTool({
  name: 'memory_query',
  title: 'Query memory',
  description: 'Rank facts for a query: lexical seeds, then spreading activation over the graph. Returns the nodes with their activation.',
  input: { query: z.string().max(64 * 1024), k: z.number().int().min(1).max(MAX_QUERY_K).optional().describe('How many facts (1-50, default 5)') },
  output: z.object({ nodes: z.array(row), count: z.number().int() }),
  hints: READ_ONLY,
  async run(p, { host }) {
    const scope = await host.memory();
    const nodes = (await scope.query(p.query, { k: p.k })).map((hit) => {
      const { confidence, ...rest } = toRow(hit);
      return { ...rest, activation: confidence };
    });
    return { nodes, count: nodes.length };
  },
});

function statusId(tenant: string | undefined): string {
  return `proactive-status:${tenant ?? 'global'}`;
}

export const memoryUpdateStatus = defineTool({
  name: 'memory_update_status',
  title: 'Update status',
  description: "Set this MCP session's proactive status slot (not a fact); the next update overwrites it.",
  input: { body, tenant_id: tenantId },
  output: z.object({ id: z.string(), body: z.string(), tenant_id: z.string().optional() }),
  hints: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  run(p, { session }) {
    const slot: { id: string; body: string; tenant_id?: string } = { id: statusId(p.tenant_id), body: p.body };
    if (p.tenant_id !== undefined) slot.tenant_id = p.tenant_id;
    session.status.set(slot.id, slot);
    return slot;
  },
});

const saveInput = {
  subject,
  body,
  id: z.string().min(1).max(256).optional().describe('Stable id; a repeated id gets a suffix'),
  tags: z.array(z.string().max(256)).max(64).optional(),
  confidence: z.string().regex(/^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/, 'must be a number').optional().describe('A number, as a string'),
  tenant_id: tenantId,
  is_constraint: z.boolean().optional(),
};

function saveTool(type: 'knowledge' | 'procedural', description: string): McpTool {
  return defineTool({
    name: `memory_save_${type}`,
    title: `Save ${type}`,
    description,
    input: saveInput,
    output: z.object({ id: z.string(), kind: z.literal(type), ...factCount }),
    hints: WRITES,
    async run(p, { host }) {
      const scope = await host.memory();
      const { node } = await scope.addFact(
        {
          id: p.id,
          subject: p.subject,
          body: p.body,
          tags: p.tags,
          confidence: p.confidence === undefined ? undefined : Number(p.confidence),
          tenant_id: p.tenant_id,
          kind: p.is_constraint ? 'constraint' : 'pattern',
          memory_type: type,
          source: `save_${type}`,
        },
        'mcp',
      );
      return { id: node.id, kind: type, fact_count: scope.engine.factCount };
    },
  });
}

export const memorySaveKnowledge = saveTool('knowledge', 'Save durable knowledge (execution state, findings) to the proactive bank.');
export const memorySaveProcedural = saveTool('procedural', 'Save procedural evidence (failed approaches, working recipes) to the proactive bank.');

export const memoryDelete = defineTool({
  name: 'memory_delete',
  title: 'Delete a memory',
  description: 'Delete a memory by id; proactive-status:<tenant|global> clears the status slot.',
  input: { id: z.string().min(1).max(512) },
  output: z.object({ id: z.string(), deleted: z.boolean(), kind: z.string().nullable(), ...factCount }),
  hints: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  async run(p, { host, session }) {
    const scope = await host.memory();
    if (p.id.startsWith('proactive-status:')) {
      return { id: p.id, deleted: session.status.delete(p.id), kind: 'status', fact_count: scope.engine.factCount };
    }
    const node = await scope.deleteFact(p.id);
    return { id: p.id, deleted: node !== undefined, kind: node?.memory_type ?? null, fact_count: scope.engine.factCount };
  },
});

const interveneShape = {
  query: z.string().max(64 * 1024).optional(),
  recent: z.array(z.string().max(64 * 1024)).max(256).optional(),
  trigger: z
    .object({
      repeated_failures: z.union([z.number().int().min(0), z.boolean()]).optional(),
      tool_error: z.union([z.boolean(), z.string(), z.null()]).optional(),
      explicit_uncertainty: z.boolean().optional(),
      high_risk_action: z.boolean().optional(),
      context_shift: z.boolean().optional(),
    })
    .optional(),
  force: z.boolean().optional(),
  max_candidates: z.number().int().min(1).max(MAX_CANDIDATES).optional().describe(`1-${MAX_CANDIDATES}, default ${DEFAULT_MAX_CANDIDATES}`),
  tenant_id: tenantId,
};

const candidate = z.object({ id: z.string(), subject: z.string(), body: z.string(), kind: z.string(), score: z.number(), injections: z.number() }).loose();

export const memoryIntervene = defineTool({
  name: 'memory_intervene',
  title: 'Proactive reminder',
  description: 'Decide whether one reminder from the proactive bank should be injected now; an injection bumps its counter.',
  input: interveneShape,
  output: z
    .object({
      decision: z.enum(['inject', 'silent']),
      reminder: z.string().optional(),
      reason: z.string().optional(),
      selected: candidate.optional(),
      candidates: z.array(candidate),
      bank: z.object({ size: z.number(), knowledge: z.number(), procedural: z.number() }),
    })
    .loose(),
  hints: WRITES,
  async run(p, { host }) {
    const scope = await host.memory();
    const req = { ...p, max_candidates: p.max_candidates ?? DEFAULT_MAX_CANDIDATES, tenant_id: p.tenant_id ?? null };
    const candidates = candidatesFor(scope.engine, req);
    const bank = bankInfo(scope.engine, req.tenant_id);
    const verdict = decide(candidates, req);
    if (!('selected' in verdict)) return { decision: 'silent', reason: verdict.reason, candidates, bank };
    await scope.markInjected(verdict.selected.id);
    return { decision: 'inject', reminder: reminderText(verdict.selected), selected: verdict.selected, candidates, bank };
  },
});

export const memoryEvaluate = defineTool({
  name: 'memory_evaluate',
  title: 'Evaluate proactive memory',
  description: 'Compare selective injection with always-inject, passive retrieval and no memory on labelled cases (no counters move).',
  input: {
    cases: z
      .array(
        z.object({
          id: z.union([z.string(), z.number()]),
          request: z.union([z.string().max(64 * 1024).transform((query) => ({ query })), z.object(interveneShape)]).describe('The request text, or a full memory_intervene request'),
          relevant_fact_ids: z.array(z.string()).max(1024).optional(),
        }),
      )
      .max(10_000),
  },
  output: z.object({}).loose(),
  hints: READ_ONLY,
  async run(p, { host }) {
    const scope = await host.memory();
    const cases = p.cases.map((c) => ({ ...c, id: String(c.id) }));
    return evaluate(scope.engine, cases) as unknown as Record<string, unknown>;
  },
});

export const memoryTools: McpTool[] = [
  memoryAddFact,
  memoryQuery,
  memoryUpdateStatus,
  memorySaveKnowledge,
  memorySaveProcedural,
  memoryDelete,
  memoryIntervene,
  memoryEvaluate,
];
