import type { HostEvent } from './types.js';

/** Where one subscriber's events go. `send` returns false when the event was lost on the way. */
export interface HostEventSink {
  readonly open: boolean;
  send(event: HostEvent): boolean;
}

/** Events a subscriber may have waiting between two drains; past it new events are lost for it. */
export const DEFAULT_SUBSCRIBER_QUEUE = 4096;
/** Longest one drain slice runs before yielding the event loop back to request dispatch. */
const DRAIN_SLICE_MS = 4;

class Subscriber {
  queue: HostEvent[] = [];
  lost = 0;
  constructor(readonly sink: HostEventSink) {}
}

/**
 * `host.event` fan-out. Recording an event only appends to each subscriber's bounded queue; one
 * shared drain, run in short slices on later turns of the event loop (so requests keep being
 * dispatched in between), hands the queued events to the sinks.
 * A subscriber that cannot keep up loses events (seen as `sequence` gaps) and never holds up the
 * caller or the other subscribers; a closed one is dropped at its next drain.
 */
export class HostSubscribers {
  private readonly byClient = new Map<string, Subscriber>();
  private readonly dirty = new Set<Subscriber>();
  private drainScheduled = false;

  constructor(private readonly queueCapacity = DEFAULT_SUBSCRIBER_QUEUE) {}

  add(clientId: string, sink: HostEventSink): void {
    const old = this.byClient.get(clientId);
    if (old) this.dirty.delete(old);
    this.byClient.set(clientId, new Subscriber(sink));
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

  publish(event: HostEvent, _bytes = 0): void {
    if (this.byClient.size === 0) return;
    for (const sub of this.byClient.values()) {
      if (sub.queue.length >= this.queueCapacity) {
        sub.lost++;
        continue;
      }
      sub.queue.push(event);
      this.dirty.add(sub);
    }
    this.scheduleDrain();
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
      if (!sub.sink.open) {
        this.dropSink(sub);
        continue;
      }
      for (const event of events) if (!sub.sink.send(event)) sub.lost++;
      if (!sub.sink.open) this.dropSink(sub);
    }
  }

  private dropSink(sub: Subscriber): void {
    for (const [clientId, s] of this.byClient) {
      if (s === sub) {
        this.byClient.delete(clientId);
        return;
      }
    }
  }
}
