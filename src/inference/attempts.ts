import { CarError } from '../util/errors.js';
import { ContentRefusedError, ProviderError } from './errors.js';
import type { ModelEntry } from './model-schema.js';

export interface RetryPolicy {
  /** Extra attempts on one model after a retryable error. */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest one attempt may take. */
  attemptTimeoutMs: number;
  random?: () => number;
}

export interface AttemptRecord {
  model: string;
  attempt: number;
  error: string;
}

/** What the loop tells `run` about the attempt it is making. */
export interface AttemptContext {
  signal: AbortSignal;
  attempt: number;
}

/** Sleep `ms`, rejecting with the signal's reason if it aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function backoffMs(policy: RetryPolicy, attempt: number, retryAfterMs: number | undefined): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jittered = exp * (0.5 + 0.5 * (policy.random ?? Math.random)());
  return retryAfterMs === undefined ? jittered : Math.max(jittered, Math.min(retryAfterMs, policy.maxDelayMs));
}

/**
 * Try `candidates` in order: each up to `maxRetries + 1` times while its error is retryable (429,
 * 5xx, a dropped or cut connection), then the next one. A refusal, the caller going away, or
 * `mayContinue()` turning false (the caller already saw output) ends the loop at once. Every
 * attempt runs under its own timeout.
 */
export async function withFallback<T>(
  candidates: readonly ModelEntry[],
  policy: RetryPolicy,
  callerSignal: AbortSignal,
  run: (entry: ModelEntry, ctx: AttemptContext) => Promise<T>,
  hooks: { mayContinue?: () => boolean; onFailure?: (entry: ModelEntry, err: unknown) => void } = {},
): Promise<{ entry: ModelEntry; value: T; attempts: AttemptRecord[] }> {
  const attempts: AttemptRecord[] = [];
  let last: unknown = null;
  for (const entry of candidates) {
    for (let attempt = 0; attempt <= policy.maxRetries; attempt++) {
      const controller = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort(new Error('attempt timed out'));
      }, policy.attemptTimeoutMs);
      const onCallerAbort = (): void => controller.abort(callerSignal.reason);
      if (callerSignal.aborted) onCallerAbort();
      else callerSignal.addEventListener('abort', onCallerAbort, { once: true });
      try {
        const value = await run(entry, { signal: controller.signal, attempt });
        return { entry, value, attempts };
      } catch (raw) {
        if (callerSignal.aborted) throw callerSignal.reason ?? raw;
        const err = timedOut
          ? new ProviderError('timeout', `model '${entry.schema.id}' did not finish within ${Math.round(policy.attemptTimeoutMs / 1000)} s`, entry.schema.id, {
              retryable: false,
            })
          : raw;
        if (err instanceof ContentRefusedError) throw err;
        hooks.onFailure?.(entry, err);
        attempts.push({ model: entry.schema.id, attempt, error: (err as Error)?.message ?? String(err) });
        last = err;
        if (hooks.mayContinue && !hooks.mayContinue()) throw err;
        const retryable = err instanceof ProviderError && err.retryable;
        if (!retryable || attempt === policy.maxRetries) break;
        await sleep(backoffMs(policy, attempt, err.retryAfterMs), callerSignal);
      } finally {
        clearTimeout(timer);
        callerSignal.removeEventListener('abort', onCallerAbort);
      }
    }
  }
  if (candidates.length <= 1 && last !== null) throw last;
  throw new CarError('unavailable', `every candidate model failed: ${attempts.map((a) => `${a.model}: ${a.error}`).join('; ')}`, {
    cause: last,
    detail: { reason: 'all_models_failed', attempts },
  });
}
