import { randomUUID } from 'node:crypto';
import { isObject } from '../util/values.js';
import { Budget } from './budget.js';
import type { AgentOutput, AgentRunnerFn, AgentSpec, BudgetLimits, RunHooks, RunUsage } from './types.js';

/** An AgentOutput from whatever a runner answered (`response` for `answer`, an array of tool calls counted). */
export function normalizeOutput(spec: AgentSpec, raw: unknown, durationMs: number): AgentOutput {
  let value = raw;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      value = { answer: value };
    }
  }
  const o = isObject(value) ? value : {};
  const answer = typeof o.answer === 'string' ? o.answer : typeof o.response === 'string' ? o.response : '';
  const toolCalls = Array.isArray(o.tool_calls) ? o.tool_calls.length : typeof o.tool_calls === 'number' ? o.tool_calls : 0;
  return {
    name: typeof o.name === 'string' && o.name !== '' ? o.name : spec.name,
    answer,
    turns: typeof o.turns === 'number' ? o.turns : 1,
    tool_calls: toolCalls,
    duration_ms: typeof o.duration_ms === 'number' ? o.duration_ms : durationMs,
    error: typeof o.error === 'string' && o.error !== '' ? o.error : null,
  };
}

function usageOf(raw: unknown, reported: Partial<RunUsage> | undefined): RunUsage {
  const o = isObject(raw) && isObject(raw.usage) ? raw.usage : {};
  const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
  return {
    input_tokens: num(reported?.input_tokens ?? o.input_tokens ?? o.prompt_tokens),
    output_tokens: num(reported?.output_tokens ?? o.output_tokens ?? o.completion_tokens),
    cost_usd: num(reported?.cost_usd ?? o.cost_usd),
  };
}

/** A small counting semaphore: at most `max` agents of one call run at once. */
class Slots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

export interface MultiRunnerOptions {
  runAgent: AgentRunnerFn;
  budget?: BudgetLimits;
  /** Agents of this call running at once. */
  maxConcurrency: number;
  signal: AbortSignal;
  hooks?: RunHooks;
}

/**
 * Runs the agents of one multi-agent call: the budget decides who may start (a refused agent is
 * an output with `error`), every run is reported to the hooks, answers are normalised.
 */
export class MultiRunner {
  readonly budget: Budget;
  private readonly slots: Slots;

  constructor(private readonly opts: MultiRunnerOptions) {
    this.budget = new Budget(opts.budget);
    this.slots = new Slots(opts.maxConcurrency);
  }

  /** Run one agent; never throws (a failure is an output with `error`). `null` when the budget refused it. */
  async tryRun(spec: AgentSpec, task: string): Promise<AgentOutput | null> {
    const refused = this.budget.admit();
    if (refused !== null) return null;
    return this.slots.run(() => this.execute(spec, task));
  }

  /** Run one agent; a refusal is an output with the budget error. */
  async run(spec: AgentSpec, task: string): Promise<AgentOutput> {
    const refused = this.budget.admit();
    if (refused !== null) return refusedOutput(spec, refused);
    return this.slots.run(() => this.execute(spec, task));
  }

  private async execute(spec: AgentSpec, task: string): Promise<AgentOutput> {
    const runId = `run-${randomUUID()}`;
    this.opts.hooks?.started?.(runId, spec, task);
    const t0 = performance.now();
    let output: AgentOutput;
    let usage: RunUsage = { input_tokens: 0, output_tokens: 0, cost_usd: 0 };
    try {
      this.opts.signal.throwIfAborted();
      const { output: raw, usage: reported } = await this.opts.runAgent(spec, task, this.opts.signal);
      output = normalizeOutput(spec, raw, Math.round(performance.now() - t0));
      usage = usageOf(raw, reported);
    } catch (err) {
      output = { name: spec.name, answer: '', turns: 0, tool_calls: 0, duration_ms: Math.round(performance.now() - t0), error: (err as Error).message };
    }
    this.budget.add(usage);
    this.opts.hooks?.finished?.(runId, spec, output, usage);
    return output;
  }
}

export function refusedOutput(spec: AgentSpec, limit: string): AgentOutput {
  return { name: spec.name, answer: '', turns: 0, tool_calls: 0, duration_ms: 0, error: `budget exhausted: ${limit}; agent not started` };
}
