import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test, { describe } from 'node:test';
import { filesystemTools } from '../../src/a2a/files-tools.js';
import { PeerMessageLog } from '../../src/a2a/peer-log.js';
import { PeerStore } from '../../src/a2a/peers.js';
import { ephemeralKey, loadOrCreateKey } from '../../src/a2a/signing-key.js';
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

  test('peer-messages.jsonl: an acknowledged message survives a power cut (line fdatasynced, the new file and its directory entry synced)', async (t) => {
    await withCrashFs(t, async (dir, fs) => {
      const path = join(dir, 'home', 'peer-messages.jsonl');
      const log = new PeerMessageLog(path, 1024);
      await log.append({ n: 1, text: 'hello' });
      await log.append({ n: 2, text: 'again' });
      fs.crash();
      assert.deepEqual(readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l).n), [1, 2]);
      assert.equal(statSync(path).mode & 0o777, 0o600);
    });
  });

  test('peer-messages.jsonl: after a rotation both generations survive a power cut (rename and new file synced)', async (t) => {
    await withCrashFs(t, async (dir, fs) => {
      const path = join(dir, 'peer-messages.jsonl');
      const log = new PeerMessageLog(path, 10);
      await log.append({ n: 1 });
      await log.append({ n: 2 });
      fs.crash();
      assert.equal(readFileSync(`${path}.1`, 'utf8'), '{"n":1}\n');
      assert.equal(readFileSync(path, 'utf8'), '{"n":2}\n');
    });
  });

  test('a2a-peers.json: a peer added with its publicKey is still trusted after a power cut', async (t) => {
    await withCrashFs(t, async (dir, fs) => {
      const path = join(dir, 'home', 'a2a-peers.json');
      const key = ephemeralKey();
      await new PeerStore(path, 4).add({ url: 'http://127.0.0.1:8731', publicKey: key.publicKeyBase64, allowUntrusted: false });
      fs.crash();
      const peer = await new PeerStore(path, 4).byKey(key.publicKeyBase64);
      assert.equal(peer?.fingerprint, key.kid);
      assert.equal(statSync(path).mode & 0o777, 0o600);
    });
  });
});
