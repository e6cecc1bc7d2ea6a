import { isObject } from '../util/values.js';

/** A tool's declared `rate_limit`: at most `max_calls` calls in any `interval_secs` window. */
export interface RateLimit {
  max_calls: number;
  interval_secs: number;
}

/** The declared limit when it is well formed; undefined otherwise. */
export function rateLimitOf(value: unknown): RateLimit | undefined {
  if (!isObject(value)) return undefined;
  const { max_calls, interval_secs } = value;
  if (typeof max_calls !== 'number' || !Number.isInteger(max_calls) || max_calls < 1) return undefined;
  if (typeof interval_secs !== 'number' || !(interval_secs > 0)) return undefined;
  return { max_calls, interval_secs };
}

/**
 * Sliding-window call counts per tool for one session. Each tool keeps at most `max_calls`
 * timestamps, so the memory is bounded by the tools' own limits.
 */
export class ToolRateLimiter {
  private readonly calls = new Map<string, number[]>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Count a call of `tool` now, or return false (counting nothing) when the window is full. */
  tryAcquire(tool: string, limit: RateLimit): boolean {
    const now = this.now();
    const windowStart = now - limit.interval_secs * 1000;
    let times = this.calls.get(tool);
    if (times === undefined) {
      times = [];
      this.calls.set(tool, times);
    }
    let expired = 0;
    while (expired < times.length && (times[expired] as number) <= windowStart) expired++;
    if (expired > 0) times.splice(0, expired);
    if (times.length >= limit.max_calls) return false;
    times.push(now);
    return true;
  }

  /** Forget a tool's history (it was unregistered or re-registered). */
  forget(tool: string): void {
    this.calls.delete(tool);
  }
}
