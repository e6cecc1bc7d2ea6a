import assert from 'node:assert/strict';
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import test, { describe } from 'node:test';
import { ApprovalLedger } from '../../src/engine/permission/ledger.js';
import { RunFiles } from '../../src/engine/runs/run-files.js';
import { DurableStore, storeFiles } from '../../src/memory/durable-log.js';
import { MemoryEngine } from '../../src/memory/engine.js';
import { MemoryScope } from '../../src/memory/scope.js';
import { parseSnapshot } from '../../src/memory/snapshot.js';
import { writeFileAtomic } from '../../src/util/durable-file.js';
import { writeModelRows } from '../../src/inference/models-file.js';
import { writeSecretFile } from '../../src/cli/tokens.js';
import { installCrashFs, type CrashFs } from '../helpers/crash-fs.js';
import { tempDir } from '../helpers/temp.js';

/**
 * Power-cut tests: the crash-fs layer drops every byte and directory entry that was not fsynced
 * when `crash()` is called. Each test names the fsync it depends on; taking that fsync out of the
 * code makes the test fail.
 */

async function withCrashFs(t: test.TestContext, fn: (dir: string, fs: CrashFs) => Promise<void>): Promise<void> {
  const dir = tempDir(t, 'car-crash-');
  const fs = await installCrashFs(dir);
  try {
    await fn(dir, fs);
  } finally {
    fs.uninstall();
  }
}

async function openScope(path: string, compactMinBytes?: number) {
  const engine = new MemoryEngine();
  const { store, recovery } = await DurableStore.open(path, engine, { compactMinBytes });
  return { scope: new MemoryScope('namespace', 'crash', engine, store), recovery };
}

function bodies(scope: MemoryScope): string[] {
  return [...scope.engine.graph.all()].filter((n) => n.valid).map((n) => n.body).sort();
}

function expected(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix} ${i}`).sort();
}

describe('crash-fs: acknowledged writes survive losing unsynced data', () => {
  test('memory log: every acknowledged fact of a new graph survives (log fdatasync; directory fsync when the log is created)', async (t) => {
    await withCrashFs(t, async (dir, fs) => {
      const path = join(dir, 'memory', 'g.json');
      const { scope } = await openScope(path);
      await Promise.all(Array.from({ length: 64 }, (_, i) => scope.addFact({ subject: `writer ${i}`, body: `fact ${i}` })));
      for (let i = 64; i < 80; i++) await scope.addFact({ subject: `writer ${i}`, body: `fact ${i}` });
      assert.ok(fs.fileSyncs > 0);
      fs.crash();
      const after = await openScope(path);
      assert.deepEqual(bodies(after.scope), expected('fact', 80));
      await after.scope.close();
    });
  });

  test('memory log: writes after a compaction survive (directory fsync after the generations rotate)', async (t) => {
    await withCrashFs(t, async (dir, fs) => {
      const path = join(dir, 'g.json');
      const { scope } = await openScope(path, 512);
      for (let i = 0; i < 60; i++) await scope.addFact({ subject: `office ${i}`, body: `office fact ${i}` });
      assert.ok(existsSync(path), 'compacted at least once');
      fs.crash();
      const after = await openScope(path, 512);
      assert.deepEqual(bodies(after.scope), expected('office fact', 60));
      await after.scope.close();
    });
  });

  test('memory snapshot: the snapshot a compaction wrote is whole after a crash (snapshot file fsync before the rename)', async (t) => {
    await withCrashFs(t, async (dir, fs) => {
      const path = join(dir, 'g.json');
      const { scope } = await openScope(path);
      for (let i = 0; i < 10; i++) await scope.addFact({ subject: `project ${i}`, body: `project fact ${i}` });
      await scope.close();
      fs.crash();
      const after = await openScope(path);
      assert.equal(after.recovery.base, 'snapshot');
      assert.deepEqual(after.recovery.corruptSnapshots, []);
      assert.deepEqual(bodies(after.scope), expected('project fact', 10));
      await after.scope.close();
    });
  });

  test('memory recovery: a graph rebuilt around a bad log line stays rebuilt after a crash (log truncate fdatasync)', async (t) => {
    await withCrashFs(t, async (dir, fs) => {
      const path = join(dir, 'g.json');
      const { scope } = await openScope(path);
      for (let i = 0; i < 10; i++) await scope.addFact({ subject: `team ${i}`, body: `team fact ${i}` });
      // Damage one line of the log, durably.
      const log = storeFiles(path).log;
      const lines = readFileSync(log, 'utf8').split('\n');
      lines[3] = '{"seq": garbage';
      const fd = openSync(log, 'w');
      writeSync(fd, lines.join('\n'));
      fsyncSync(fd);
      closeSync(fd);
      const first = await openScope(path);
      assert.equal(first.recovery.skipped.length, 1);
      fs.crash();
      const second = await openScope(path);
      assert.deepEqual(second.recovery.skipped, [], 'the damage was repaired durably');
      assert.equal(second.scope.engine.factCount, 9);
      await second.scope.close();
    });
  });

  test('memory.persist and atomic writes: the file exists and is whole after a crash (temp fsync, directory fsync after the rename)', async (t) => {
    await withCrashFs(t, async (dir, fs) => {
      const { scope } = await openScope(join(dir, 'g.json'));
      await scope.addFact({ subject: 'db', body: 'Postgres 16' });
      const out = join(dir, 'export.json');
      assert.equal(await scope.persistTo(out), 1);
      await writeFileAtomic(join(dir, 'plain.json'), '{"ok":true}');
      fs.crash();
      assert.equal(parseSnapshot(readFileSync(out, 'utf8')).facts[0]!.body, 'Postgres 16');
      assert.deepEqual(JSON.parse(readFileSync(join(dir, 'plain.json'), 'utf8')), { ok: true });
    });
  });

  test('approval ledger: every recorded decision survives (fsync per decision; directory fsync when the journal is created)', async (t) => {
    await withCrashFs(t, async (dir, fs) => {
      const path = join(dir, 'approvals.jsonl');
      const ledger = new ApprovalLedger(path);
      for (let i = 0; i < 5; i++) ledger.record({ fingerprint: `fp-${i}`, decision: 'approved', required_tier: 'read_only', reviewer: 'conn:a' });
      fs.crash();
      const after = new ApprovalLedger(path);
      assert.equal(after.size, 5);
      assert.equal(after.skippedLines, 0);
    });
  });

  test('run traces: every appended record survives (fsync per append; directory fsync when a trace is created)', async (t) => {
    await withCrashFs(t, async (dir, fs) => {
      const runs = new RunFiles(join(dir, 'runs'));
      const started = { kind: 'started', run_id: 'r1', agent_id: 'bot', intent: 'test', started_at: '2026-01-01T00:00:00.000Z' } as const;
      await runs.append('bot', 'r1', [started as never]);
      await runs.append('bot', 'r1', [{ kind: 'turn', index: 0 } as never]);
      fs.crash();
      const records = await runs.read('bot', 'r1');
      assert.equal(records?.length, 2);
    });
  });

  test('models.json: a registered model survives a crash, and a rewrite leaves the old file or the new one (temp fsync, directory fsync after the rename)', async (t) => {
    await withCrashFs(t, async (dir, fs) => {
      const path = join(dir, 'cfg', 'models.json');
      await writeModelRows(path, [{ id: 'first' }]);
      fs.crash();
      assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { models: [{ id: 'first' }] });
      await writeModelRows(path, [{ id: 'first' }, { id: 'second' }]);
      fs.crash();
      assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')).models.map((m: { id: string }) => m.id), ['first', 'second']);
      assert.ok(fs.dirSyncs > 0 && fs.fileSyncs > 0);
    });
  });

  test('daemon tokens: a minted token file survives a crash, whole and private (sync writer: temp fsync, directory fsync after the rename)', async (t) => {
    await withCrashFs(t, async (dir, fs) => {
      const path = join(dir, 'auth-token');
      writeSecretFile(path, 'token-one');
      fs.crash();
      assert.equal(readFileSync(path, 'utf8'), 'token-one');
      writeSecretFile(path, 'token-two');
      fs.crash();
      assert.equal(readFileSync(path, 'utf8'), 'token-two');
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.deepEqual(readdirSync(dir), ['auth-token'], 'no temp file left behind');
    });
  });
});

