import { CarError } from '../../util/errors.js';
import type { RuntimeEvent } from '../event-log.js';

/** Bounds on a session's event log. Absent fields are unbounded. */
export interface RetentionPolicy {
  /** Most events kept; the oldest go first. */
  max_events?: number;
  /** Events older than this many seconds are dropped. */
  max_age_secs?: number;
}

export class RetentionPolicyError extends CarError {
  constructor(message: string, field: string) {
    super('invalid', message, { field });
    this.name = 'RetentionPolicyError';
  }
}

/** A copy holding only the bounds that are set; throws on a bound that is not a positive number. */
export function normalizeRetention(policy: RetentionPolicy): RetentionPolicy {
  const out: RetentionPolicy = {};
  if (policy.max_events !== undefined && policy.max_events !== null) {
    if (!Number.isSafeInteger(policy.max_events) || policy.max_events < 1) {
      throw new RetentionPolicyError(`max_events must be a positive integer, got ${String(policy.max_events)}`, 'policy.max_events');
    }
    out.max_events = policy.max_events;
  }
  if (policy.max_age_secs !== undefined && policy.max_age_secs !== null) {
    if (!Number.isFinite(policy.max_age_secs) || policy.max_age_secs <= 0) {
      throw new RetentionPolicyError(`max_age_secs must be a positive number, got ${String(policy.max_age_secs)}`, 'policy.max_age_secs');
    }
    out.max_age_secs = policy.max_age_secs;
  }
  return out;
}

/**
 * How many of the oldest events the policy drops now. The age bound looks at the leading run of
 * expired events only, so an event stamped earlier than its predecessor (a clock step) waits until
 * everything before it has expired too.
 */
export function evictionCount(
  events: { readonly length: number; at(i: number): RuntimeEvent | undefined },
  policy: RetentionPolicy,
  nowMs: number,
): number {
  let drop = 0;
  if (policy.max_age_secs !== undefined) {
    const cutoff = nowMs - policy.max_age_secs * 1000;
    while (drop < events.length && Date.parse(events.at(drop)!.timestamp) < cutoff) drop++;
  }
  if (policy.max_events !== undefined) drop = Math.max(drop, events.length - policy.max_events);
  return drop;
}
