import { eventHash, GENESIS_HASH, verifyChain, type ChainVerdict } from './events/chain.js';
import type { EventJournal } from './events/journal.js';
import { Fifo } from './events/fifo.js';
import { costByAgent, RunningTotals, summarize, type AgentCost, type MetricsSummary } from './events/metrics.js';
import { queryEvents, type EventFilter } from './events/query.js';
import { evictionCount, normalizeRetention, type RetentionPolicy } from './events/retention.js';
import { fastUuid } from '../util/uuid.js';

/** One thing the runtime did, as recorded in a session's event log (and sent on the wire as is). */
export interface RuntimeEvent {
  /** Position in this log, from 0; never reused, so retention leaves a visible gap. */
  seq: number;
  id: string;
  kind: string;
  /** RFC 3339, UTC, millisecond precision. */
  timestamp: string;
  proposal_id?: string;
  action_id?: string;
  data: Record<string, unknown>;
  /** Set on events appended after `enableChain()`: the previous chained event's `hash`. */
  prev_hash?: string;
  /** SHA-256 (hex) of `prev_hash` and this event without `hash`. */
  hash?: string;
}

export interface EventFields {
  proposal_id?: string | undefined;
  action_id?: string | undefined;
  data?: Record<string, unknown>;
}

export interface EventLogOptions {
  /** Where events are also written as JSON Lines; none by default. */
  journal?: EventJournal | null;
  /** Clock in epoch milliseconds (timestamps and the age bound). */
  now?: () => number;
  /** Most events ever held, whatever retention policy a client sets; the oldest go first. */
  capacity?: number;
}

/**
 * A session's record of what the engine did: append-only, optionally hash-chained, trimmed by a
 * retention policy, and mirrored to a journal file when one is given.
 */
export class EventLog {
  private readonly events = new Fifo<RuntimeEvent>();
  private nextSeq = 0;
  /** Hash the next chained event links to; null while chaining is off. */
  private chainHead: string | null = null;
  private policy: RetentionPolicy = {};
  private readonly totals = new RunningTotals();
  private readonly journal: EventJournal | null;
  private readonly now: () => number;
  private readonly capacity: number;
  /** The last timestamp made, reused by every event appended within the same millisecond. */
  private stampMs = Number.NaN;
  private stamp = '';

  constructor(options: EventLogOptions = {}) {
    this.journal = options.journal ?? null;
    this.now = options.now ?? Date.now;
    this.capacity = options.capacity ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Record an event. Unchained, `data` is copied one level deep (producers hand over fresh objects);
   * once the chain is on it is stored as a JSON copy, so no later change by a caller can break it.
   */
  append(kind: string, fields: EventFields = {}): RuntimeEvent {
    const seq = this.nextSeq++;
    const id = fastUuid();
    const timestamp = this.timestamp();
    const data = this.chainHead !== null ? jsonCopy(fields.data ?? {}) : { ...fields.data };
    const { proposal_id, action_id } = fields;
    // The usual shapes are built whole, in the same key order as when fields are added one by one.
    let event: RuntimeEvent;
    if (proposal_id !== undefined && action_id !== undefined) event = { seq, id, kind, timestamp, data, proposal_id, action_id };
    else {
      event = { seq, id, kind, timestamp, data };
      if (proposal_id !== undefined) event.proposal_id = proposal_id;
      if (action_id !== undefined) event.action_id = action_id;
    }
    if (this.chainHead !== null) {
      event.prev_hash = this.chainHead;
      event.hash = eventHash(event);
      this.chainHead = event.hash;
    }
    this.events.push(event);
    this.totals.observe(event);
    this.journal?.append(event);
    this.enforceRetention();
    return event;
  }

  private timestamp(): string {
    const ms = this.now();
    if (ms !== this.stampMs) {
      this.stampMs = ms;
      this.stamp = new Date(ms).toISOString();
    }
    return this.stamp;
  }

  /** Events currently held (after retention). */
  get count(): number {
    return this.events.length;
  }

  /** Oldest first. The log's own array: read it, don't keep it across appends. */
  all(): readonly RuntimeEvent[] {
    return this.events.view();
  }

  /** Matching events, newest first. */
  query(filter: EventFilter = {}): RuntimeEvent[] {
    return queryEvents(this.events.view(), filter);
  }

  get chainEnabled(): boolean {
    return this.chainHead !== null;
  }

  /** Chain every event appended from now on. Calling it again changes nothing. */
  enableChain(): void {
    this.chainHead ??= GENESIS_HASH;
  }

  verifyChain(): ChainVerdict {
    return verifyChain(this.events.view());
  }

  /** The bounds in force; `{}` when unbounded. */
  get retention(): RetentionPolicy {
    return { ...this.policy };
  }

  /**
   * Replace the policy (absent bounds are lifted) and apply it at once. Returns how many events
   * were dropped. Throws RetentionPolicyError on an invalid bound.
   */
  setRetention(policy: RetentionPolicy): number {
    this.policy = normalizeRetention(policy);
    return this.enforceRetention();
  }

  /** Every inference cost ever appended, in USD; retention does not lower it. */
  get cumulativeCostUsd(): number {
    return this.totals.cumulativeCostUsd;
  }

  /** Events ever appended, including those retention dropped since. */
  get appendedTotal(): number {
    return this.totals.appended;
  }

  summary(): MetricsSummary {
    return summarize(this.events.view(), this.totals);
  }

  costByAgent(): AgentCost[] {
    return costByAgent(this.events.view());
  }

  private enforceRetention(): number {
    const unbounded = this.policy.max_age_secs === undefined && this.policy.max_events === undefined;
    const drop = Math.max(unbounded ? 0 : evictionCount(this.events, this.policy, this.now()), this.events.length - this.capacity);
    if (drop === 0) return 0;
    this.events.dropFront(drop);
    if (this.journal !== null) {
      this.journal.dropOldest(drop);
      this.journal.maybeCompact(this.events);
    }
    return drop;
  }
}

function jsonCopy(data: Record<string, unknown>): Record<string, unknown> {
  const text = JSON.stringify(data, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
  const copy: unknown = text === undefined ? {} : JSON.parse(text);
  return copy !== null && typeof copy === 'object' && !Array.isArray(copy) ? (copy as Record<string, unknown>) : {};
}
