import { TaskState, type Message, type Task } from '@a2a-js/sdk';
import { AgentEvent, type AgentExecutor, type ExecutionEventBus, type RequestContext } from '@a2a-js/sdk/server';
import { isObject } from '../util/values.js';
import { agentMessage, artifact, dataPart, readMessage, textPart, type ToolRequest } from './parts.js';
import { CALLER_KEYS, type A2aCaller, type A2aRuntime } from './runtime.js';

/** The reply to free text when no chat answers it. */
export const ACKNOWLEDGED = 'Acknowledged.';

interface ActionOutcome {
  action_id?: unknown;
  status?: unknown;
  output?: unknown;
  error?: unknown;
}

/**
 * Runs A2A messages on the daemon, by the CAR mapping: each `data` part `{tool, parameters}` is
 * one `tool_call` action of a single proposal (text rides along as `context.a2a_text`), one
 * artifact per action result; free text alone goes to the shared chat, or is acknowledged. A2UI
 * parts go onto the host's surfaces first, owned by the task and its context.
 * States go SUBMITTED → WORKING → COMPLETED / FAILED, or CANCELED at once on cancel: a tool call
 * already running finishes, and its result is dropped.
 */
export class CarAgentExecutor implements AgentExecutor {
  private readonly canceled = new Set<string>();
  /** Running task id → its context id. */
  private readonly running = new Map<string, string>();
  private readonly stopping = new AbortController();

  constructor(private readonly runtime: A2aRuntime) {}

  /** Abort every task still running (the listener is going away). */
  stop(reason: unknown): void {
    this.stopping.abort(reason);
  }

  execute = async (ctx: RequestContext, bus: ExecutionEventBus): Promise<void> => {
    const { taskId, contextId } = ctx;
    const message = ctx.userMessage;
    const content = readMessage(message);
    const task: Task = ctx.task ?? {
      id: taskId,
      contextId,
      status: { state: TaskState.TASK_STATE_SUBMITTED, message: undefined, timestamp: now() },
      artifacts: [],
      history: [message],
      metadata: undefined,
    };
    bus.publish(AgentEvent.task(task));
    this.running.set(taskId, contextId);
    const live = (): boolean => !this.canceled.has(taskId);
    const status = (state: TaskState, reply?: Message): void => {
      if (!live()) return;
      bus.publish(AgentEvent.statusUpdate({ taskId, contextId, status: { state, message: reply, timestamp: now() }, metadata: undefined }));
    };
    status(TaskState.TASK_STATE_WORKING);
    try {
      const ingest = this.runtime.ingestA2ui;
      const a2ui = content.a2ui.length > 0 && ingest !== undefined ? ingest(content.a2ui, { taskId, contextId }) : undefined;
      if (content.tools.length > 0) {
        await this.runTools(ctx, bus, content.tools, content.text, live, status);
      } else {
        const reply = this.runtime.chat !== null && content.text !== '' ? await this.runtime.chat(content.text, this.stopping.signal) : ACKNOWLEDGED;
        const message = agentMessage(taskId, contextId, [textPart(reply)]);
        if (a2ui !== undefined) message.metadata = { a2ui };
        status(TaskState.TASK_STATE_COMPLETED, message);
      }
    } catch (err) {
      status(TaskState.TASK_STATE_FAILED, agentMessage(taskId, contextId, [textPart(err instanceof Error ? err.message : String(err))]));
    } finally {
      this.canceled.delete(taskId);
      this.running.delete(taskId);
    }
  };

  private async runTools(
    ctx: RequestContext,
    bus: ExecutionEventBus,
    tools: ToolRequest[],
    text: string,
    live: () => boolean,
    status: (state: TaskState, reply?: Message) => void,
  ): Promise<void> {
    const { taskId, contextId } = ctx;
    const context: Record<string, unknown> = { a2a_task_id: taskId, a2a_context_id: contextId };
    if (text !== '') context.a2a_text = text;
    const caller = callerOf(ctx.userMessage);
    if (caller !== undefined) context.a2a_caller = caller;
    const proposal = {
      id: taskId,
      source: 'a2a',
      timestamp: now(),
      context,
      actions: tools.map((t, i) => ({ id: `a${i + 1}`, type: 'tool_call', tool: t.tool, parameters: t.parameters })),
    };
    const result = await this.runtime.submit(proposal, this.stopping.signal);
    if (!live()) return;
    const outcomes: ActionOutcome[] = isObject(result) && Array.isArray(result.results) ? (result.results as ActionOutcome[]) : [];
    let failed = outcomes.length === 0;
    for (const [i, outcome] of outcomes.entries()) {
      const actionId = typeof outcome.action_id === 'string' ? outcome.action_id : `a${i + 1}`;
      const tool = tools[Number(actionId.slice(1)) - 1]?.tool ?? actionId;
      if (outcome.status !== 'succeeded') failed = true;
      bus.publish(
        AgentEvent.artifactUpdate({
          taskId,
          contextId,
          artifact: artifact(`${taskId}-${actionId}`, tool, [dataPart(outcome)]),
          append: false,
          lastChunk: true,
          metadata: undefined,
        }),
      );
    }
    const summary = failed ? failureText(outcomes) : `${outcomes.length} action(s) succeeded`;
    status(failed ? TaskState.TASK_STATE_FAILED : TaskState.TASK_STATE_COMPLETED, agentMessage(taskId, contextId, [textPart(summary)]));
  }

  cancelTask = async (taskId: string, bus: ExecutionEventBus): Promise<void> => {
    this.canceled.add(taskId);
    const contextId = this.running.get(taskId) ?? '';
    bus.publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId,
        status: { state: TaskState.TASK_STATE_CANCELED, message: undefined, timestamp: now() },
        metadata: undefined,
      }),
    );
  };
}

function now(): string {
  return new Date().toISOString();
}

function failureText(outcomes: ActionOutcome[]): string {
  const errors = outcomes.filter((o) => o.status !== 'succeeded').map((o) => `${String(o.action_id)}: ${String(o.error ?? o.status)}`);
  return errors.length === 0 ? 'no action ran' : errors.join('; ');
}

const PEER_SUBJECT = /^(car-)?peer:/i;

function callerOf(message: Message): A2aCaller | undefined {
  const meta = message.metadata;
  if (!isObject(meta)) return undefined;
  const out: A2aCaller = {};
  for (const key of CALLER_KEYS) {
    const v = meta[key];
    // Unverified metadata never poses as a peer identity: those names come from the peer listener only.
    if (typeof v === 'string' && !PEER_SUBJECT.test(v)) out[key] = v;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
