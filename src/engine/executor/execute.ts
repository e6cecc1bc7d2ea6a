import { buildDag, type Dag } from '../dag.js';
import { EventKind } from '../event-kinds.js';
import type { Action, ActionProposal } from '../ir.js';
import type { StateLookup } from '../preconditions.js';
import type { StateView } from '../state-store.js';
import type { ToolExecutor } from '../tool-executor.js';
import { changesForResult, runAttempt, type AttemptOutcome, type RunnerContext } from './action-runners.js';
import { admit, failedPrecondition } from './admission.js';
import type { Resolution } from './interpolation.js';
import { buildCost, nowIso, outputPreview, pendingResult, roundMs } from './result.js';
import { UndoLog } from './rollback.js';
import type { ActionResult, ActionStatus, ExecuteOptions, PolicyViolation, ProposalResult } from './types.js';

export const DEFAULT_MAX_CONCURRENCY = 64;

/**
 * Execute a parsed proposal: DAG level by level, the actions of a level concurrently (at most
 * `maxConcurrency` at once), each through admission, preconditions and its runner, with
 * `failure_behavior` deciding what a failure does to the rest. Never throws for anything an
 * action does; the outcome of every action is in the result, in proposal order.
 */
export function executeProposal(proposal: ActionProposal, options: ExecuteOptions): Promise<ProposalResult> {
  return new ProposalRun(proposal, options).run();
}

const PENDING: Resolution = { ok: false, status: 'pending' };

class ProposalRun implements RunnerContext {
  readonly executor: ToolExecutor;
  readonly undo: UndoLog;
  readonly signal: AbortSignal | undefined;
  readonly sessionId: string | undefined;
  private readonly view: StateView;
  private readonly actions: readonly Action[];
  private readonly indexOf = new Map<string, number>();
  private readonly results: ActionResult[];
  private readonly violations: PolicyViolation[] = [];
  private readonly cap: number;
  private readonly dag: Dag;
  private toolCalls = 0;
  private retries = 0;
  /** Why the proposal stopped; null while it runs on. */
  private abortReason: string | null = null;

  readonly lookup: StateLookup = (key) => {
    const present = this.view.has(key);
    return { present, value: present ? this.view.get(key) : null };
  };

  private readonly resolve = (id: string): Resolution | undefined => {
    const i = this.indexOf.get(id);
    if (i === undefined) return undefined;
    const r = this.results[i] as ActionResult;
    if (r.status === 'succeeded') return { ok: true, value: r.output };
    return r.status === 'proposed' ? PENDING : { ok: false, status: r.status };
  };

  constructor(
    private readonly proposal: ActionProposal,
    private readonly options: ExecuteOptions,
  ) {
    this.executor = options.executor;
    this.signal = options.signal;
    this.sessionId = options.sessionId;
    this.view = options.store.view(options.tenant);
    this.undo = new UndoLog(this.view);
    this.actions = proposal.actions;
    this.results = this.actions.map((a, i) => {
      this.indexOf.set(a.id, i);
      return pendingResult(a.id);
    });
    this.cap = Math.max(1, Math.floor(options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY));
    this.dag = buildDag(this.actions);
  }

  get(key: string): unknown {
    return this.view.get(key);
  }

  countToolCall(): void {
    this.toolCalls++;
  }

  async run(): Promise<ProposalResult> {
    const started = performance.now();
    this.emit(EventKind.ProposalReceived, undefined, { source: this.proposal.source, actions: this.actions.length });
    this.rejectCycles();
    for (const level of this.dag.levels) {
      if (this.abortReason !== null) break;
      await this.runLevel(level);
    }
    if (this.abortReason !== null) this.finishAborted();

    const cost = buildCost(this.results, { toolCalls: this.toolCalls, retries: this.retries }, performance.now() - started);
    const status =
      this.results.length > 0 && this.results.every((r) => r.status === 'rejected')
        ? 'rejected'
        : this.abortReason !== null
          ? 'aborted'
          : 'completed';
    this.emit(EventKind.ProposalCompleted, undefined, { cost, status });
    const result: ProposalResult = { proposal_id: this.proposal.id, results: this.results, cost };
    if (this.violations.length > 0) result.violations = this.violations;
    return result;
  }

  /** Actions caught in a dependency cycle can never be ordered: reject them up front. */
  private rejectCycles(): void {
    if (this.dag.cyclic.length === 0) return;
    const members = this.dag.cyclic.map((id) => `'${id}'`).join(', ');
    for (const id of this.dag.cyclic) {
      const i = this.indexOf.get(id) as number;
      this.reject(i, this.actions[i] as Action, performance.now(), `dependency cycle among ${members}`);
    }
  }

  private async runLevel(level: readonly string[]): Promise<void> {
    if (level.length === 1) {
      await this.runOne(level[0] as string);
      return;
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < level.length && this.abortReason === null) {
        await this.runOne(level[next++] as string);
      }
    };
    const workers: Promise<void>[] = [];
    for (let w = Math.min(this.cap, level.length); w > 0; w--) workers.push(worker());
    await Promise.all(workers);
  }

  private runOne(id: string): Promise<void> | void {
    if (this.signal?.aborted) {
      this.abort(`cancelled: ${describeReason(this.signal.reason)}`);
      return;
    }
    const i = this.indexOf.get(id) as number;
    return this.runAction(i, this.actions[i] as Action);
  }

  private async runAction(i: number, action: Action): Promise<void> {
    const t0 = performance.now();
    for (const dep of this.dag.predecessors.get(action.id) ?? []) {
      const status = (this.results[this.indexOf.get(dep) as number] as ActionResult).status;
      if (status !== 'succeeded') {
        this.skip(i, action, t0, `dependency '${dep}' did not succeed (${status})`);
        return;
      }
    }

    const admission = admit(action, this.options, this.resolve, this.lookup);
    if (admission.kind === 'rejected') {
      for (const d of admission.denials) {
        this.violations.push({ policy_name: d.policy_name, action_id: action.id, reason: d.reason });
        this.emit(EventKind.PolicyViolation, action.id, { policy_name: d.policy_name, reason: d.reason });
      }
      this.reject(i, action, t0, admission.reason);
      return;
    }
    if (admission.kind === 'failed') {
      this.emitFailed(action, admission.error, t0, 1, false);
      this.fail(i, action, t0, admission.error);
      return;
    }

    const attempts = action.failure_behavior === 'retry' ? action.max_retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) this.retries++;
      const unmet = failedPrecondition(action, this.lookup);
      const pending: AttemptOutcome | Promise<AttemptOutcome> =
        unmet === null ? runAttempt(this, action, admission.parameters, attempt) : { ok: false, error: unmet, retryable: true };
      const outcome = pending instanceof Promise ? await pending : pending;
      if (outcome.ok) {
        this.succeed(i, action, t0, attempt, outcome.output, changesForResult(outcome.changes));
        return;
      }
      const again = outcome.retryable && attempt < attempts && this.abortReason === null && !this.signal?.aborted;
      this.emitFailed(action, outcome.error, t0, attempt, again);
      if (!again) {
        this.fail(i, action, t0, outcome.error);
        return;
      }
    }
  }

  private settle(i: number, t0: number, status: ActionStatus, output: unknown, error: string | null, changes: Record<string, unknown>): void {
    const r = this.results[i] as ActionResult;
    r.status = status;
    r.output = output;
    r.error = error;
    r.state_changes = changes;
    r.duration_ms = roundMs(performance.now() - t0);
    r.timestamp = nowIso();
  }

  private succeed(i: number, action: Action, t0: number, attempt: number, output: unknown, changes: Record<string, unknown>): void {
    this.settle(i, t0, 'succeeded', output, null, changes);
    if (this.options.events === undefined) return;
    const data: Record<string, unknown> = { duration_ms: (this.results[i] as ActionResult).duration_ms, attempt };
    if (action.tool !== undefined) data.tool = action.tool;
    const preview = outputPreview(output);
    if (preview !== undefined) data.output_preview = preview;
    this.emit(EventKind.ActionSucceeded, action.id, data);
  }

  /** A failure after the last attempt: `skip` carries on, `abort` and `retry` stop the proposal. */
  private fail(i: number, action: Action, t0: number, error: string): void {
    if (action.failure_behavior === 'skip') {
      this.skip(i, action, t0, `failed, skipped per failure_behavior: ${error}`, error);
      return;
    }
    this.settle(i, t0, 'failed', null, error, {});
    this.abort(`action '${action.id}' failed`);
  }

  /** Blocked before running. Never retried: under `retry` it stops the proposal like `abort`. */
  private reject(i: number, action: Action, t0: number, reason: string): void {
    this.settle(i, t0, 'rejected', null, reason, {});
    const data: Record<string, unknown> = { reason };
    if (action.tool !== undefined) data.tool = action.tool;
    this.emit(EventKind.ActionRejected, action.id, data);
    if (action.failure_behavior !== 'skip') this.abort(`action '${action.id}' was rejected`);
  }

  private skip(i: number, action: Action, t0: number, reason: string, error: string = reason): void {
    this.settle(i, t0, 'skipped', null, error, {});
    this.emit(EventKind.ActionSkipped, action.id, { reason });
  }

  private emitFailed(action: Action, error: string, t0: number, attempt: number, willRetry: boolean): void {
    if (this.options.events === undefined) return;
    const data: Record<string, unknown> = { error, duration_ms: roundMs(performance.now() - t0), attempt, will_retry: willRetry };
    if (action.tool !== undefined) data.tool = action.tool;
    this.emit(EventKind.ActionFailed, action.id, data);
  }

  private abort(reason: string): void {
    if (this.abortReason === null) this.abortReason = reason;
  }

  /** Skip what never ran, restore the state the proposal wrote, and flag the earlier successes. */
  private finishAborted(): void {
    const reason = (this.abortReason as string).startsWith('cancelled:')
      ? (this.abortReason as string)
      : `not run: proposal aborted (${this.abortReason})`;
    const now = performance.now();
    this.results.forEach((r, i) => {
      if (r.status === 'proposed') this.skip(i, this.actions[i] as Action, now, reason);
    });
    this.undo.rollback();
    for (const r of this.results) {
      if (r.status !== 'succeeded') continue;
      r.rolled_back = true;
      this.emit(EventKind.ActionRolledBack, r.action_id, { rolled_back: true });
    }
  }

  private emit(kind: string, actionId: string | undefined, data: Record<string, unknown>): void {
    this.options.events?.append(kind, { proposal_id: this.proposal.id, action_id: actionId, data });
  }
}

function describeReason(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  if (reason === undefined) return 'the caller cancelled';
  return String(reason);
}
