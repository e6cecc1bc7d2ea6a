import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { HostSubscribers, type HostEventSink } from '../../src/host/subscribers.js';
import type { HostEvent } from '../../src/host/types.js';

function sink(backlogBytes = 0): HostEventSink & { got: HostEvent[]; dropped: string | null } {
  return {
    open: true,
    backlogBytes,
    got: [],
    dropped: null,
    send(event) {
      this.got.push(event);
      return true;
    },
    drop(reason) {
      this.dropped = reason;
    },
  };
}

const event = (sequence: number): HostEvent => ({ id: `event-${sequence}`, sequence, timestamp: '', kind: 'k', agent_id: null, message: null, payload: {} }) as HostEvent;

describe('HostSubscribers daemon-wide bytes', () => {
  test('queued events are shared, so a burst to many subscribers counts once, not once per subscriber', async () => {
    const subs = new HostSubscribers({ maxBytes: 1024 * 1024, maxTotalBytes: 8 * 1024 });
    const sinks = Array.from({ length: 200 }, () => sink());
    sinks.forEach((s, i) => subs.add(`c${i}`, s));
    for (let i = 0; i < 6; i++) subs.publish(event(i), 1024);
    assert.equal(subs.overflowed, 0, '6 KiB of events queued for 200 subscribers is 6 KiB held');
    await new Promise((r) => setImmediate(r));
    assert.ok(sinks.every((s) => s.got.length === 6));
  });

  test('past the bound (longest queue plus what connections hold unread), the biggest backlogs go first', () => {
    const subs = new HostSubscribers({ maxBytes: 1024 * 1024, maxTotalBytes: 8 * 1024 });
    const slow = sink(6 * 1024);
    const fine = [sink(), sink()];
    subs.add('slow', slow);
    fine.forEach((s, i) => subs.add(`f${i}`, s));
    subs.publish(event(1), 1024);
    assert.equal(subs.overflowed, 0, '6 KiB unread + 1 KiB queued is within 8 KiB');
    subs.publish(event(2), 1024);
    assert.equal(subs.overflowed, 0, 'exactly 8 KiB is within the bound');
    subs.publish(event(3), 1024);
    assert.equal(subs.overflowed, 1);
    assert.match(slow.dropped!, /backlogs over 8192 bytes in all/);
    assert.ok(fine.every((s) => s.dropped === null));
    assert.equal(subs.size, 2);
  });
});
