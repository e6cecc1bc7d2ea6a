import { setMaxListeners } from 'node:events';
import { dagIndex, type DagIndex } from '../dag.js';
import { EventKind } from '../event-kinds.js';
import type { Action, ActionProposal } from '../ir.js';
import type { StateLookup } from '../preconditions.js';
import type { StateView } from '../state-store.js';
import type { ToolExecutor, ToolOutcome } from '../tool-executor.js';
import type { ToolDefinition } from '../tool-registry.js';
import type { ToolRateLimiter } from '../rate-limit.js';
import type { ToolResultCache } from './tool-cache.js';
import { changesForResult, runAttempt, ToolDispatch, type AttemptOutcome, type RunnerContext } from './action-runners.js';
import { admit, authorizeAttempt, failedPrecondition, unsupportedMode } from './admission.js';
import type { Resolution } from './interpolation.js';
import { buildCost, nowIso, outputPreview, pendingResult, roundMs } from './result.js';
import { UndoLog } from './rollback.js';
import type { ActionResult, ActionStatus, ExecuteOptions, PolicyViolation, ProposalResult } from './types.js';

export const DEFAULT_MAX_CONCURRENCY = 64;

/**
 * Execute a parsed proposal. Each action starts as soon as every action it depends on (its
 * `dependencies` and the writers of its `state_dependencies`) has settled, at most
 * `maxConcurrency` at once (`schedule: 'levels'` waits for whole DAG levels instead, as the
 * upstream does). Each passes admission, then per attempt its authorization, preconditions and
 * runner; `failure_behavior` decides what a failure does to the rest. Never throws for anything
 * an action does; the outcome of every action is in the result, in proposal order.
 */
export function executeProposal(proposal: ActionProposal, options: ExecuteOptions): Promise<ProposalResult> {
  return new ProposalRun(proposal, options).run();
}

const PENDING: Resolution = { ok: false, status: 'pending' };

class ProposalRun implements RunnerContext {
  readonly executor: ToolExecutor;
  readonly undo: UndoLog;
  readonly sessionId: string | undefined;
  private readonly view: StateView;
  private readonly actions: readonly Action[];
  /** Action id → position, made when a `$id.output` reference first needs it. */
  private positions: Map<string, number> | undefined;
  private readonly results: ActionResult[];
  private readonly violations: PolicyViolation[] = [];
  private readonly cap: number;
  private readonly dag: DagIndex;
  /** Stops in-flight tool calls when the proposal aborts (and follows the caller's signal). */
  private readonly controller = new AbortController();
  /** Unsettled predecessors per action (eager scheduling). */
  private readonly waiting: Int32Array;
  /** Actions ready to start, in the order they became ready. */
  private readonly ready: number[] = [];
  private head = 0;
  private running = 0;
  private pumping = false;
  private finished: (() => void) | null = null;
  private toolCalls = 0;
  private retries = 0;
  private halted = false;
  /** Why the proposal stopped; null while it runs on. */
  private abortReason: string | null = null;

  readonly lookup: StateLookup = (key) => {
    const present = this.view.has(key);
    return { present, value: present ? this.view.get(key) : null };
  };

  private readonly resolve = (id: string): Resolution | undefined => {
    this.positions ??= new Map(this.actions.map((a, j) => [a.id, j]));
    const i = this.positions.get(id);
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
    this.sessionId = options.sessionId;
    this.view = options.store.view(options.tenant);
    this.undo = new UndoLog(this.view);
    this.actions = proposal.actions;
    this.results = this.actions.map((a) => pendingResult(a.id));
    this.cap = Math.max(1, Math.floor(options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY));
    this.dag = dagIndex(this.actions);
    this.waiting = new Int32Array(this.actions.length);
    // Each in-flight tool call listens on the signal: up to the concurrency cap at once.
    setMaxListeners(this.cap + 16, this.controller.signal);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get(key: string): unknown {
    return this.view.get(key);
  }

  countToolCall(): void {
    this.toolCalls++;
  }

  toolDefinition(name: string): ToolDefinition | undefined {
    return this.options.tools?.(name);
  }

  get cache(): ToolResultCache | undefined {
    return this.options.toolCache;
  }

  get rateLimiter(): ToolRateLimiter | undefined {
    return this.options.rateLimiter;
  }

  emitEvent(kind: string, actionId: string, data: Record<string, unknown>): void {
    this.emit(kind, actionId, data);
  }

  async run(): Promise<ProposalResult> {
    const started = performance.now();
    this.emit(EventKind.ProposalReceived, undefined, { source: this.proposal.source, actions: this.actions.length });
    const outer = this.options.signal;
    const onOuterAbort = (): void => this.abort(`cancelled: ${describeReason(outer?.reason)}`, outer?.reason);
    if (outer?.aborted) onOuterAbort();
    else outer?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      this.rejectCycles();
      if (this.options.schedule === 'levels') {
        for (const level of this.dag.levels) {
          if (this.abortReason !== null) break;
          await this.drain(level);
        }
      } else {
        const roots: number[] = [];
        const cyclic = this.dag.cyclic.length > 0 ? new Set(this.dag.cyclic) : undefined;
        for (let i = 0; i < this.actions.length; i++) {
          const n = (this.dag.predecessors[i] as readonly number[]).length;
          this.waiting[i] = n;
          if (n === 0 && cyclic?.has(i) !== true) roots.push(i);
        }
        await this.drain(roots);
      }
    } finally {
      outer?.removeEventListener('abort', onOuterAbort);
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
    if (this.halted) result.halted = true;
    return result;
  }

  /** Actions caught in a dependency cycle can never be ordered: reject them up front. */
  private rejectCycles(): void {
    if (this.dag.cyclic.length === 0) return;
    const members = this.dag.cyclic.map((i) => `'${(this.actions[i] as Action).id}'`).join(', ');
    for (const i of this.dag.cyclic) {
      this.reject(i, this.actions[i] as Action, performance.now(), `dependency cycle among ${members}`);
    }
  }

  /** Run `start` and, in eager mode, everything that becomes ready; resolves when nothing runs. */
  private drain(start: readonly number[]): Promise<void> {
    for (const i of start) this.ready.push(i);
    return new Promise((resolve) => {
      this.finished = resolve;
      this.pump();
    });
  }

  /** Start ready actions up to the cap. Synchronous completions are handled in this loop. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    while (this.abortReason === null && this.running < this.cap && this.head < this.ready.length) {
      const i = this.ready[this.head++] as number;
      this.running++;
      if (!this.runAction(i, this.actions[i] as Action)) this.settled(i);
    }
    this.pumping = false;
    if (this.running === 0 && (this.head >= this.ready.length || this.abortReason !== null)) {
      const finished = this.finished;
      this.finished = null;
      finished?.();
    }
  }

  /** An action that went asynchronous has settled (or its runner threw `err`). */
  private afterAsync(i: number, err?: unknown): void {
    if (err !== undefined && (this.results[i] as ActionResult).status === 'proposed') {
      // A runner bug must not leave the proposal hanging.
      this.fail(i, this.actions[i] as Action, performance.now(), `internal error: ${describeReason(err)}`);
    }
    this.settled(i);
    this.pump();
  }

  /** One action settled: in eager mode its successors whose last predecessor this was are ready. */
  private settled(i: number): void {
    this.running--;
    if (this.options.schedule === 'levels') return;
    const successors = this.dag.successors[i] as readonly number[];
    for (let k = 0; k < successors.length; k++) {
      const j = successors[k] as number;
      if (--this.waiting[j]! === 0) this.ready.push(j);
    }
  }

  /** Start one action; true when it went asynchronous (`afterAsync` follows), false when it settled. */
  private runAction(i: number, action: Action): boolean {
    const t0 = performance.now();
    const predecessors = this.dag.predecessors[i] as readonly number[];
    for (let k = 0; k < predecessors.length; k++) {
      const p = predecessors[k] as number;
      const status = (this.results[p] as ActionResult).status;
      if (status !== 'succeeded') {
        this.reject(i, action, t0, `dependency '${(this.actions[p] as Action).id}' did not succeed (${status})`);
        return false;
      }
    }

    const admission = admit(action, this.options, this.resolve);
    if (admission.kind === 'rejected') {
      this.reject(i, action, t0, admission.reason);
      return false;
    }
    if (admission.kind === 'failed') {
      this.emitFailed(action, admission.error, t0, 1, false);
      this.fail(i, action, t0, admission.error);
      return false;
    }
    return this.attempt(i, action, t0, admission.parameters, 1);
  }

  /**
   * Attempts from `attempt` on; synchronous until an attempt has to wait for a tool. True when it
   * did (`afterAsync` follows once the action settles), false when the action settled.
   */
  private attempt(i: number, action: Action, t0: number, parameters: Record<string, unknown>, attempt: number): boolean {
    for (; ; attempt++) {
      if (attempt > 1) this.retries++;
      const authorization = authorizeAttempt(action, parameters, attempt, this.options, this.lookup);
      if (authorization !== null) {
        for (const d of authorization.denials) {
          this.violations.push({ policy_name: d.policy_name, action_id: action.id, reason: d.reason });
          this.emit(EventKind.PolicyViolation, action.id, { policy_name: d.policy_name, reason: d.reason });
        }
        this.reject(i, action, t0, authorization.reason);
        return false;
      }
      if (attempt === 1) {
        const unsupported = unsupportedMode(action, this.options);
        if (unsupported !== null) {
          this.emitFailed(action, unsupported, t0, 1, false);
          this.fail(i, action, t0, unsupported);
          return false;
        }
      }
      const unmet = failedPrecondition(action, this.lookup);
      const pending: AttemptOutcome | ToolDispatch =
        unmet === null ? runAttempt(this, action, parameters, attempt) : { ok: false, error: unmet, retryable: true };
      if (pending instanceof ToolDispatch) {
        pending.outcome.then(
          (outcome) => this.landed(i, action, t0, parameters, attempt, pending, outcome),
          (err: unknown) => this.afterAsync(i, err),
        );
        return true;
      }
      if (!this.finishAttempt(i, action, t0, attempt, pending)) return false;
    }
  }

  /** An attempt that waited for its tool has its outcome: settle it, or go on with the next attempt. */
  private landed(
    i: number,
    action: Action,
    t0: number,
    parameters: Record<string, unknown>,
    attempt: number,
    dispatch: ToolDispatch,
    outcome: ToolOutcome,
  ): void {
    let async = false;
    try {
      if (this.finishAttempt(i, action, t0, attempt, dispatch.finish(outcome))) async = this.attempt(i, action, t0, parameters, attempt + 1);
    } catch (err) {
      this.afterAsync(i, err);
      return;
    }
    if (!async) this.afterAsync(i);
  }

  /** Settle an attempt's outcome; true when another attempt should follow. */
  private finishAttempt(i: number, action: Action, t0: number, attempt: number, outcome: AttemptOutcome): boolean {
    if (outcome.ok) {
      this.succeed(i, action, t0, attempt, outcome.output, changesForResult(outcome.changes));
      return false;
    }
    if (outcome.rejected === true) {
      this.reject(i, action, t0, outcome.error);
      return false;
    }
    if (outcome.terminal === true) {
      this.emitFailed(action, outcome.error, t0, attempt, false);
      this.settle(i, t0, 'failed', null, outcome.error, {});
      (this.results[i] as ActionResult).terminal = true;
      this.halted = true;
      this.abort(`action '${action.id}' raised a terminal tool error`);
      return false;
    }
    const attempts = action.failure_behavior === 'retry' ? action.max_retries + 1 : 1;
    const again = outcome.retryable && attempt < attempts && this.abortReason === null;
    this.emitFailed(action, outcome.error, t0, attempt, again);
    if (!again) this.fail(i, action, t0, outcome.error);
    return again;
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
    const duration_ms = (this.results[i] as ActionResult).duration_ms;
    const tool = action.tool;
    const output_preview = outputPreview(output);
    let data: Record<string, unknown>;
    if (tool !== undefined && output_preview !== undefined) data = { duration_ms, attempt, tool, output_preview };
    else {
      data = { duration_ms, attempt };
      if (tool !== undefined) data.tool = tool;
      if (output_preview !== undefined) data.output_preview = output_preview;
    }
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

  /**
   * Blocked before running (validator, policy, permission, or a dependency that did not
   * succeed). Never retried: under `retry` it stops the proposal like `abort`.
   */
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

  /** Stop dispatching, and tell in-flight tool calls to stop (they are sent `tools.cancel`). */
  private abort(reason: string, cause?: unknown): void {
    if (this.abortReason !== null) return;
    this.abortReason = reason;
    if (this.running > 0) this.controller.abort(cause ?? new Error(`proposal aborted (${reason})`));
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
