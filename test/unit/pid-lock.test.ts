import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { lockContents, PidLock, processStartTime } from '../../src/util/pid-lock.js';
import { tempDir } from '../helpers/temp.js';

/** A live process that has nothing to do with any lock. */
function unrelatedProcess(t: test.TestContext): number {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  t.after(() => {
    child.kill('SIGKILL');
  });
  return child.pid!;
}

test('the lock records the pid and the process start time from /proc', (t) => {
  const path = join(tempDir(t, 'car-lock-'), 'run', 'daemon.lock');
  const lock = PidLock.acquire(path);
  assert.ok(lock instanceof PidLock);
  const start = processStartTime(process.pid);
  assert.match(start ?? '', /^\d+$/, 'Linux has /proc');
  assert.equal(readFileSync(path, 'utf8'), `${process.pid} ${start}\n`);
  lock.release();
});

test('a stale lock naming a live unrelated pid (pid reused: its start time differs) is taken over', (t) => {
  const path = join(tempDir(t, 'car-lock-'), 'daemon.lock');
  const pid = unrelatedProcess(t);
  const real = processStartTime(pid)!;
  writeFileSync(path, `${pid} ${Number(real) + 12345}\n`);
  const lock = PidLock.acquire(path);
  assert.ok(lock instanceof PidLock, `taken over, not held by ${JSON.stringify(lock)}`);
  assert.equal(readFileSync(path, 'utf8'), lockContents(process.pid));
  lock.release();
});

test('a lock whose pid and start time both match a live process is respected', (t) => {
  const path = join(tempDir(t, 'car-lock-'), 'daemon.lock');
  const pid = unrelatedProcess(t);
  writeFileSync(path, lockContents(pid));
  assert.deepEqual(PidLock.acquire(path), { heldBy: pid });
});
