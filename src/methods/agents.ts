import { z } from 'zod';
import { AGENT_ID, AGENT_STATUSES } from '../agents/index.js';
import { defineMethod, type MethodSpec, type MethodTable } from '../contract/index.js';

const id = z.string().min(1).max(128).regex(AGENT_ID, 'id may contain only letters, digits, ".", "_" and "-"');
const idParams = z.object({ id });

const specShape = {
  id,
  name: z.string().min(1).max(256).optional(),
  command: z.string().min(1).max(4096),
  args: z.array(z.string().max(64 * 1024)).max(1024).optional(),
  cwd: z.string().min(1).max(4096).optional(),
  env: z.record(z.string().max(256), z.string().max(64 * 1024)).optional(),
  restart: z.enum(['never', 'on_failure', 'always']).optional(),
  max_restarts: z.number().int().min(0).max(1000).optional(),
  backoff_secs: z.number().min(0).max(3600).optional(),
  auto_start: z.boolean().optional(),
  interpreter: z.string().min(1).max(4096).optional(),
};

const capabilityList = z.array(z.string().min(1).max(256)).max(256);

/** A capability is served when the daemon has a method of that name or under that namespace. */
function serves(methods: MethodTable, capability: string): boolean {
  const prefix = capability.endsWith('.') ? capability : `${capability}.`;
  for (const { name } of methods.list()) if (name === capability || name.startsWith(prefix)) return true;
  return false;
}

export const agentsMethods: MethodSpec[] = [
  defineMethod({
    name: 'agents.register_basics',
    summary: "Register the built-in agent tools (agents_list, agents_start, agents_stop, agents_chat) on this connection's tool registry.",
    params: z.object({}).loose().nullable().optional(),
    handler(_p, ctx) {
      ctx.session.tools.register(BASIC_TOOLS.filter(([name]) => !ctx.session.tools.has(name)).map(([name, description, parameters]) => ({ name, description, parameters, idempotent: false })));
      return null;
    },
  }),
  defineMethod({
    name: 'agents.list',
    summary: 'Every supervised agent with its status, pid, restarts, last exit code and whether it is attached (and on which connection).',
    params: z.object({}).loose().nullable().optional(),
    handler: (_p, ctx) => ctx.state.agents.list(),
  }),
  defineMethod({
    name: 'agents.health',
    summary: 'Per agent: can it start (command and cwd found) and is it not errored.',
    params: z.object({}).loose().nullable().optional(),
    handler: (_p, ctx) => ctx.state.agents.health(),
  }),
  defineMethod({
    name: 'agents.upsert',
    summary: 'Create or replace a supervised agent (persisted, not started); its own token is minted on first upsert.',
    role: 'owner',
    params: z.object(specShape),
    handler: (p, ctx) => ctx.state.agents.upsert(p),
  }),
  defineMethod({
    name: 'agents.install',
    summary: 'Install an agent from its manifest: required capabilities fail closed, missing optional ones are reported.',
    role: 'owner',
    params: z
      .object({
        ...specShape,
        capabilities: z.object({ required: capabilityList.optional(), optional: capabilityList.optional() }).optional(),
      })
      .or(z.object({ manifest: z.object({ ...specShape, capabilities: z.object({ required: capabilityList.optional(), optional: capabilityList.optional() }).optional() }) }).transform((w) => w.manifest)),
    handler: (p, ctx) => ctx.state.agents.install(p, (c) => serves(ctx.state.methods, c)),
  }),
  defineMethod({
    name: 'agents.remove',
    summary: 'Stop an agent, then forget it and its token; removing an unknown id answers removed: false.',
    role: 'owner',
    params: idParams,
    handler: (p, ctx) => ctx.state.agents.remove(p.id),
  }),
  defineMethod({
    name: 'agents.start',
    summary: 'Start an agent (a no-op while it runs).',
    role: 'owner',
    params: idParams,
    handler: (p, ctx) => ctx.state.agents.start(p.id),
  }),
  defineMethod({
    name: 'agents.stop',
    summary: 'Stop an agent: SIGTERM escalating to SIGKILL after the grace, or SIGKILL at once; a pending restart is cancelled.',
    role: 'owner',
    params: z.object({ id, signal: z.enum(['term', 'kill']).optional() }),
    handler: (p, ctx) => ctx.state.agents.stop(p.id, p.signal),
  }),
  defineMethod({
    name: 'agents.restart',
    summary: 'Stop then start an agent.',
    role: 'owner',
    params: idParams,
    handler: (p, ctx) => ctx.state.agents.restart(p.id),
  }),
  defineMethod({
    name: 'agents.wait',
    summary: 'Wait until an agent reaches one of the target statuses (default running); WaitTimeout after timeout_secs.',
    params: z.object({
      id,
      targets: z.array(z.enum(AGENT_STATUSES)).min(1).max(5).optional(),
      timeout_secs: z.number().positive().max(3600).optional(),
      poll_ms: z.number().int().min(10).max(60_000).optional(),
    }),
    deadlineMs: (p, state) => Math.max(state.config.handlerTimeoutMs, (p.timeout_secs ?? 30) * 1000 + 5000),
    handler: (p, ctx) => ctx.state.agents.wait(p.id, p.targets ?? ['running'], (p.timeout_secs ?? 30) * 1000, ctx.signal),
  }),
  defineMethod({
    name: 'agents.tail_log',
    summary: "The last lines of an agent's stdout and stderr (at most the configured tail of each file is read).",
    params: z.object({
      id,
      n: z.number().int().min(0).max(100_000).optional(),
      lines: z.number().int().min(0).max(100_000).optional(),
      stream: z.enum(['combined', 'stdout', 'stderr']).optional(),
      offset: z.number().int().min(0).optional(),
    }),
    handler: (p, ctx) => ctx.state.agents.tailLog(p.id, { n: p.n ?? p.lines ?? 100, stream: p.stream ?? 'combined', offset: p.offset ?? 0 }),
  }),
];

const byId = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] };
const BASIC_TOOLS: readonly [string, string, unknown][] = [
  ['agents_list', 'List the supervised agents and their status.', { type: 'object', properties: {} }],
  ['agents_start', 'Start a supervised agent by id.', byId],
  ['agents_stop', 'Stop a supervised agent by id.', byId],
  [
    'agents_chat',
    'Send a prompt to a supervised agent and stream its reply.',
    { type: 'object', properties: { agent_id: { type: 'string' }, prompt: { type: 'string' } }, required: ['agent_id', 'prompt'] },
  ],
];
