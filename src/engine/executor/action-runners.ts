import type { Action } from '../ir.js';
import { StateError } from '../state-store.js';
import type { ToolExecutor, ToolOutcome } from '../tool-executor.js';
import type { UndoLog } from './rollback.js';
import { EventKind } from '../event-kinds.js';
import type { ToolDefinition } from '../tool-registry.js';
import { rateLimitOf, type ToolRateLimiter } from '../rate-limit.js';
import { ToolResultCache } from './tool-cache.js';

/** One attempt's outcome. `retryable` is false when trying again could not change it. */
export type AttemptOutcome =
  | { ok: true; output: unknown; changes: Record<string, unknown> }
  | { ok: false; error: string; retryable: boolean; terminal?: boolean; rejected?: boolean };

/** What the per-type runners need from the proposal run. */
export interface RunnerContext {
  readonly executor: ToolExecutor;
  readonly undo: UndoLog;
  readonly signal: AbortSignal | undefined;
  readonly sessionId: string | undefined;
  /** Read through the tenant view. */
  get(key: string): unknown;
  /** Counts one tool invocation. */
  countToolCall(): void;
  /** The registered definition of a tool, when the session keeps a registry. */
  toolDefinition(name: string): ToolDefinition | undefined;
  readonly cache: ToolResultCache | undefined;
  readonly rateLimiter: ToolRateLimiter | undefined;
  emitEvent(kind: string, actionId: string, data: Record<string, unknown>): void;
}

const NO_CHANGES: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** A tool's `{"error": ...}` answer is a failure; returns its message, or null for a normal output. */
export function toolErrorOf(output: unknown): string | null {
  if (typeof output !== 'object' || output === null || Array.isArray(output)) return null;
  const error = (output as Record<string, unknown>).error;
  if (error === undefined || error === null || error === false || error === '') return null;
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return JSON.stringify(error) ?? String(error);
}

/**
 * Write the action's declared `expected_effects` after it succeeded (on top of `changes`, which
 * is returned, possibly a new object).
 */
function applyEffects(ctx: RunnerContext, action: Action, changes: Record<string, unknown>): Record<string, unknown> {
  let out = changes;
  for (const key in action.expected_effects) {
    if (!Object.hasOwn(action.expected_effects, key)) continue;
    const value = action.expected_effects[key];
    ctx.undo.write(key, value);
    if (out === NO_CHANGES) out = {};
    out[key] = value === undefined ? null : value;
  }
  return out;
}

function stateFailure(err: unknown): AttemptOutcome {
  if (err instanceof StateError) return { ok: false, error: err.message, retryable: false };
  throw err;
}

function succeeded(ctx: RunnerContext, action: Action, output: unknown): AttemptOutcome {
  try {
    return { ok: true, output, changes: applyEffects(ctx, action, NO_CHANGES) };
  } catch (err) {
    return stateFailure(err);
  }
}

/** The cache key for this call when the tool's results may be cached (idempotent, with a TTL). */
function cacheKeyOf(ctx: RunnerContext, def: ToolDefinition | undefined, parameters: Record<string, unknown>): string | undefined {
  if (ctx.cache === undefined || def === undefined || !def.idempotent) return undefined;
  const ttl = def.cache_ttl_secs;
  return ttl !== undefined && ttl > 0 ? ToolResultCache.key(def.name, parameters) : undefined;
}

/**
 * A tool call handed to the executor. Its owner waits on `outcome` and passes what arrives to
 * `finish`, which turns it into the attempt's outcome (and caches it when the tool allows): one
 * continuation per call instead of a chain of them.
 */
export class ToolDispatch {
  constructor(
    readonly outcome: Promise<ToolOutcome>,
    private readonly ctx: RunnerContext,
    private readonly action: Action,
    private readonly def: ToolDefinition | undefined,
    private readonly cacheKey: string | undefined,
  ) {}

  finish(outcome: ToolOutcome): AttemptOutcome {
    if (!outcome.ok) {
      if (outcome.terminal === true) return { ok: false, error: outcome.error, retryable: false, terminal: true };
      // Refused before any tool ran: the action is rejected, as by the validator.
      if (outcome.reason === 'invalid') return { ok: false, error: outcome.error, retryable: false, rejected: true };
      // A cancelled call, a gone client or a refused request will not go better on a retry.
      const retryable = outcome.reason === 'tool_error' || outcome.reason === 'timeout';
      return { ok: false, error: outcome.error, retryable };
    }
    const error = toolErrorOf(outcome.output);
    if (error !== null) return { ok: false, error: `tool '${this.action.tool as string}' returned an error: ${error}`, retryable: true };
    if (this.cacheKey !== undefined) {
      (this.ctx.cache as ToolResultCache).set(this.cacheKey, outcome.output, (this.def as ToolDefinition).cache_ttl_secs! * 1000);
    }
    return succeeded(this.ctx, this.action, outcome.output);
  }
}

function runToolCall(
  ctx: RunnerContext,
  action: Action,
  parameters: Record<string, unknown>,
  attempt: number,
): AttemptOutcome | ToolDispatch {
  const tool = action.tool as string;
  const def = ctx.toolDefinition(tool);
  const cacheKey = cacheKeyOf(ctx, def, parameters);
  if (cacheKey !== undefined) {
    const hit = (ctx.cache as ToolResultCache).get(cacheKey);
    if (hit !== undefined) {
      ctx.emitEvent(EventKind.ToolCacheHit, action.id, { tool, age_ms: hit.ageMs, attempt });
      return succeeded(ctx, action, hit.output);
    }
  }
  const limit = def === undefined ? undefined : rateLimitOf(def.rate_limit);
  if (limit !== undefined && ctx.rateLimiter !== undefined && !ctx.rateLimiter.tryAcquire(tool, limit)) {
    return {
      ok: false,
      error: `rate limit of tool '${tool}' reached: at most ${limit.max_calls} calls per ${limit.interval_secs} s`,
      retryable: false,
      rejected: true,
    };
  }
  ctx.countToolCall();
  const outcome = ctx.executor.execute(
    { tool, parameters, actionId: action.id, timeoutMs: action.timeout_ms, attempt, sessionId: ctx.sessionId },
    ctx.signal,
  );
  return new ToolDispatch(outcome, ctx, action, def, cacheKey);
}

function stateKey(action: Action, parameters: Record<string, unknown>): string | AttemptOutcome {
  const key = parameters.key;
  if (typeof key === 'string' && key.length > 0) return key;
  return { ok: false, error: `${action.type} needs parameters.key to be a non-empty string`, retryable: false };
}

function runStateWrite(ctx: RunnerContext, action: Action, parameters: Record<string, unknown>): AttemptOutcome {
  const key = stateKey(action, parameters);
  if (typeof key !== 'string') return key;
  const value = parameters.value === undefined ? null : parameters.value;
  try {
    ctx.undo.write(key, value);
    const changes = applyEffects(ctx, action, { [key]: value });
    return { ok: true, output: value, changes };
  } catch (err) {
    return stateFailure(err);
  }
}

function runStateRead(ctx: RunnerContext, action: Action, parameters: Record<string, unknown>): AttemptOutcome {
  const key = stateKey(action, parameters);
  if (typeof key !== 'string') return key;
  const output = ctx.get(key);
  try {
    return { ok: true, output, changes: applyEffects(ctx, action, NO_CHANGES) };
  } catch (err) {
    return stateFailure(err);
  }
}

function runAssertion(ctx: RunnerContext, action: Action): AttemptOutcome {
  try {
    return { ok: true, output: true, changes: applyEffects(ctx, action, NO_CHANGES) };
  } catch (err) {
    return stateFailure(err);
  }
}

/**
 * Run one attempt of an action whose admission checks and preconditions passed. State actions
 * finish synchronously; a `tool_call` that reaches the executor returns its ToolDispatch.
 */
export function runAttempt(
  ctx: RunnerContext,
  action: Action,
  parameters: Record<string, unknown>,
  attempt: number,
): AttemptOutcome | ToolDispatch {
  switch (action.type) {
    case 'tool_call':
      return runToolCall(ctx, action, parameters, attempt);
    case 'state_write':
      return runStateWrite(ctx, action, parameters);
    case 'state_read':
      return runStateRead(ctx, action, parameters);
    case 'assertion':
      return runAssertion(ctx, action);
  }
}

/** Copy a runner's change set for the result (the shared empty one must not leak out frozen). */
export function changesForResult(changes: Record<string, unknown>): Record<string, unknown> {
  return changes === NO_CHANGES ? {} : changes;
}
