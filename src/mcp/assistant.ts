import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { z } from 'zod';
import type { ChatMessage, GenerateRequest, GenerateResult, ToolSpec } from '../inference/types.js';
import { CarError } from '../util/errors.js';
import type { McpHost } from './host.js';
import type { McpSessionState, McpTool } from './tool.js';
import { IdleSweeper } from '../util/idle-sweeper.js';

export interface AssistantLimits {
  /** Runs in progress at once; one more start is refused. */
  maxRuns: number;
  /** A run nobody polled for this long is cancelled, and a finished one forgotten. */
  idleMs: number;
  /** Events kept per run; older ones are dropped (reported as `events_skipped`). */
  maxEvents: number;
  /** Model turns per run; a run still calling tools after the last one fails. */
  maxTurns: number;
}

/** One model turn: the daemon runs it on its inference service (admission, routing, metering). */
export type AssistantModel = (req: GenerateRequest, opts: { local: boolean; signal: AbortSignal }) => Promise<GenerateResult>;

export type RunStatus = 'running' | 'ok' | 'error' | 'cancelled';

export interface RunEvent {
  seq: number;
  type: string;
  [field: string]: unknown;
}

export interface StartRequest {
  task: string;
  cwd: string;
  until?: string;
  local?: boolean;
  invoked_by?: string;
}

interface Run {
  id: string;
  request: StartRequest;
  status: RunStatus;
  events: RunEvent[];
  nextSeq: number;
  lastPolled: number;
  cancelRequested: boolean;
  abort: AbortController;
  result?: Record<string, unknown>;
  error?: string;
}

const SYSTEM = [
  "You are CAR's assistant, started by an MCP client. Work on the task with the tools you are given:",
  'the shared memory graph (memory_*), skills (skill_*), proposal checks (verify, simulate, equivalent,',
  'optimize) and policy_check. You cannot run shell commands or touch files. When you are done, answer',
  'with a short final message and call no tool.',
].join(' ');

/**
 * The runs behind `assistant_start` / `assistant_poll` / `assistant_cancel`: each is a tool-using
 * loop on a model over the MCP tools. The registry lives in memory only. Emits `finished`
 * (run id, status) when a run ends.
 */
export class AssistantRuns extends EventEmitter {
  private readonly runs = new Map<string, Run>();
  private readonly sweeper: IdleSweeper;
  private readonly specs: ToolSpec[];

  constructor(
    private readonly host: McpHost,
    private readonly tools: readonly McpTool[],
    private readonly model: AssistantModel,
    readonly limits: AssistantLimits,
  ) {
    super();
    this.sweeper = new IdleSweeper(limits.idleMs, 60_000, () => this.sweep());
    this.specs = tools.map((t) => ({ name: t.name, description: t.description, parameters: z.toJSONSchema(z.object(t.input), { io: 'input' }) as Record<string, unknown> }));
  }

  get running(): number {
    let n = 0;
    for (const r of this.runs.values()) if (r.status === 'running') n++;
    return n;
  }

  start(req: StartRequest): { run_id: string; status: 'running'; poll_after_ms: number; sandbox: Record<string, unknown> } {
    if (this.running >= this.limits.maxRuns) {
      throw new CarError('limit', `too many assistant runs in progress (limit ${this.limits.maxRuns}); cancel one or wait for one to finish`, {
        limit: this.limits.maxRuns,
      });
    }
    const run: Run = {
      id: `mcp-run-${randomUUID()}`,
      request: req,
      status: 'running',
      events: [],
      nextSeq: 0,
      lastPolled: Date.now(),
      cancelRequested: false,
      abort: new AbortController(),
    };
    this.runs.set(run.id, run);
    this.sweeper.arm();
    this.record(run, 'started', { task: req.task, ...(req.invoked_by !== undefined && { invoked_by: req.invoked_by }) });
    void this.loop(run);
    return { run_id: run.id, status: 'running', poll_after_ms: 2000, sandbox: this.sandbox(req) };
  }

  poll(runId: string, sinceSeq: number): Record<string, unknown> {
    const run = this.get(runId);
    run.lastPolled = Date.now();
    const first = run.events[0]?.seq ?? run.nextSeq;
    const events = run.events.filter((e) => e.seq >= sinceSeq);
    const out: Record<string, unknown> = {
      status: run.status,
      events,
      next_seq: run.nextSeq,
      events_skipped: Math.max(0, first - Math.max(0, sinceSeq)),
    };
    if (run.result !== undefined) out.result = run.result;
    if (run.error !== undefined) out.error = run.error;
    return out;
  }

  /** Ask the run to stop; it does at its next turn boundary (a model call in flight finishes first). */
  cancel(runId: string): { run_id: string; status: RunStatus; cancel_requested: boolean } {
    const run = this.get(runId);
    if (run.status === 'running') run.cancelRequested = true;
    return { run_id: run.id, status: run.status, cancel_requested: run.cancelRequested };
  }

  /** Stop every run now (daemon shutdown). */
  close(): void {
    for (const run of this.runs.values()) {
      run.cancelRequested = true;
      run.abort.abort(new CarError('unavailable', 'the daemon is shutting down'));
    }
    this.sweeper.disarm();
  }

  private get(runId: string): Run {
    const run = this.runs.get(runId);
    if (!run) throw new CarError('not_found', `unknown assistant run '${runId}'`, { field: 'run_id' });
    return run;
  }

  private sandbox(req: StartRequest): Record<string, unknown> {
    return { cwd: req.cwd, filesystem: 'none', network: 'none', tools: this.tools.map((t) => t.name) };
  }

  private record(run: Run, type: string, data: Record<string, unknown> = {}): void {
    run.events.push({ seq: run.nextSeq++, type, ...data });
    if (run.events.length > this.limits.maxEvents) run.events.splice(0, run.events.length - this.limits.maxEvents);
  }

  private finish(run: Run, status: Exclude<RunStatus, 'running'>, detail: { result?: Record<string, unknown>; error?: string }): void {
    run.status = status;
    if (detail.result) run.result = detail.result;
    if (detail.error !== undefined) run.error = detail.error;
    this.record(run, status === 'ok' ? 'done' : status, detail.error === undefined ? {} : { error: detail.error });
    this.emit('finished', run.id, status);
  }

  private async loop(run: Run): Promise<void> {
    const { task, until } = run.request;
    const messages: ChatMessage[] = [{ role: 'user', content: until === undefined ? task : `${task}\n\nStop when: ${until}` }];
    const session: McpSessionState = { id: run.id, status: new Map() };
    let toolCalls = 0;
    try {
      for (let turn = 1; turn <= this.limits.maxTurns; turn++) {
        if (run.cancelRequested) return this.finish(run, 'cancelled', {});
        const reply = await this.model({ system: SYSTEM, messages, tools: this.specs }, { local: run.request.local === true, signal: run.abort.signal });
        this.record(run, 'model_turn', { turn, model: reply.model_used, text: reply.text, tool_calls: reply.tool_calls.map((c) => c.name) });
        if (reply.tool_calls.length === 0) {
          return this.finish(run, 'ok', {
            result: { schema: 'car.do/1', answer: reply.text, turns: turn, tool_calls: toolCalls, model: reply.model_used },
          });
        }
        messages.push({ role: 'assistant', content: reply.text || null, tool_calls: reply.tool_calls });
        for (const call of reply.tool_calls) {
          toolCalls++;
          const { text, isError } = await this.callTool(call.name, call.arguments, session, run.abort.signal);
          this.record(run, 'tool_result', { tool: call.name, is_error: isError });
          messages.push({ role: 'tool', tool_call_id: call.id, name: call.name, content: text });
        }
      }
      this.finish(run, 'error', { error: `the run reached its turn limit (${this.limits.maxTurns}) while still calling tools` });
    } catch (err) {
      if (run.cancelRequested) this.finish(run, 'cancelled', {});
      else this.finish(run, 'error', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** A tool call of the model: its arguments checked like an MCP client's, failures given back as text. */
  private async callTool(name: string, args: unknown, session: McpSessionState, signal: AbortSignal): Promise<{ text: string; isError: boolean }> {
    const tool = this.tools.find((t) => t.name === name);
    if (!tool) return { text: `unknown tool: ${name}`, isError: true };
    const parsed = z.object(tool.input).safeParse(args ?? {});
    if (!parsed.success) return { text: `invalid arguments for ${name}: ${z.prettifyError(parsed.error)}`, isError: true };
    try {
      const result = await tool.run(parsed.data as never, { host: this.host, session, signal });
      return { text: JSON.stringify(result), isError: false };
    } catch (err) {
      return { text: err instanceof Error ? err.message : String(err), isError: true };
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, run] of this.runs) {
      if (now - run.lastPolled < this.limits.idleMs) continue;
      if (run.status === 'running') {
        run.cancelRequested = true;
        this.record(run, 'idle_cancel', { idle_ms: now - run.lastPolled });
      } else {
        this.runs.delete(id);
      }
    }
    if (this.runs.size === 0) this.sweeper.disarm();
  }
}
