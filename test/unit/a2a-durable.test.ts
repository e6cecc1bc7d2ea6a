import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test, { describe } from 'node:test';
import { filesystemTools } from '../../src/a2a/files-tools.js';
import { loadOrCreateKey } from '../../src/a2a/signing-key.js';
import { installCrashFs, type CrashFs } from '../helpers/crash-fs.js';
import { tempDir } from '../helpers/temp.js';

/** Power-cut tests for A2A's files: what was acknowledged is there after losing unsynced data. */

async function withCrashFs(t: test.TestContext, fn: (dir: string, fs: CrashFs) => Promise<void>): Promise<void> {
  const dir = tempDir(t, 'car-a2a-crash-');
  const fs = await installCrashFs(dir);
  try {
    await fn(dir, fs);
  } finally {
    fs.uninstall();
  }
}

describe('crash-fs: A2A files', () => {
  test('the signing key survives a power cut right after it was first used (file, its directory and the new a2a/ entry synced)', async (t) => {
    await withCrashFs(t, async (dir, fs) => {
      const path = join(dir, 'home', 'a2a', 'agent-key.pem');
      const key = await loadOrCreateKey(path);
      fs.crash();
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, 'home', 'a2a')).mode & 0o777, 0o700);
      const again = await loadOrCreateKey(path);
      assert.equal(again.kid, key.kid, 'the same key, not a new one');
      assert.match(readFileSync(path, 'utf8'), /BEGIN PRIVATE KEY/);
    });
  });

  test('write_file: acknowledged content survives (atomic write, fsynced before the result)', async (t) => {
    await withCrashFs(t, async (dir, fs) => {
      const write = filesystemTools(dir, 1024).find((x) => x.name === 'write_file')!;
      await write.run({ path: 'deep/dir/a.txt', content: 'kept' });
      fs.crash();
      assert.equal(readFileSync(join(dir, 'deep', 'dir', 'a.txt'), 'utf8'), 'kept');
    });
  });
});
