import type { HostEvent } from './types.js';

/** Where one subscriber's events go. `send` returns false when the event was lost on the way. */
export interface HostEventSink {
  readonly open: boolean;
  /** Bytes already handed to this subscriber's connection and not yet taken by its reader. */
  readonly backlogBytes?: number;
  send(event: HostEvent): boolean;
  /** The subscriber overflowed its byte bound: end its stream (its connection) with this reason. */
  drop?(reason: string): void;
}

/** Events a subscriber may have waiting between two drains; past it new events are lost for it. */
export const DEFAULT_SUBSCRIBER_QUEUE = 4096;
/** Bytes one subscriber may have queued and unread; past it the subscriber is dropped. */
export const DEFAULT_SUBSCRIBER_BYTES = 4 * 1024 * 1024;
/** Bytes every subscriber together may have queued and unread; past it the largest backlogs are dropped. */
export const DEFAULT_SUBSCRIBERS_TOTAL_BYTES = 64 * 1024 * 1024;

export interface SubscriberLimits {
  queueCapacity?: number;
  maxBytes?: number;
  maxTotalBytes?: number;
}
/** Longest one drain slice runs before yielding the event loop back to request dispatch. */
const DRAIN_SLICE_MS = 4;

class Subscriber {
  queue: HostEvent[] = [];
  queuedBytes = 0;
  lost = 0;
  constructor(
    readonly clientId: string,
    readonly sink: HostEventSink,
  ) {}

  get backlog(): number {
    return this.queuedBytes + (this.sink.backlogBytes ?? 0);
  }

  get sinkBacklog(): number {
    return this.sink.backlogBytes ?? 0;
  }
}

/**
 * `host.event` fan-out. Recording an event only appends to each subscriber's bounded queue; one
 * shared drain, run in short slices on later turns of the event loop (so requests keep being
 * dispatched in between), hands the queued events to the sinks.
 * A subscriber that cannot keep up loses events past its queue's count (seen as `sequence` gaps);
 * one whose unread bytes pass its bound, or the biggest backlogs once every subscriber together
 * passes the daemon-wide bound, is dropped with a reason. Nobody holds up the caller or the
 * other subscribers; a closed one is dropped at its next drain.
 */
export class HostSubscribers {
  private readonly byClient = new Map<string, Subscriber>();
  private readonly dirty = new Set<Subscriber>();
  private drainScheduled = false;
  private readonly queueCapacity: number;
  private readonly maxBytes: number;
  private readonly maxTotalBytes: number;
  /** Subscribers dropped for overflowing a byte bound. */
  overflowed = 0;

  constructor(limits: SubscriberLimits | number = {}) {
    const l = typeof limits === 'number' ? { queueCapacity: limits } : limits;
    this.queueCapacity = l.queueCapacity ?? DEFAULT_SUBSCRIBER_QUEUE;
    this.maxBytes = l.maxBytes ?? DEFAULT_SUBSCRIBER_BYTES;
    this.maxTotalBytes = l.maxTotalBytes ?? DEFAULT_SUBSCRIBERS_TOTAL_BYTES;
  }

  add(clientId: string, sink: HostEventSink): void {
    const old = this.byClient.get(clientId);
    if (old) this.dirty.delete(old);
    this.byClient.set(clientId, new Subscriber(clientId, sink));
  }

  remove(clientId: string): boolean {
    const sub = this.byClient.get(clientId);
    if (!sub) return false;
    this.byClient.delete(clientId);
    this.dirty.delete(sub);
    return true;
  }

  has(clientId: string): boolean {
    return this.byClient.has(clientId);
  }

  get size(): number {
    return this.byClient.size;
  }

  /** Events lost so far by one subscriber (queue overflow or a refused write). */
  lostBy(clientId: string): number {
    return this.byClient.get(clientId)?.lost ?? 0;
  }

  /**
   * Every queue holds a suffix of the same event stream and shares its event objects, so together
   * they hold the longest queue's bytes once; what each connection has already taken into its own
   * send buffer is its own copy.
   */
  private totalBytes(): number {
    let buffered = 0;
    let longest = 0;
    for (const sub of this.byClient.values()) {
      buffered += sub.sinkBacklog;
      if (sub.queuedBytes > longest) longest = sub.queuedBytes;
    }
    return buffered + longest;
  }

  publish(event: HostEvent, bytes = 0): void {
    if (this.byClient.size === 0) return;
    let buffered = 0;
    let longest = 0;
    for (const sub of [...this.byClient.values()]) {
      if (sub.queue.length >= this.queueCapacity) {
        sub.lost++;
      } else if (sub.backlog + bytes > this.maxBytes) {
        this.overflow(sub, `host.event backlog over ${this.maxBytes} bytes`);
        continue;
      } else {
        sub.queue.push(event);
        sub.queuedBytes += bytes;
        this.dirty.add(sub);
      }
      buffered += sub.sinkBacklog;
      if (sub.queuedBytes > longest) longest = sub.queuedBytes;
    }
    if (buffered + longest > this.maxTotalBytes) this.shed();
    this.scheduleDrain();
  }

  /** Every subscriber together is over the daemon-wide bound: drop the biggest backlogs until it fits. */
  private shed(): void {
    const bySize = [...this.byClient.values()].sort((a, b) => b.backlog - a.backlog);
    for (const sub of bySize) {
      if (this.totalBytes() <= this.maxTotalBytes) return;
      this.overflow(sub, `host.event backlogs over ${this.maxTotalBytes} bytes in all`);
    }
  }

  private overflow(sub: Subscriber, reason: string): void {
    this.overflowed++;
    this.byClient.delete(sub.clientId);
    this.dirty.delete(sub);
    sub.queue = [];
    sub.queuedBytes = 0;
    sub.sink.drop?.(reason);
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.drainScheduled = false;
    const started = performance.now();
    for (const sub of this.dirty) {
      if (performance.now() - started > DRAIN_SLICE_MS) {
        this.scheduleDrain();
        return;
      }
      this.dirty.delete(sub);
      const events = sub.queue;
      sub.queue = [];
      sub.queuedBytes = 0;
      if (!sub.sink.open) {
        this.dropSink(sub);
        continue;
      }
      for (const event of events) if (!sub.sink.send(event)) sub.lost++;
      if (!sub.sink.open) this.dropSink(sub);
    }
  }

  private dropSink(sub: Subscriber): void {
    if (this.byClient.get(sub.clientId) === sub) this.byClient.delete(sub.clientId);
  }
}
