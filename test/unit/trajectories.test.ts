import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { describe } from 'node:test';
import { TRAJECTORY_FILE, TrajectoryStore } from '../../src/engine/trajectories.js';
import { installCrashFs } from '../helpers/crash-fs.js';
import { tempDir } from '../helpers/temp.js';

const DAY = 24 * 60 * 60 * 1000;
const lines = (path: string): number => readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').length;

describe('TrajectoryStore', () => {
  test('counts are dispatch-conditional per tool and limited to the window', async () => {
    const store = new TrajectoryStore(null, 100);
    const now = Date.now();
    await store.record([{ tool: 'fetch', ok: true }, { tool: 'fetch', ok: false }, { tool: 'save', ok: true }], now - 40 * DAY);
    await store.record([{ tool: 'fetch', ok: true }, { tool: 'fetch', ok: true }, { tool: 'fetch', ok: false }], now);
    assert.deepEqual(Object.fromEntries(await store.counts(30, now)), { fetch: { succeeded: 2, dispatched: 3 } });
    assert.deepEqual(Object.fromEntries(await store.counts(365, now)), { fetch: { succeeded: 3, dispatched: 5 }, save: { succeeded: 1, dispatched: 1 } });
  });

  test('maxTrajectoryRecords: exactly the bound is kept; one more drops the oldest, and the file is compacted at twice the bound', async (t) => {
    const dir = join(tempDir(t, 'car-traj-'), 'trajectories');
    const store = new TrajectoryStore(dir, 4);
    for (let i = 0; i < 4; i++) await store.record([{ tool: i === 0 ? 'first' : 'tool', ok: true }]);
    assert.equal(store.size, 4);
    assert.ok((await store.counts(1)).has('first'));
    await store.record([{ tool: 'tool', ok: false }]);
    assert.equal(store.size, 4);
    assert.equal((await store.counts(1)).has('first'), false, 'the oldest outcome went first');
    const path = join(dir, TRAJECTORY_FILE);
    for (let i = 0; i < 3; i++) await store.record([{ tool: 'tool', ok: true }]);
    assert.equal(lines(path), 8, 'appends until twice the bound');
    await store.record([{ tool: 'tool', ok: true }]);
    assert.equal(lines(path), 4, 'then rewritten to the newest bound');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    await store.close();
    const again = new TrajectoryStore(dir, 4);
    assert.deepEqual(Object.fromEntries(await again.counts(1)), { tool: { succeeded: 4, dispatched: 4 } });
  });

  test('one record call is stored grouped per tool and result: 1,000 calls of one tool are one line', async (t) => {
    const dir = tempDir(t, 'car-traj-');
    const store = new TrajectoryStore(dir, 100_000);
    const outcomes = Array.from({ length: 1000 }, (_, i) => ({ tool: i % 100 === 0 ? 'flaky' : 'echo', ok: i % 200 !== 0 }));
    await store.record(outcomes, 1_000);
    const path = join(dir, TRAJECTORY_FILE);
    const stored = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
    assert.deepEqual(stored, [
      { t: 1_000, tool: 'flaky', ok: false, n: 5 },
      { t: 1_000, tool: 'echo', ok: true, n: 990 },
      { t: 1_000, tool: 'flaky', ok: true, n: 5 },
    ]);
    assert.equal(store.size, 1000);
    const expected = { echo: { succeeded: 990, dispatched: 990 }, flaky: { succeeded: 5, dispatched: 10 } };
    assert.deepEqual(Object.fromEntries(await store.counts(Infinity)), expected);
    await store.close();
    assert.deepEqual(Object.fromEntries(await new TrajectoryStore(dir, 100_000).counts(Infinity)), expected, 'the counts survive a reload');
  });

  test('the bound counts outcomes: a group partly past it keeps its newer part, in memory and after a reload', async (t) => {
    const dir = tempDir(t, 'car-traj-');
    const store = new TrajectoryStore(dir, 10);
    await store.record(Array.from({ length: 7 }, () => ({ tool: 'old', ok: true })), 1);
    await store.record(Array.from({ length: 7 }, () => ({ tool: 'new', ok: false })), 2);
    assert.equal(store.size, 10);
    const expected = { old: { succeeded: 3, dispatched: 3 }, new: { succeeded: 0, dispatched: 7 } };
    assert.deepEqual(Object.fromEntries(await store.counts(Infinity)), expected);
    await store.close();
    const again = new TrajectoryStore(dir, 10);
    assert.deepEqual(Object.fromEntries(await again.counts(Infinity)), expected);
    assert.equal(again.size, 10);
    // One call bigger than the whole bound keeps only its newest outcomes.
    await again.record(Array.from({ length: 25 }, () => ({ tool: 'burst', ok: true })), 3);
    assert.deepEqual(Object.fromEntries(await again.counts(Infinity)), { burst: { succeeded: 10, dispatched: 10 } });
    await again.close();
    assert.deepEqual(Object.fromEntries(await new TrajectoryStore(dir, 10).counts(Infinity)), { burst: { succeeded: 10, dispatched: 10 } });
  });

  test('lines without a count stand for one outcome; a line with a bad count is skipped', async (t) => {
    const dir = tempDir(t, 'car-traj-');
    const now = Date.now();
    writeFileSync(
      join(dir, TRAJECTORY_FILE),
      [
        { t: now, tool: 'x', ok: true },
        { t: now, tool: 'x', ok: false, n: 3 },
        { t: now, tool: 'x', ok: true, n: 0 },
        { t: now, tool: 'x', ok: true, n: 1.5 },
        { t: now, tool: 'x', ok: true, n: '2' },
      ]
        .map((r) => `${JSON.stringify(r)}\n`)
        .join(''),
    );
    assert.deepEqual(Object.fromEntries(await new TrajectoryStore(dir, 10).counts(1)), { x: { succeeded: 1, dispatched: 4 } });
  });

  test('a torn last line is skipped on load', async (t) => {
    const dir = tempDir(t, 'car-traj-');
    writeFileSync(join(dir, TRAJECTORY_FILE), `${JSON.stringify({ t: Date.now(), tool: 'x', ok: true })}\n{"t":17`);
    assert.deepEqual(Object.fromEntries(await new TrajectoryStore(dir, 10).counts(1)), { x: { succeeded: 1, dispatched: 1 } });
  });

  test('crash-fs: every acknowledged outcome survives a power cut (fdatasync per append; directory fsync on create)', async (t) => {
    const root = tempDir(t, 'car-traj-crash-');
    const fs = await installCrashFs(root);
    try {
      const dir = join(root, 'trajectories');
      const store = new TrajectoryStore(dir, 1000);
      for (let i = 0; i < 20; i++) await store.record([{ tool: 'deploy', ok: i % 4 !== 0 }]);
      assert.ok(fs.fileSyncs > 0);
      fs.crash();
      assert.deepEqual(Object.fromEntries(await new TrajectoryStore(dir, 1000).counts(1)), { deploy: { succeeded: 15, dispatched: 20 } });
    } finally {
      fs.uninstall();
    }
  });
});
