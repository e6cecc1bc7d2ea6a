import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import test, { describe } from 'node:test';
import { EventLog, eventHash, GENESIS_HASH, verifyChain, type RuntimeEvent } from '../../src/index.js';
import { canonicalJson } from '../../src/util/canonical-json.js';

/** The log's own array, for tamper tests (the engine hands out a readonly view). */
function stored(log: EventLog): RuntimeEvent[] {
  return log.all() as RuntimeEvent[];
}

function chainedLog(n: number): EventLog {
  const log = new EventLog();
  log.enableChain();
  for (let i = 0; i < n; i++) log.append('E', { action_id: `a${i}`, data: { i, nested: { list: [i, 'x'] } } });
  return log;
}

describe('canonicalJson', () => {
  test('sorts keys at every depth and follows JSON value rules', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, undefined, NaN], c: 'x' }, u: undefined }), '{"a":{"c":"x","d":[1,null,null]},"b":1}');
    assert.equal(canonicalJson({ '10': 1, '9': 2, a: 3 }), '{"10":1,"9":2,"a":3}');
    assert.equal(canonicalJson(new Date(0)), '"1970-01-01T00:00:00.000Z"');
    assert.equal(canonicalJson(undefined), 'null');
    assert.equal(canonicalJson('é"'), JSON.stringify('é"'));
  });
});

describe('hash chain', () => {
  test('events before enableChain carry no hash; later ones link from the genesis hash', () => {
    const log = new EventLog();
    log.append('before');
    log.enableChain();
    const first = log.append('after1');
    const second = log.append('after2');
    assert.equal('hash' in log.all()[0]!, false);
    assert.equal(first.prev_hash, GENESIS_HASH);
    assert.equal(second.prev_hash, first.hash);
    assert.match(first.hash!, /^[0-9a-f]{64}$/);
    assert.deepEqual(log.verifyChain(), { verified: 2 });
  });

  test('the hash is SHA-256 over prev_hash, a newline and the canonical event without its hash', () => {
    const log = chainedLog(1);
    const event = log.all()[0]!;
    const { hash, ...body } = event;
    const expected = createHash('sha256')
      .update(`${event.prev_hash}\n${canonicalJson(body)}`)
      .digest('hex');
    assert.equal(hash, expected);
    assert.equal(eventHash(event), expected);
  });

  test('enableChain is idempotent: a second call does not restart the chain', () => {
    const log = new EventLog();
    log.enableChain();
    const a = log.append('A');
    log.enableChain();
    assert.equal(log.chainEnabled, true);
    const b = log.append('B');
    assert.equal(b.prev_hash, a.hash);
    assert.deepEqual(log.verifyChain(), { verified: 2 });
  });

  test('a log without a chain verifies as {verified: 0}', () => {
    const log = new EventLog();
    log.append('A');
    assert.equal(log.chainEnabled, false);
    assert.deepEqual(log.verifyChain(), { verified: 0 });
  });

  test('an interior edit is found at its position', () => {
    const log = chainedLog(5);
    stored(log)[2]!.data.i = 99;
    assert.deepEqual(log.verifyChain(), { tampered_at: 2 });
  });

  test('an edit that also recomputes the edited event hash is found at the next event', () => {
    const log = chainedLog(5);
    const event = stored(log)[2]!;
    event.kind = 'Forged';
    event.hash = eventHash(event);
    assert.deepEqual(log.verifyChain(), { tampered_at: 3 });
  });

  test('edits to the envelope fields are found too', () => {
    for (const edit of [
      (e: RuntimeEvent) => (e.timestamp = '2000-01-01T00:00:00.000Z'),
      (e: RuntimeEvent) => (e.action_id = 'other'),
      (e: RuntimeEvent) => delete e.action_id,
      (e: RuntimeEvent) => (e.seq = 42),
      (e: RuntimeEvent) => (e.id = 'x'),
      (e: RuntimeEvent) => (e.data = { ...e.data, added: true }),
    ]) {
      const log = chainedLog(4);
      edit(stored(log)[1]!);
      assert.deepEqual(log.verifyChain(), { tampered_at: 1 }, edit.toString());
    }
  });

  test('a deletion in the middle is found where the gap is', () => {
    const log = chainedLog(5);
    stored(log).splice(2, 1);
    assert.deepEqual(log.verifyChain(), { tampered_at: 2 });
  });

  test('a reorder is found', () => {
    const log = chainedLog(5);
    const events = stored(log);
    [events[1], events[2]] = [events[2]!, events[1]!];
    assert.deepEqual(log.verifyChain(), { tampered_at: 1 });
  });

  test('stripping hashes, or inserting an unchained event among chained ones, is found', () => {
    const stripped = chainedLog(3);
    delete stored(stripped)[1]!.hash;
    delete stored(stripped)[1]!.prev_hash;
    assert.deepEqual(stripped.verifyChain(), { tampered_at: 1 });

    const inserted = chainedLog(3);
    stored(inserted).splice(2, 0, { seq: 9, id: 'x', kind: 'E', timestamp: '2025-01-01T00:00:00.000Z', data: {} });
    assert.deepEqual(inserted.verifyChain(), { tampered_at: 2 });
  });

  test('deleting the first chained events behind an unchained one is found (the anchor must be genesis)', () => {
    const log = new EventLog();
    log.append('unchained');
    log.enableChain();
    for (let i = 0; i < 3; i++) log.append('E', { data: { i } });
    stored(log).splice(1, 1);
    assert.deepEqual(log.verifyChain(), { tampered_at: 1 });
  });

  test('truncation at either end is not detected (documented limit)', () => {
    const head = chainedLog(5);
    stored(head).splice(0, 2);
    assert.deepEqual(head.verifyChain(), { verified: 3 });
    const tail = chainedLog(5);
    stored(tail).splice(3);
    assert.deepEqual(tail.verifyChain(), { verified: 3 });
  });

  test('retention trimming the oldest events keeps the chain verifiable, and new events keep linking', () => {
    const log = chainedLog(6);
    const lastHash = log.all()[5]!.hash;
    assert.equal(log.setRetention({ max_events: 3 }), 3);
    assert.deepEqual(log.verifyChain(), { verified: 3 });
    const next = log.append('after');
    assert.equal(next.prev_hash, lastHash);
    assert.deepEqual(log.verifyChain(), { verified: 3 });
    // Retention dropping every event that preceded the chain start also verifies.
    const mixed = new EventLog();
    mixed.append('unchained');
    mixed.enableChain();
    for (let i = 0; i < 4; i++) mixed.append('E');
    mixed.setRetention({ max_events: 2 });
    assert.deepEqual(mixed.verifyChain(), { verified: 2 });
    stored(mixed)[0]!.kind = 'edited';
    assert.deepEqual(mixed.verifyChain(), { tampered_at: 0 });
  });

  test('verifyChain works on any array, e.g. events read back from JSON', () => {
    const log = chainedLog(4);
    const copy = JSON.parse(JSON.stringify(log.all())) as RuntimeEvent[];
    assert.deepEqual(verifyChain(copy), { verified: 4 });
    copy.reverse();
    assert.deepEqual(verifyChain(copy), { tampered_at: 1 });
  });

  test('seeded random tampering: every single interior edit, deletion or swap is caught', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const n = 3 + rand(10);
      const log = chainedLog(n);
      const events = stored(log);
      const op = rand(3);
      let expectAt: number;
      if (op === 0) {
        const i = rand(n);
        events[i]!.data.i = -1;
        expectAt = i;
      } else if (op === 1) {
        const i = 1 + rand(n - 2); // strictly inside: end deletions are truncation
        events.splice(i, 1);
        expectAt = i;
      } else {
        const i = rand(n - 1);
        [events[i], events[i + 1]] = [events[i + 1]!, events[i]!];
        expectAt = i === 0 ? 1 : i; // a swap at the front: the new first event is a valid anchor
      }
      assert.deepEqual(log.verifyChain(), { tampered_at: expectAt }, `round ${round} op ${op}`);
    }
  });
});
