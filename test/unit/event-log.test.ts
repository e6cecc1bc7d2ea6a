import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { DEFAULT_QUERY_LIMIT, EventLog, RetentionPolicyError, type RuntimeEvent } from '../../src/index.js';

/** A clock the test moves by hand; starts at 2025-01-01T00:00:00Z. */
function manualClock(start = Date.parse('2025-01-01T00:00:00.000Z')): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function kinds(events: readonly RuntimeEvent[]): string[] {
  return events.map((e) => e.kind);
}

describe('EventLog core', () => {
  test('append returns the stored event; count and all() follow, oldest first', () => {
    const log = new EventLog();
    assert.equal(log.count, 0);
    const a = log.append('A');
    const b = log.append('B', { proposal_id: 'p1', action_id: 'a1', data: { x: 1 } });
    assert.equal(log.count, 2);
    assert.deepEqual(kinds(log.all()), ['A', 'B']);
    assert.equal(log.all()[1], b);
    assert.deepEqual([a.seq, b.seq], [0, 1]);
    assert.match(a.id, /^[0-9a-f-]{36}$/);
    assert.notEqual(a.id, b.id);
    assert.deepEqual(a.data, {});
    assert.equal('proposal_id' in a, false);
    assert.equal('action_id' in a, false);
    assert.equal('hash' in a, false);
    assert.equal(b.proposal_id, 'p1');
    assert.equal(b.action_id, 'a1');
    assert.match(b.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  test('unchained, data is copied one level deep: replacing a top-level field does not reach the log', () => {
    const log = new EventLog();
    const data: Record<string, unknown> = { status: 'ok', nested: { n: 1 } };
    const event = log.append('A', { data });
    data.status = 'changed';
    assert.deepEqual(event.data, { status: 'ok', nested: { n: 1 } });
    assert.notEqual(event.data, data);
  });

  test('chained, data is copied as JSON: no later change by the caller reaches the log', () => {
    const log = new EventLog();
    log.enableChain();
    const data = { nested: { n: 1 }, when: new Date(0), dropped: undefined, big: 10n };
    const event = log.append('A', { data });
    data.nested.n = 2;
    assert.deepEqual(event.data, { nested: { n: 1 }, when: '1970-01-01T00:00:00.000Z', big: '10' });
    assert.deepEqual(log.verifyChain(), { verified: 1 });
  });

  test('the injected clock stamps events', () => {
    const clock = manualClock();
    const log = new EventLog({ now: clock.now });
    assert.equal(log.append('A').timestamp, '2025-01-01T00:00:00.000Z');
    clock.advance(1500);
    assert.equal(log.append('B').timestamp, '2025-01-01T00:00:01.500Z');
  });
});

describe('EventLog.query', () => {
  function sample(): { log: EventLog; clock: ReturnType<typeof manualClock> } {
    const clock = manualClock();
    const log = new EventLog({ now: clock.now });
    const rows: [string, string | undefined, string | undefined, Record<string, unknown>][] = [
      ['ProposalReceived', 'p1', undefined, { source: 'ws', actions: 2 }],
      ['ActionSucceeded', 'p1', 'a1', { tool: 'read', duration_ms: 5, attempt: 1 }],
      ['ActionFailed', 'p1', 'a2', { tool: 'write', error: 'boom', duration_ms: 7, attempt: 1, will_retry: false }],
      ['ProposalCompleted', 'p1', undefined, { status: 'aborted', cost: { tool_calls: 2 } }],
      ['ProposalReceived', 'p2', undefined, { source: 'ws', actions: 1 }],
      ['ActionSucceeded', 'p2', 'a1', { tool: 'read', duration_ms: 3, attempt: 1, output_preview: null }],
    ];
    for (const [kind, proposal_id, action_id, data] of rows) {
      log.append(kind, { proposal_id, action_id, data });
      clock.advance(1000);
    }
    return { log, clock };
  }

  test('newest first; no filter returns everything up to the default limit', () => {
    const { log } = sample();
    const all = log.query();
    assert.deepEqual(
      all.map((e) => e.seq),
      [5, 4, 3, 2, 1, 0],
    );
  });

  test('kinds matches any of the listed kinds; an empty list is no filter', () => {
    const { log } = sample();
    assert.deepEqual(
      log.query({ kinds: ['ActionFailed', 'ProposalReceived'] }).map((e) => e.seq),
      [4, 2, 0],
    );
    assert.equal(log.query({ kinds: [] }).length, 6);
    assert.deepEqual(log.query({ kinds: ['Nope'] }), []);
  });

  test('action_id and proposal_id match exactly, and filters AND together', () => {
    const { log } = sample();
    assert.deepEqual(
      log.query({ action_id: 'a1' }).map((e) => e.seq),
      [5, 1],
    );
    assert.deepEqual(
      log.query({ proposal_id: 'p2' }).map((e) => e.seq),
      [5, 4],
    );
    assert.deepEqual(
      log.query({ proposal_id: 'p1', action_id: 'a1' }).map((e) => e.seq),
      [1],
    );
    assert.deepEqual(
      log.query({ proposal_id: 'p1', kinds: ['ProposalReceived', 'ProposalCompleted'] }).map((e) => e.seq),
      [3, 0],
    );
  });

  test('since is inclusive and until exclusive', () => {
    const { log } = sample();
    const at = (i: number): number => Date.parse('2025-01-01T00:00:00.000Z') + i * 1000;
    assert.deepEqual(
      log.query({ since: at(2) }).map((e) => e.seq),
      [5, 4, 3, 2],
    );
    assert.deepEqual(
      log.query({ until: at(2) }).map((e) => e.seq),
      [1, 0],
    );
    assert.deepEqual(
      log.query({ since: at(1), until: at(3) }).map((e) => e.seq),
      [2, 1],
    );
    assert.deepEqual(log.query({ since: at(3), until: at(3) }), []);
    assert.deepEqual(
      log.query({ since: at(1) + 1, until: at(3) + 1 }).map((e) => e.seq),
      [3, 2],
    );
  });

  test('data_matches compares top-level data fields with JSON equality', () => {
    const { log } = sample();
    assert.deepEqual(
      log.query({ data_matches: { tool: 'read' } }).map((e) => e.seq),
      [5, 1],
    );
    assert.deepEqual(
      log.query({ data_matches: { tool: 'read', duration_ms: 3 } }).map((e) => e.seq),
      [5],
    );
    // Objects compare structurally, whatever their key order.
    assert.deepEqual(
      log.query({ data_matches: { cost: { tool_calls: 2 } } }).map((e) => e.seq),
      [3],
    );
    assert.deepEqual(log.query({ data_matches: { cost: { tool_calls: 2, extra: 1 } } }), []);
    // null matches a field that is null, not a missing one.
    assert.deepEqual(
      log.query({ data_matches: { output_preview: null } }).map((e) => e.seq),
      [5],
    );
    assert.deepEqual(
      log.query({ data_matches: { will_retry: false } }).map((e) => e.seq),
      [2],
    );
    assert.deepEqual(log.query({ data_matches: { duration_ms: '5' } }), []);
    // Only top-level fields are looked at.
    assert.deepEqual(log.query({ data_matches: { tool_calls: 2 } }), []);
    assert.equal(log.query({ data_matches: {} }).length, 6);
  });

  test('limit keeps the newest matches; 0 means all; the default is DEFAULT_QUERY_LIMIT', () => {
    const { log } = sample();
    assert.deepEqual(
      log.query({ limit: 1 }).map((e) => e.seq),
      [5],
    );
    assert.deepEqual(
      log.query({ kinds: ['ActionSucceeded'], limit: 1 }).map((e) => e.seq),
      [5],
    );
    assert.equal(DEFAULT_QUERY_LIMIT, 100);
    const big = new EventLog();
    for (let i = 0; i < 150; i++) big.append('E', { data: { i } });
    const page = big.query();
    assert.equal(page.length, 100);
    assert.equal(page[0]!.data.i, 149);
    assert.equal(page[99]!.data.i, 50);
    assert.equal(big.query({ limit: 0 }).length, 150);
  });
});

describe('EventLog retention', () => {
  test('max_events is enforced on every append', () => {
    const log = new EventLog();
    assert.equal(log.setRetention({ max_events: 2 }), 0);
    for (let i = 0; i < 5; i++) {
      log.append('E', { data: { i } });
      assert.ok(log.count <= 2);
    }
    assert.deepEqual(
      log.all().map((e) => e.data.i),
      [3, 4],
    );
    assert.deepEqual(
      log.all().map((e) => e.seq),
      [3, 4],
    );
    assert.equal(log.appendedTotal, 5);
  });

  test('setting a policy applies both bounds at once and reports how many events went', () => {
    const log = new EventLog();
    for (let i = 0; i < 10; i++) log.append('E', { data: { i } });
    assert.equal(log.setRetention({ max_events: 4 }), 6);
    assert.equal(log.count, 4);
    assert.equal(log.all()[0]!.data.i, 6);
  });

  test('max_age_secs drops expired events when set and on later appends', () => {
    const clock = manualClock();
    const log = new EventLog({ now: clock.now });
    log.append('old1');
    clock.advance(10_000);
    log.append('old2');
    clock.advance(50_000);
    log.append('fresh');
    clock.advance(5_000);
    // now = t0 + 65 s; a 30 s bound drops the events stamped at t0 and t0 + 10 s.
    assert.equal(log.setRetention({ max_age_secs: 30 }), 2);
    assert.deepEqual(kinds(log.all()), ['fresh']);
    clock.advance(30_000);
    log.append('newer');
    // 'fresh' is now 35 s old.
    assert.deepEqual(kinds(log.all()), ['newer']);
  });

  test('an event exactly max_age_secs old stays; fractional seconds work', () => {
    const clock = manualClock();
    const log = new EventLog({ now: clock.now });
    log.append('A');
    clock.advance(1500);
    assert.equal(log.setRetention({ max_age_secs: 1.5 }), 0);
    clock.advance(1);
    assert.equal(log.setRetention({ max_age_secs: 1.5 }), 1);
  });

  test('a new policy replaces the old one; {} lifts every bound; the getter returns a copy', () => {
    const log = new EventLog();
    log.setRetention({ max_events: 1, max_age_secs: 60 });
    assert.deepEqual(log.retention, { max_events: 1, max_age_secs: 60 });
    log.setRetention({ max_age_secs: 120 });
    assert.deepEqual(log.retention, { max_age_secs: 120 });
    log.setRetention({});
    assert.deepEqual(log.retention, {});
    const copy = log.retention;
    copy.max_events = 1;
    assert.deepEqual(log.retention, {});
    for (let i = 0; i < 3; i++) log.append('E');
    assert.equal(log.count, 3);
  });

  test('invalid bounds throw RetentionPolicyError and leave the policy as it was', () => {
    const log = new EventLog();
    log.setRetention({ max_events: 5 });
    for (const bad of [{ max_events: 0 }, { max_events: 1.5 }, { max_events: -1 }, { max_age_secs: 0 }, { max_age_secs: NaN }]) {
      assert.throws(() => log.setRetention(bad), RetentionPolicyError, JSON.stringify(bad));
    }
    assert.deepEqual(log.retention, { max_events: 5 });
  });
});

describe('Fifo (the log storage)', () => {
  test('drops from the front, reclaims space, and keeps order across many compactions', async () => {
    const { Fifo } = await import('../../src/engine/events/fifo.js');
    const fifo = new Fifo<number>();
    const dropped: number[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 100; i++) fifo.push(next++);
      fifo.dropFront(fifo.length - 7, (n) => dropped.push(n));
      assert.equal(fifo.length, 7);
      assert.equal(fifo.at(0), next - 7);
      assert.equal(fifo.at(6), next - 1);
      assert.equal(fifo.at(7), undefined);
      assert.equal(fifo.at(-1), undefined);
    }
    assert.deepEqual(fifo.view(), [4993, 4994, 4995, 4996, 4997, 4998, 4999]);
    assert.equal(dropped.length, 4993);
    assert.ok(dropped.every((n, i) => n === i));
    fifo.dropFront(100);
    assert.equal(fifo.length, 0);
    fifo.replace([1, 2]);
    assert.deepEqual(fifo.view(), [1, 2]);
  });

  test('a log at capacity keeps the newest events in order while thousands are evicted', () => {
    const log = new EventLog();
    log.setRetention({ max_events: 10 });
    for (let i = 0; i < 5000; i++) log.append('E', { data: { i } });
    assert.deepEqual(
      log.all().map((e) => e.data.i),
      Array.from({ length: 10 }, (_, k) => 4990 + k),
    );
    assert.equal(log.query({ limit: 1 })[0]!.seq, 4999);
  });
});

test('capacity bounds the log whatever retention policy is set', () => {
  const log = new EventLog({ capacity: 3 });
  log.setRetention({ max_events: 10 });
  for (let i = 0; i < 5; i++) log.append('Tick', { data: { i } });
  assert.equal(log.count, 3);
  assert.deepEqual(
    log.all().map((e) => e.data.i),
    [2, 3, 4],
  );
});
