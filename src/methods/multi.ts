import { setMaxListeners } from 'node:events';
import { z } from 'zod';
import { defineMethod, type MethodContext, type MethodSpec } from '../contract/index.js';
import { EventKind } from '../engine/event-kinds.js';
import { inDaemonRunner } from '../multi/inference-agent.js';
import { MultiRunner, mapReduce, pipeline, subtask, supervisor, swarm, tournament, vote, type AgentRunnerFn, type AgentSpec, type BudgetLimits } from '../multi/index.js';
import { ErrorCode, RemoteError } from '../rpc/errors.js';
import { CarError } from '../util/errors.js';
import { recordMetering } from './inference-common.js';

const agentSpec = z
  .object({
    name: z.string().min(1).max(256),
    system_prompt: z.string().max(1024 * 1024),
    tools: z.array(z.string().max(256)).max(1024),
    max_turns: z.number().int().min(0).max(10_000),
    metadata: z.record(z.string(), z.unknown()),
    cache_control: z.unknown().optional(),
  })
  .loose();
const agents = z.array(agentSpec).min(1).max(1024);
const task = z.string().max(1024 * 1024);
const budget = z
  .object({
    max_input_tokens: z.number().nonnegative().optional(),
    max_output_tokens: z.number().nonnegative().optional(),
    max_total_tokens: z.number().nonnegative().optional(),
    max_cost_usd: z.number().nonnegative().optional(),
    max_agents: z.number().int().nonnegative().optional(),
  })
  .optional();

/**
 * How one call runs its agents: the caller's `multi.run_agent` callback; when the caller does not
 * serve it (-32601) and a model is available, the daemon's own inference with the caller's tools.
 */
function runnerFor(ctx: MethodContext): AgentRunnerFn {
  const { session, state } = ctx;
  let callerServes = true;
  const inDaemon = inDaemonRunner({
    async generate(req, model, signal) {
      const { result, metering } = await state.inference.generate(req, { model, signal });
      recordMetering(ctx, metering, ctx.method);
      return { text: result.text, tool_calls: result.tool_calls, usage: { input_tokens: metering.tokens_in, output_tokens: metering.tokens_out, cost_usd: metering.cost_usd ?? 0 } };
    },
    tools: (names) =>
      names.flatMap((name) => {
        const def = session.tools.get(name);
        return def === undefined ? [] : [{ name, description: def.description, parameters: (def.parameters ?? { type: 'object' }) as Record<string, unknown> }];
      }),
    async execute(tool, args, signal) {
      const outcome = await session.toolExecutor.execute({ tool, parameters: args }, signal);
      return outcome.ok ? { ok: true, output: outcome.output } : { ok: false, error: outcome.error };
    },
  });
  return async (spec, agentTask, signal) => {
    if (callerServes) {
      try {
        const output = await session.channel.request('multi.run_agent', { spec, task: agentTask }, { timeoutMs: state.config.multiRunAgentTimeoutMs, signal });
        return { output };
      } catch (err) {
        if (!(err instanceof RemoteError && err.code === ErrorCode.MethodNotFound)) throw err;
        callerServes = false;
      }
    }
    if (!(await state.inference.hasAvailable('generate'))) {
      throw new CarError('unavailable', 'the caller does not serve multi.run_agent and no model is configured to run the agent in the daemon');
    }
    return inDaemon(spec, agentTask, signal);
  };
}

/** A runner for one call: budget, concurrency, and every agent run registered with the host and metered. */
function multiRunner(ctx: MethodContext, limits: BudgetLimits | undefined): { runner: MultiRunner; done: () => void } {
  const { host } = ctx.state;
  const caller = ctx.session.clientId;
  const registered: string[] = [];
  // Every agent in flight waits on the call's signal.
  setMaxListeners(ctx.state.config.multiMaxConcurrency + 16, ctx.signal);
  const runner = new MultiRunner({
    runAgent: runnerFor(ctx),
    budget: limits,
    maxConcurrency: ctx.state.config.multiMaxConcurrency,
    signal: ctx.signal,
    hooks: {
      started(runId, spec, agentTask) {
        host.registerAgent(caller, { id: runId, name: spec.name, kind: 'multi-agent', metadata: { pattern: ctx.method } });
        host.setStatus(caller, { agent_id: runId, status: 'running', current_task: agentTask.slice(0, 200) });
        registered.push(runId);
      },
      finished(runId, spec, output, usage) {
        host.setStatus(caller, { agent_id: runId, status: output.error === null ? 'completed' : 'errored', message: output.error ?? undefined });
        if (usage.input_tokens + usage.output_tokens + usage.cost_usd > 0) {
          ctx.session.events.append(EventKind.InferenceMetered, {
            data: {
              agent: ctx.session.agentId,
              model: typeof spec.metadata.model === 'string' ? spec.metadata.model : spec.name,
              provider: 'multi.run_agent',
              method: ctx.method,
              tokens_in: usage.input_tokens,
              tokens_out: usage.output_tokens,
              tokens_cached: 0,
              cache_creation_tokens: 0,
              cost_usd: usage.cost_usd,
              priced: usage.cost_usd > 0,
              latency_ms: output.duration_ms,
            },
          });
        }
      },
    },
  });
  const done = (): void => {
    for (const id of registered) if (host.getAgent(id) !== undefined) host.unregisterAgent(caller, id);
  };
  return { runner, done };
}

async function run<T>(ctx: MethodContext, limits: BudgetLimits | undefined, fn: (r: MultiRunner) => Promise<T>): Promise<T & { budget_used: ReturnType<MultiRunner['budget']['summary']> }> {
  const { runner, done } = multiRunner(ctx, limits);
  try {
    const result = await fn(runner);
    return { ...result, budget_used: runner.budget.summary() };
  } finally {
    done();
  }
}

const spec = (s: z.infer<typeof agentSpec>): AgentSpec => s as AgentSpec;
const deadline = (_p: unknown, state: { config: { handlerTimeoutMs: number } }): number => state.config.handlerTimeoutMs;

export const multiMethods: MethodSpec[] = [
  defineMethod({
    name: 'multi.swarm',
    summary: 'Run agents on one task: parallel, sequential (each sees the answers so far) or hybrid (a parallel round, then revisions); an optional synthesizer merges. Agents run through the caller\'s multi.run_agent.',
    params: z.object({ mode: z.enum(['parallel', 'sequential', 'hybrid', 'debate']), agents, task, synthesizer: agentSpec.optional(), budget }),
    deadlineMs: deadline,
    handler: (p, ctx) => run(ctx, p.budget, (r) => swarm(r, p.mode, p.agents.map(spec), p.task, p.synthesizer && spec(p.synthesizer))),
  }),
  defineMethod({
    name: 'multi.pipeline',
    summary: "Stages in order, each stage's answer the next one's input; every stage appears in stages with its error.",
    params: z.object({ stages: agents, task, budget }),
    deadlineMs: deadline,
    handler: (p, ctx) => run(ctx, p.budget, (r) => pipeline(r, p.stages.map(spec), p.task)),
  }),
  defineMethod({
    name: 'multi.supervisor',
    summary: 'Workers answer in parallel each round; the supervisor reviews and either ends the run (DONE: …) or gives the next instruction, for at most max_rounds (default 3).',
    params: z.object({ workers: agents, supervisor: agentSpec, task, max_rounds: z.number().int().min(1).max(100).optional(), budget }),
    deadlineMs: deadline,
    handler: (p, ctx) => run(ctx, p.budget, (r) => supervisor(r, p.workers.map(spec), spec(p.supervisor), p.task, p.max_rounds ?? 3)),
  }),
  defineMethod({
    name: 'multi.map_reduce',
    summary: 'The mapper on every item in parallel, then the reducer over their answers.',
    params: z.object({ mapper: agentSpec, reducer: agentSpec, items: z.array(z.unknown()).max(10_000), task, budget }),
    deadlineMs: deadline,
    handler: (p, ctx) => run(ctx, p.budget, (r) => mapReduce(r, spec(p.mapper), spec(p.reducer), p.items, p.task)),
  }),
  defineMethod({
    name: 'multi.vote',
    summary: 'Independent answers in parallel; the most common answer wins, or the synthesizer decides.',
    params: z.object({ agents, task, synthesizer: agentSpec.optional(), budget }),
    deadlineMs: deadline,
    handler: (p, ctx) => run(ctx, p.budget, (r) => vote(r, p.agents.map(spec), p.task, p.synthesizer && spec(p.synthesizer))),
  }),
  defineMethod({
    name: 'multi.tournament',
    summary: 'Everyone answers, then pairwise single elimination with a fresh judge per match (an odd one out gets a bye): {task, candidates, matches, winner_name, winner_answer, ranking}.',
    params: z.object({ competitors: agents, judge: agentSpec, task, budget }),
    deadlineMs: deadline,
    handler: (p, ctx) => run(ctx, p.budget, (r) => tournament(r, p.competitors.map(spec), spec(p.judge), p.task)),
  }),
  defineMethod({
    name: 'multi.subtask',
    summary: 'The main agent may split the task into subtasks (spawn_subtask), each granted only tools from main.tools; then it writes the final answer: {task, final_answer, subtasks}.',
    params: z.object({ main: agentSpec, task, budget }),
    deadlineMs: deadline,
    handler: (p, ctx) => run(ctx, p.budget, (r) => subtask(r, spec(p.main), p.task, ctx.state.config.multiMaxSubtasks)),
  }),
];
