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
