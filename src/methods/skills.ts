import { z } from 'zod';
import { DEFAULT_EVOLUTION_THRESHOLD, skillView as view, statsOf, type SkillInput } from '../memory/skills.js';
import { CarError } from '../util/errors.js';
import { defineMethod, type MethodContext } from '../contract/index.js';
import { distillPrompt, evolvePrompt, parseDistilled, parseRepair, repairPrompt, type SkillPrompt } from '../memory/skill-distill.js';
import { MemoryError } from '../memory/types.js';
import { recordMetering } from './inference-common.js';
import { scopeOf, tenantId } from './memory-common.js';

const name = z.string().min(1).max(256);
const keywords = z.array(z.string().max(256)).max(256).optional();

export const skillIngest = defineMethod({
  name: 'skill.ingest',
  summary: 'Store a skill with its trigger context (persona, URL pattern, task keywords); supersedes deprecates another. Returns its node index.',
  params: z.object({
    name,
    code: z.string().max(1024 * 1024),
    platform: z.string().max(256).optional(),
    persona: z.string().max(1024).optional(),
    url_pattern: z.string().max(4096).optional(),
    task_keywords: keywords,
    description: z.string().max(64 * 1024).optional(),
    domain: z.string().max(256).optional(),
    when_to_apply: z.string().max(64 * 1024).optional(),
    supersedes: name.nullable().optional(),
    tenant_id: tenantId,
  }),
  result: z.number(),
  handler: async (p, ctx) => {
    const scope = await scopeOf(ctx);
    const [skill] = await scope.ingestSkills([p]);
    return skill!.index;
  },
});

export const skillFind = defineMethod({
  name: 'skill.find',
  summary: 'Find skills for a context (persona, URL, task), ranked by match and past success; null when none match.',
  params: z.object({
    persona: z.string().max(1024).optional(),
    url: z.string().max(4096).optional(),
    task: z.string().max(64 * 1024).optional(),
    max_results: z.number().int().min(1).max(100).optional(),
    k: z.number().int().min(1).max(100).optional(),
    tenant_id: tenantId,
  }),
  handler: async (p, ctx) => {
    const scope = await scopeOf(ctx);
    const matches = scope.engine.skills.find(p, p.max_results ?? p.k ?? 5);
    if (matches.length === 0) return null;
    return matches.map(({ skill, match_score }) => ({ ...view(skill), match_score }));
  },
});

export const skillReport = defineMethod({
  name: 'skill.report',
  summary: 'Record an outcome of a skill ("success", or any other word for a failure); it is degraded once failures exceed successes by more than two.',
  params: z
    .object({
      skill_name: name.optional(),
      name: name.optional(),
      outcome: z.string().min(1).max(256),
      tenant_id: tenantId,
    })
    .refine((p) => p.skill_name !== undefined || p.name !== undefined, { message: 'skill_name is required', path: ['skill_name'] }),
  handler: async (p, ctx) => {
    const scope = await scopeOf(ctx);
    const outcome = p.outcome.toLowerCase() === 'success' ? 'success' : 'fail';
    const skill = await scope.reportSkill((p.skill_name ?? p.name)!, outcome, p.tenant_id ?? null);
    return { skill_name: skill.name, name: skill.name, outcome: p.outcome, ...statsOf(skill) };
  },
});

export const skillsList = defineMethod({
  name: 'skills.list',
  summary: 'List skills; a domain filter returns global skills plus that domain\'s.',
  params: z.object({ domain: z.string().max(256).optional(), tenant_id: tenantId }),
  handler: async (p, ctx) => (await scopeOf(ctx)).engine.skills.list(p.domain, p.tenant_id ?? null).map(view),
});

const distilled = z.object({
  name,
  code: z.string().max(1024 * 1024).default(''),
  description: z.string().max(64 * 1024).optional(),
  when_to_apply: z.string().max(64 * 1024).optional(),
  domain: z.string().max(256).optional(),
  scope: z.object({ domain: z.string().max(256).optional() }).loose().optional(),
  source: z.string().max(256).optional(),
  platform: z.string().max(256).optional(),
  trigger: z
    .object({ persona: z.string().max(1024).optional(), url_pattern: z.string().max(4096).optional(), task_keywords: keywords })
    .loose()
    .optional(),
});
type Distilled = z.infer<typeof distilled>;

function fromDistilled(d: Distilled, tenant: string | undefined): SkillInput {
  return {
    name: d.name,
    code: d.code,
    platform: d.platform,
    description: d.description,
    when_to_apply: d.when_to_apply,
    domain: d.domain ?? d.scope?.domain,
    source: d.source ?? 'distilled',
    persona: d.trigger?.persona,
    url_pattern: d.trigger?.url_pattern,
    task_keywords: d.trigger?.task_keywords,
    tenant_id: tenant,
  };
}

export const skillsIngestDistilled = defineMethod({
  name: 'skills.ingest_distilled',
  summary: 'Ingest DistilledSkill records (from skills.distill or a file); returns {ingested: how many were stored}.',
  params: z.union([
    z.object({ skills: z.array(distilled).max(10_000), tenant_id: tenantId }),
    z.array(distilled).max(10_000).transform((skills) => ({ skills, tenant_id: undefined })),
  ]),
  result: z.object({ ingested: z.number() }),
  handler: async (p, ctx) => {
    const scope = await scopeOf(ctx);
    if (p.skills.length === 0) return { ingested: 0 };
    return { ingested: (await scope.ingestSkills(p.skills.map((d) => fromDistilled(d, p.tenant_id)))).length };
  },
});

export const skillsDomainsNeedingEvolution = defineMethod({
  name: 'skills.domains_needing_evolution',
  summary: 'Domains whose pooled skill success rate is below the threshold (default 0.6).',
  params: z.object({ threshold: z.number().min(0).max(1).optional(), tenant_id: tenantId }),
  result: z.array(z.string()),
  handler: async (p, ctx) => (await scopeOf(ctx)).engine.skills.domainsNeedingEvolution(p.threshold ?? DEFAULT_EVOLUTION_THRESHOLD, p.tenant_id ?? null),
});

/** Run a skill prompt on the named model, the configured skills model, or a routed one; metered like `infer`. */
async function runSkillPrompt(ctx: MethodContext, prompt: SkillPrompt, model: string | null | undefined, method: string): Promise<string> {
  const pin = model ?? ctx.state.config.skillsModel;
  if (pin === null && !(await ctx.state.inference.hasAvailable('generate'))) {
    throw new CarError('unavailable', `${method} needs an inference provider, and no model is available on this daemon`, {
      detail: { reason: 'inference_unavailable' },
    });
  }
  const { result, metering } = await ctx.state.inference.generate(
    { system: prompt.system, messages: [{ role: 'user', content: prompt.prompt }], temperature: 0.2 },
    { model: pin, signal: ctx.signal, intent: { task: 'code', prefer_quality: true } },
  );
  recordMetering(ctx, metering, method);
  return result.text;
}

const eventsParam = z.array(z.unknown()).max(100_000);
const modelParam = z.string().min(1).max(256).nullable().optional();

export const skillsDistill = defineMethod({
  name: 'skills.distill',
  summary: 'Distil skills from trace events with a model; returns DistilledSkill records (store them with skills.ingest_distilled).',
  params: z.union([
    z.object({ events: eventsParam, model: modelParam }).loose(),
    eventsParam.transform((events) => ({ events, model: undefined })),
  ]),
  admission: true,
  handler: async (p, ctx) => parseDistilled(await runSkillPrompt(ctx, distillPrompt(p.events), p.model, 'skills.distill'), 'distilled'),
});

export const skillsEvolve = defineMethod({
  name: 'skills.evolve',
  summary: "Propose new skills for an underperforming domain from its skills and recent events; returns DistilledSkill records.",
  params: z.object({ events: eventsParam.optional(), domain: z.string().min(1).max(256), model: modelParam, tenant_id: tenantId }).loose(),
  admission: true,
  handler: async (p, ctx) => {
    const scope = await scopeOf(ctx);
    const current = scope.engine.skills.list(p.domain, p.tenant_id ?? null);
    const text = await runSkillPrompt(ctx, evolvePrompt(p.events ?? [], p.domain, current), p.model, 'skills.evolve');
    return parseDistilled(text, 'evolved', p.domain);
  },
});

export const skillRepair = defineMethod({
  name: 'skill.repair',
  summary: 'Propose repaired code for a broken (degraded) skill with a model; null when the skill is not broken, no model is available, or the model offers none. The skill itself is left as it is.',
  params: z
    .object({ skill_name: name.optional(), name: name.optional(), model: modelParam, tenant_id: tenantId })
    .loose()
    .refine((p) => p.skill_name !== undefined || p.name !== undefined, { message: 'skill_name is required', path: ['skill_name'] }),
  admission: true,
  handler: async (p, ctx) => {
    const scope = await scopeOf(ctx);
    const skillName = (p.skill_name ?? p.name)!;
    const skill = scope.engine.skills.get(skillName, p.tenant_id ?? null);
    if (!skill) throw new MemoryError(`unknown skill '${skillName}'`, 'not_found');
    if (!statsOf(skill).degraded) return null;
    if ((p.model ?? ctx.state.config.skillsModel) === null && !(await ctx.state.inference.hasAvailable('generate'))) return null;
    const code = parseRepair(await runSkillPrompt(ctx, repairPrompt(skill), p.model, 'skill.repair'));
    return code === null ? null : { code };
  },
});

/** Every `skill.*` / `skills.*` method. */
export const skillsMethods = [
  skillIngest,
  skillFind,
  skillReport,
  skillRepair,
  skillsList,
  skillsIngestDistilled,
  skillsDomainsNeedingEvolution,
  skillsDistill,
  skillsEvolve,
];
