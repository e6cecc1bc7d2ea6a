import { z } from 'zod';
import { skillView as view } from '../memory/skills.js';
import { defineTool, READ_ONLY, type McpTool } from './tool.js';

const name = z.string().min(1).max(256);
const skill = z.object({ name: z.string(), code: z.string(), stats: z.object({}).loose() }).loose();

export const skillIngest = defineTool({
  name: 'skill_ingest',
  title: 'Store a skill',
  description: 'Store a skill with its trigger context (persona, URL pattern, task keywords); supersedes deprecates the named skill.',
  input: {
    name,
    code: z.string().max(1024 * 1024),
    platform: z.string().max(256).optional(),
    persona: z.string().max(1024).optional(),
    url_pattern: z.string().max(4096).optional(),
    description: z.string().max(64 * 1024).optional(),
    task_keywords: z.array(z.string().max(256)).max(256).optional(),
    supersedes: name.optional().describe('Name of a skill this one replaces'),
  },
  output: z.object({ name: z.string(), index: z.number().int(), skill_count: z.number().int() }),
  hints: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  async run(p, { host }) {
    const scope = await host.memory();
    const [stored] = await scope.ingestSkills([{ ...p, source: 'mcp' }]);
    return { name: stored!.name, index: stored!.index, skill_count: scope.engine.skills.list(undefined).length };
  },
});

export const skillList = defineTool({
  name: 'skill_list',
  title: 'List skills',
  description: "List skills; a domain returns the global skills plus that domain's.",
  input: { domain: z.string().max(256).optional() },
  output: z.object({ skills: z.array(skill), count: z.number().int() }),
  hints: READ_ONLY,
  async run(p, { host }) {
    const skills = (await host.memory()).engine.skills.list(p.domain).map(view);
    return { skills, count: skills.length };
  },
});

export const skillFind = defineTool({
  name: 'skill_find',
  title: 'Find skills',
  description: 'Find skills for a task (and optionally persona and URL), ranked by match and past success.',
  input: {
    task: z.string().max(64 * 1024),
    persona: z.string().max(1024).optional(),
    url: z.string().max(4096).optional(),
    k: z.number().int().min(1).max(20).optional().describe('1-20, default 5'),
  },
  output: z.object({ matches: z.array(skill.extend({ match_score: z.number() })), count: z.number().int() }),
  hints: READ_ONLY,
  async run(p, { host }) {
    const scope = await host.memory();
    const matches = scope.engine.skills.find(p, p.k ?? 5).map(({ skill: s, match_score }) => ({ ...view(s), match_score }));
    return { matches, count: matches.length };
  },
});

export const skillTools: McpTool[] = [skillIngest, skillList, skillFind];
