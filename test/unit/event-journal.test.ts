import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import nodeFs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { after, describe } from 'node:test';
import { EventJournal, EventLog, readJournal, ServerStateConfig, ClientSession, type RuntimeEvent } from '../../src/index.js';
import type { JournalFs } from '../../src/engine/events/journal.js';
import { parseCliArgs } from '../../src/cli/args.js';
import { resolveJournalDir, resolveSettings } from '../../src/cli/settings.js';
import type { WsChannel } from '../../src/server/channel.js';
import { installCrashFs } from '../helpers/crash-fs.js';
import { removeTempDir, tempDir } from '../helpers/temp.js';

const scratch = tempDir('car-journal-');
after(() => removeTempDir(scratch));
let dirCounter = 0;
function freshDir(): string {
  return join(scratch, `d${dirCounter++}`);
}

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
}

/** node:fs with a log of the calls the journal made, and optional failures by call name. */
function recordingFs(fail: Partial<Record<keyof JournalFs, Error>> = {}): { ops: JournalFs; calls: string[] } {
  const calls: string[] = [];
  const wrap =
    <K extends keyof JournalFs>(name: K) =>
    (...args: unknown[]): unknown => {
      const first = typeof args[0] === 'string' ? String(args[0]).split('/').pop() : typeof args[0];
      calls.push(`${name}:${first}`);
      const error = fail[name];
      if (error !== undefined) throw error;
      return (fs[name] as (...a: unknown[]) => unknown)(...args);
    };
  const names: (keyof JournalFs)[] = ['appendFileSync', 'existsSync', 'mkdirSync', 'readFileSync'];
  const ops = Object.fromEntries(names.map((n) => [n, wrap(n)])) as unknown as JournalFs;
  return { ops, calls };
}

describe('EventJournal', () => {
  test('nothing is created until the first append; then the directory and a 0600 file appear', () => {
    const dir = join(freshDir(), 'nested');
    const path = join(dir, 'c1.jsonl');
    const log = new EventLog({ journal: new EventJournal(path) });
    assert.equal(existsSync(dir), false);
    log.append('A', { data: { x: 1 } });
    assert.equal(existsSync(path), true);
    if (process.platform !== 'win32') {
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(statSync(dir).mode & 0o777, 0o700);
    }
    log.append('B', { action_id: 'a1' });
    assert.deepEqual(readJournal(path), log.all());
    assert.equal(lines(path).length, 2);
  });

  test('the journal keeps the chain fields, so a journal can be verified offline', async () => {
    const { verifyChain } = await import('../../src/index.js');
    const path = join(freshDir(), 'c.jsonl');
    const log = new EventLog({ journal: new EventJournal(path) });
    log.append('before');
    log.enableChain();
    for (let i = 0; i < 4; i++) log.append('E', { data: { i } });
    assert.deepEqual(verifyChain(readJournal(path)), { verified: 4 });
    // Tamper with one line of the file.
    const text = lines(path);
    const edited = JSON.parse(text[2]!) as RuntimeEvent;
    edited.data.i = 100;
    text[2] = JSON.stringify(edited);
    writeFileSync(path, `${text.join('\n')}\n`);
    assert.deepEqual(verifyChain(readJournal(path)), { tampered_at: 2 });
  });

  test('retention alone leaves stale lines in the file until compaction pays off', () => {
    const path = join(freshDir(), 'c.jsonl');
    const journal = new EventJournal(path, { compactMinStaleLines: 4 });
    const log = new EventLog({ journal });
    log.setRetention({ max_events: 2 });
    for (let i = 0; i < 5; i++) log.append('E', { data: { i } });
    // 5 lines, 2 retained: 3 stale lines is below the threshold of 4.
    assert.equal(lines(path).length, 5);
    assert.equal(journal.lines, 5);
    log.append('E', { data: { i: 5 } });
    // 6 lines, 2 retained: 4 stale and a 67% shrink, so the file is rewritten to the retained events.
    assert.equal(journal.lines, 2);
    assert.deepEqual(readJournal(path), log.all());
    assert.deepEqual(
      readJournal(path).map((e) => e.data.i),
      [4, 5],
    );
    // Appends continue on the rewritten file.
    log.append('E', { data: { i: 6 } });
    assert.deepEqual(
      readJournal(path).map((e) => e.data.i),
      [4, 5, 6],
    );
    assert.deepEqual(readdirSync(join(path, '..')), ['c.jsonl']);
  });

  test('no rewrite when it would shrink the file by less than compactMinShrink', () => {
    const path = join(freshDir(), 'c.jsonl');
    const journal = new EventJournal(path, { compactMinStaleLines: 2 });
    const log = new EventLog({ journal });
    for (let i = 0; i < 3; i++) log.append('small');
    const big = 'x'.repeat(10_000);
    log.append('big', { data: { big } });
    log.append('big', { data: { big } });
    const before = journal.bytes;
    log.setRetention({ max_events: 2 });
    // 3 stale lines, but they are tiny: dropping them saves far less than 25%.
    assert.equal(journal.lines, 5);
    assert.equal(journal.bytes, before);
    assert.equal(lines(path).length, 5);
    // A lower shrink bar lets the same situation compact.
    const path2 = join(freshDir(), 'c.jsonl');
    const journal2 = new EventJournal(path2, { compactMinStaleLines: 2, compactMinShrink: 0.0001 });
    const log2 = new EventLog({ journal: journal2 });
    for (let i = 0; i < 3; i++) log2.append('small');
    log2.append('big', { data: { big } });
    log2.append('big', { data: { big } });
    log2.setRetention({ max_events: 2 });
    assert.equal(journal2.lines, 2);
    assert.deepEqual(readJournal(path2), log2.all());
  });

  test('the defaults need 1024 stale lines', () => {
    const path = join(freshDir(), 'c.jsonl');
    const journal = new EventJournal(path);
    const log = new EventLog({ journal });
    log.setRetention({ max_events: 10 });
    for (let i = 0; i < 1033; i++) log.append('E', { data: { i } });
    assert.equal(journal.lines, 1033); // 1023 stale
    log.append('E', { data: { i: 1033 } });
    assert.equal(journal.lines, 10); // 1024 stale: rewritten
    assert.deepEqual(readJournal(path), log.all());
  });

  test('crash-fs: a finished compaction survives a power cut (temp file fsynced, renamed over, directory fsynced)', async () => {
    const root = freshDir();
    fs.mkdirSync(root, { recursive: true });
    const crashFs = await installCrashFs(root);
    try {
      const path = join(root, 'j', 'c.jsonl');
      const journal = new EventJournal(path, { compactMinStaleLines: 1 });
      const log = new EventLog({ journal });
      for (let i = 0; i < 6; i++) log.append('E', { data: { i } });
      log.setRetention({ max_events: 2 });
      assert.equal(journal.lines, 2);
      assert.ok(crashFs.fileSyncs > 0 && crashFs.dirSyncs > 0);
      crashFs.crash();
      assert.deepEqual(
        readJournal(path).map((e) => e.data.i),
        [4, 5],
      );
      assert.deepEqual(readdirSync(join(path, '..')), ['c.jsonl'], 'no temp file is left');
    } finally {
      crashFs.uninstall();
    }
  });

  test('a failed rewrite leaves the old journal intact, removes the temp file and backs off', () => {
    const path = join(freshDir(), 'c.jsonl');
    const errors: string[] = [];
    const journal = new EventJournal(path, { compactMinStaleLines: 2, onError: (err, during) => errors.push(`${during}:${err.message}`) });
    const log = new EventLog({ journal });
    log.setRetention({ max_events: 1 });
    const rename = nodeFs.renameSync;
    nodeFs.renameSync = () => {
      throw new Error('EXDEV simulated');
    };
    syncBuiltinESMExports();
    try {
      for (let i = 0; i < 3; i++) log.append('E', { data: { i } });
      assert.deepEqual(errors, ['compact:EXDEV simulated']);
      assert.deepEqual(
        readJournal(path).map((e) => e.data.i),
        [0, 1, 2],
      );
      assert.deepEqual(readdirSync(join(path, '..')), ['c.jsonl']);
      // No retry on the very next append: it waits for compactMinStaleLines more lines.
      log.append('E', { data: { i: 3 } });
      assert.equal(errors.length, 1);
      log.append('E', { data: { i: 4 } });
      assert.equal(errors.length, 2);
    } finally {
      nodeFs.renameSync = rename;
      syncBuiltinESMExports();
    }
    // Appends kept working throughout, and the next rewrite succeeds.
    assert.equal(lines(path).length, 5);
    log.append('E', { data: { i: 5 } });
    log.append('E', { data: { i: 6 } });
    assert.equal(errors.length, 2);
    assert.deepEqual(readJournal(path), log.all());
  });

  test('a failed append is reported once and the journal stops writing; the log keeps working', () => {
    const path = join(freshDir(), 'c.jsonl');
    const errors: string[] = [];
    const { ops } = recordingFs({ appendFileSync: new Error('EACCES simulated') });
    const journal = new EventJournal(path, { fs: ops, onError: (err, during) => errors.push(`${during}:${err.message}`) });
    const log = new EventLog({ journal });
    log.append('A');
    log.append('B');
    assert.deepEqual(errors, ['append:EACCES simulated']);
    assert.equal(journal.healthy, false);
    assert.equal(log.count, 2);
  });

  test('readJournal skips a torn last line; appending after one starts a fresh line', () => {
    const path = join(freshDir(), 'c.jsonl');
    fs.mkdirSync(join(path, '..'), { recursive: true });
    const good = { seq: 0, id: 'i', kind: 'A', timestamp: '2025-01-01T00:00:00.000Z', data: {} };
    writeFileSync(path, `${JSON.stringify(good)}\n{"seq":1,"id":"tor`);
    assert.deepEqual(readJournal(path), [good]);
    const journal = new EventJournal(path);
    const log = new EventLog({ journal });
    log.append('B');
    assert.equal(journal.lines, 3);
    assert.throws(() => readJournal(path), /c\.jsonl:2: not a JSON event line/);
  });
});

describe('journal wiring', () => {
  const fakeChannel = {} as WsChannel;

  test('a ClientSession journals to <journalDir>/<client_id>.jsonl, created by the first event only', () => {
    const dir = freshDir();
    const session = new ClientSession(fakeChannel, new ServerStateConfig({ journalDir: dir }), 'test', undefined);
    assert.equal(existsSync(dir), false);
    session.events.append('A');
    assert.deepEqual(readdirSync(dir), [`${session.clientId}.jsonl`]);
    assert.deepEqual(readJournal(join(dir, `${session.clientId}.jsonl`)), session.events.all());
  });

  test('without journalDir (the library default) nothing is written', () => {
    assert.equal(new ServerStateConfig().journalDir, null);
    assert.throws(() => new ServerStateConfig({ journalDir: '' }), TypeError);
  });

  test('--journal-dir: default under CAR_HOME, ~/.car/ means CAR_HOME, ~ the home, relative from cwd', () => {
    const where = { carHome: '/srv/car', home: '/home/u', cwd: '/work' };
    assert.equal(resolveJournalDir(undefined, where), '/srv/car/journals');
    assert.equal(resolveJournalDir('~/.car/journals', where), '/srv/car/journals');
    assert.equal(resolveJournalDir('~/.car/j/x', where), '/srv/car/j/x');
    assert.equal(resolveJournalDir('~/.car', where), '/srv/car');
    assert.equal(resolveJournalDir('~/.carrot/j', where), '/home/u/.carrot/j');
    assert.equal(resolveJournalDir('~/logs', where), '/home/u/logs');
    assert.equal(resolveJournalDir('rel/j', where), '/work/rel/j');
    assert.equal(resolveJournalDir('/abs/j', where), '/abs/j');
    const settings = resolveSettings(parseCliArgs(['--journal-dir', '/x']), {});
    assert.equal(settings.journalDir, '/x');
    assert.equal('journalDir' in resolveSettings(parseCliArgs([]), {}), false);
    assert.throws(() => parseCliArgs(['--journal-dir=']), /--journal-dir must not be empty/);
  });
});
