import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { AdmissionBusyError, BYTES_PER_PERMIT, InferenceAdmission, permitsForMemory } from '../../src/engine/admission.js';
import { ServerState, ServerStateConfig } from '../../src/index.js';

const GiB = 1024 ** 3;
const tick = () => new Promise((r) => setImmediate(r));

describe('permit sizing', () => {
  test('one per 8 GiB, clamped to 1..8', () => {
    assert.equal(BYTES_PER_PERMIT, 8 * GiB);
    assert.equal(permitsForMemory(0), 1);
    assert.equal(permitsForMemory(4 * GiB), 1);
    assert.equal(permitsForMemory(16 * GiB - 1), 1);
    assert.equal(permitsForMemory(16 * GiB), 2);
    assert.equal(permitsForMemory(64 * GiB), 8);
    assert.equal(permitsForMemory(1024 * GiB), 8);
    assert.equal(permitsForMemory(Number.NaN), 1);
  });

  test('the override wins; memory is only asked once and lazily', () => {
    let asked = 0;
    const a = new InferenceAdmission({ totalMemoryBytes: () => (asked++, 32 * GiB) });
    assert.equal(asked, 0);
    assert.equal(a.status().permits_total, 4);
    assert.equal(a.status().env_override, null);
    assert.equal(asked, 1);
    const o = new InferenceAdmission({ override: 3, totalMemoryBytes: () => assert.fail('not asked') });
    assert.deepEqual(o.status(), { permits_total: 3, permits_available: 3, permits_in_use: 0, env_override: 3, queue_depth: 0, queue_max: null });
    assert.throws(() => new InferenceAdmission({ override: 0, totalMemoryBytes: 0 }), RangeError);
  });

  test('ServerState sizes its admission from config', () => {
    const s = ServerState.embedded(new ServerStateConfig({ totalMemoryBytes: 24 * GiB }));
    assert.equal(s.admission.status().permits_total, 3);
    const o = ServerState.embedded(new ServerStateConfig({ inferenceMaxConcurrent: 2, totalMemoryBytes: 64 * GiB }));
    assert.equal(o.admission.status().permits_total, 2);
    assert.throws(() => new ServerStateConfig({ inferenceMaxConcurrent: 0 }), RangeError);
    assert.throws(() => new ServerStateConfig({ inferenceMaxConcurrent: 1.5 }), RangeError);
    assert.equal(new ServerStateConfig().supervisionDecisionTimeoutMs, 30_000);
    assert.equal(new ServerStateConfig().inferenceMaxConcurrent, null);
  });
});

describe('InferenceAdmission', () => {
  test('excess acquirers queue FIFO and none is refused', async () => {
    const a = new InferenceAdmission({ override: 2, totalMemoryBytes: 0 });
    const order: number[] = [];
    const p1 = await a.acquire();
    const p2 = await a.acquire();
    const waiting = [3, 4, 5].map((n) => a.acquire().then((p) => (order.push(n), p)));
    await tick();
    assert.deepEqual(a.status(), { permits_total: 2, permits_available: 0, permits_in_use: 2, env_override: 2, queue_depth: 3, queue_max: null });
    p1.release();
    p1.release(); // idempotent
    await tick();
    assert.deepEqual(order, [3]);
    assert.equal(a.status().queue_depth, 2);
    p2.release();
    await tick();
    assert.deepEqual(order, [3, 4]);
    const [p3, p4, p5] = [await waiting[0]!, await waiting[1]!, waiting[2]!];
    p3.release();
    (await p5).release();
    p4.release();
    assert.deepEqual(order, [3, 4, 5]);
    assert.deepEqual(a.status(), { permits_total: 2, permits_available: 2, permits_in_use: 0, env_override: 2, queue_depth: 0, queue_max: null });
  });

  test('a newcomer does not overtake the queue', async () => {
    const a = new InferenceAdmission({ override: 1, totalMemoryBytes: 0 });
    const held = await a.acquire();
    const order: string[] = [];
    const first = a.acquire().then((p) => (order.push('first'), p));
    held.release();
    const second = a.acquire().then((p) => (order.push('second'), p));
    (await first).release();
    (await second).release();
    assert.deepEqual(order, ['first', 'second']);
  });

  test('aborting a queued acquire removes it from the queue', async () => {
    const a = new InferenceAdmission({ override: 1, totalMemoryBytes: 0 });
    const held = await a.acquire();
    const ac = new AbortController();
    const aborted = a.acquire(ac.signal);
    const next = a.acquire();
    assert.equal(a.status().queue_depth, 2);
    ac.abort(new Error('caller gave up'));
    await assert.rejects(aborted, /caller gave up/);
    assert.equal(a.status().queue_depth, 1);
    held.release();
    (await next).release();
    assert.equal(a.status().permits_in_use, 0);
    await assert.rejects(a.acquire(AbortSignal.abort(new Error('already'))), /already/);
  });

  test('withPermit holds the permit for the whole (streaming) body, and releases on throw', async () => {
    const a = new InferenceAdmission({ override: 1, totalMemoryBytes: 0 });
    let finishStream!: () => void;
    const streamDone = new Promise<void>((r) => (finishStream = r));
    const chunks: number[] = [];
    const stream = a.withPermit(async () => {
      for (let i = 0; i < 3; i++) {
        chunks.push(i);
        await tick();
      }
      await streamDone;
      return 'streamed';
    });
    await tick();
    let oneShotRan = false;
    const oneShot = a.withPermit(() => (oneShotRan = true));
    for (let i = 0; i < 5; i++) await tick();
    assert.deepEqual(chunks, [0, 1, 2]);
    assert.equal(oneShotRan, false, 'the streaming holder keeps the permit until done');
    assert.equal(a.status().queue_depth, 1);
    finishStream();
    assert.equal(await stream, 'streamed');
    assert.equal(await oneShot, true);
    await assert.rejects(a.withPermit(() => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(a.status().permits_in_use, 0);
  });
});

describe('the bounded wait queue', () => {
  test('past maxQueue waiters a caller is refused at once as busy; a freed slot admits the next', async () => {
    const a = new InferenceAdmission({ override: 1, totalMemoryBytes: 0, maxQueue: 2 });
    const held = await a.acquire();
    const w1 = a.acquire();
    const w2 = a.acquire();
    assert.equal(a.status().queue_depth, 2);
    await assert.rejects(a.acquire(), (err: unknown) => {
      assert.ok(err instanceof AdmissionBusyError);
      assert.equal(err.kind, 'limit');
      assert.equal(err.limit, 2);
      assert.match(err.message, /busy/);
      assert.deepEqual(err.detail, { reason: 'inference_busy', permits_total: 1, queue_depth: 2 });
      return true;
    });
    assert.equal(a.status().queue_depth, 2, 'the refused caller never joined the queue');
    held.release();
    (await w1).release();
    const w3 = a.acquire();
    assert.equal(a.status().queue_depth, 1);
    (await w2).release();
    (await w3).release();
    assert.deepEqual(a.status(), { permits_total: 1, permits_available: 1, permits_in_use: 0, env_override: 1, queue_depth: 0, queue_max: 2 });
  });

  test('maxQueue 0: a free permit is still granted, but nobody waits', async () => {
    const a = new InferenceAdmission({ override: 1, totalMemoryBytes: 0, maxQueue: 0 });
    const held = await a.acquire();
    await assert.rejects(a.acquire(), AdmissionBusyError);
    held.release();
    (await a.acquire()).release();
    assert.throws(() => new InferenceAdmission({ totalMemoryBytes: 0, maxQueue: -1 }), RangeError);
  });

  test('ServerState takes the queue limit from inferenceQueueMax (default 512)', () => {
    assert.equal(new ServerStateConfig().inferenceQueueMax, 512);
    const s = ServerState.embedded(new ServerStateConfig({ inferenceQueueMax: 3, inferenceMaxConcurrent: 1 }));
    assert.equal(s.admission.status().queue_max, 3);
    assert.throws(() => new ServerStateConfig({ inferenceQueueMax: -1 }), RangeError);
    assert.throws(() => new ServerStateConfig({ inferenceQueueMax: 1.5 }), RangeError);
  });
});
