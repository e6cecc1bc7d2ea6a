import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import test, { after, describe } from 'node:test';
import { DurableStore, parseLog, storeFiles, type RecoveryInfo } from '../../src/memory/durable-log.js';
import { MemoryEngine } from '../../src/memory/engine.js';
import { decodeNamespace, encodeNamespace, namespaceSnapshotPath } from '../../src/memory/namespaces.js';
import { resolveSandboxed } from '../../src/memory/sandbox.js';
import { MemoryScope } from '../../src/memory/scope.js';
import { MemoryService } from '../../src/memory/service.js';
import { serializeSnapshot, snapshotOf } from '../../src/memory/snapshot.js';
import { prng as rng } from '../helpers/prng.js';

const root = mkdtempSync(join(tmpdir(), 'car-memory-durable-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
function freshDir(): string {
  const dir = join(root, `d${++dirs}`);
  mkdirSync(dir);
  return dir;
}

async function openScope(path: string, compactMinBytes?: number): Promise<{ scope: MemoryScope; store: DurableStore } & RecoveryInfo> {
  const engine = new MemoryEngine();
  const { store, recovery } = await DurableStore.open(path, engine, { compactMinBytes });
  return { scope: new MemoryScope('namespace', 'test', engine, store), store, ...recovery };
}

function bodies(scope: MemoryScope): string[] {
  return [...scope.engine.graph.all()].filter((n) => n.valid).map((n) => n.body);
}

describe('durable memory: log and snapshot', () => {
  test('acknowledged writes survive an abandoned process (no close, no snapshot)', async () => {
    const path = join(freshDir(), 'g.json');
    const { scope } = await openScope(path);
    for (let i = 0; i < 20; i++) await scope.addFact({ subject: `s${i}`, body: `fact ${i}` });
    // No close(): as after a crash, only the log holds the writes.
    assert.equal(existsSync(path), false);
    const reopened = await openScope(path);
    assert.equal(reopened.replayed, 20);
    assert.equal(reopened.scope.engine.factCount, 20);
    assert.deepEqual(bodies(reopened.scope), Array.from({ length: 20 }, (_, i) => `fact ${i}`));
    await reopened.scope.close();
  });

  test('concurrent writes share fsyncs, resolve in order and all come back', async () => {
    const path = join(freshDir(), 'g.json');
    const { scope, store } = await openScope(path);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => scope.addFact({ subject: `k${i}`, body: `v${i}` })));
    assert.deepEqual(results.map((r) => r.node.id), Array.from({ length: 200 }, (_, i) => `ws-${i + 1}`));
    assert.equal(store.pendingWrites, 0);
    const lines = readFileSync(path.replace(/\.json$/, '.log'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 200);
    assert.deepEqual(lines.map((l) => JSON.parse(l).seq), Array.from({ length: 200 }, (_, i) => i + 1));
    const reopened = await openScope(path);
    assert.equal(reopened.scope.engine.factCount, 200);
    await Promise.all([scope.close(), reopened.scope.close()]);
  });

  test('an unfinished last record is cut off on recovery and later writes append cleanly', async () => {
    const path = join(freshDir(), 'g.json');
    const log = path.replace(/\.json$/, '.log');
    const { scope } = await openScope(path);
    await scope.addFact({ subject: 'a', body: 'kept' });
    appendFileSync(log, '{"seq":2,"op":"add","at":"2026-01-01T00:00:00Z","origin":null,"fact":{"subject":"b","bo');
    const reopened = await openScope(path);
    assert.ok(reopened.truncatedBytes > 0);
    assert.deepEqual(bodies(reopened.scope), ['kept']);
    await reopened.scope.addFact({ subject: 'c', body: 'after' });
    const again = await openScope(path);
    assert.deepEqual(bodies(again.scope), ['kept', 'after']);
    assert.equal(parseLog(readFileSync(log)).validBytes, statSync(log).size);
    await Promise.all([scope.close(), reopened.scope.close(), again.scope.close()]);
  });

  test('the log is compacted into the snapshot once it outgrows it; recovery reads both', async () => {
    const path = join(freshDir(), 'g.json');
    const log = path.replace(/\.json$/, '.log');
    const { scope } = await openScope(path, 2048);
    for (let i = 0; i < 120; i++) await scope.addFact({ subject: `fact ${i}`, body: `body number ${i}` });
    assert.ok(existsSync(path), 'a snapshot was written');
    const snap = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(snap.format, 'car-memgine');
    assert.ok(snap.seq > 0 && snap.seq < 120);
    assert.ok(statSync(log).size < statSync(path).size + 2048);
    const reopened = await openScope(path, 2048);
    assert.equal(reopened.scope.engine.factCount, 120);
    assert.equal(reopened.replayed, 120 - snap.seq);
    await Promise.all([scope.close(), reopened.scope.close()]);
  });

  test('records already folded into the snapshot are not replayed twice (crash between rename and truncate)', async () => {
    const path = join(freshDir(), 'g.json');
    const { scope } = await openScope(path);
    for (let i = 0; i < 5; i++) await scope.addFact({ subject: `s${i}`, body: `b${i}` });
    // The snapshot covering seq 1..5 lands, but the log is never truncated.
    writeFileSync(path, serializeSnapshot(snapshotOf(scope.engine, 5)));
    await scope.addFact({ subject: 's5', body: 'b5' });
    const reopened = await openScope(path);
    assert.equal(reopened.replayed, 1);
    assert.equal(reopened.scope.engine.factCount, 6);
    await Promise.all([scope.close(), reopened.scope.close()]);
  });

  test('close folds the log into the snapshot', async () => {
    const path = join(freshDir(), 'g.json');
    const { scope } = await openScope(path);
    await scope.addFact({ subject: 'x', body: 'y' });
    await scope.close();
    assert.equal(statSync(path.replace(/\.json$/, '.log')).size, 0);
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).fact_count, 1);
    await assert.rejects(scope.addFact({ subject: 'late', body: 'write' }), /closed/);
  });

  test('every kind of op replays to the same graph', async () => {
    const path = join(freshDir(), 'g.json');
    const { scope } = await openScope(path);
    await scope.addFact({ subject: 'region', body: 'us-east-1' });
    await scope.addFact({ subject: 'region', body: 'eu-west-1' });
    await scope.addFact({ subject: 'temp', body: 'to delete', id: 'tmp' });
    await scope.deleteFact('tmp');
    await scope.markInjected('ws-2');
    await scope.ingestSkills([{ name: 'deploy', code: 'make deploy', domain: 'ops' }]);
    await scope.reportSkill('deploy', 'fail', null);
    const report = await scope.consolidate();
    assert.equal(report.superseded_retired, 1);
    const reopened = await openScope(path);
    const a = snapshotOf(scope.engine);
    const b = snapshotOf(reopened.scope.engine);
    assert.deepEqual(b.facts, a.facts);
    assert.deepEqual(b.skills, a.skills);
    assert.deepEqual(b.edges, a.edges);
    await Promise.all([scope.close(), reopened.scope.close()]);
  });

  test('load replaces a durable graph only after the file parsed; a bad file changes nothing', async () => {
    const dir = freshDir();
    const path = join(dir, 'g.json');
    const { scope } = await openScope(path);
    await scope.addFact({ subject: 'old', body: 'fact' });
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ facts: [{ subject: 'n1', body: 'one' }, { subject: 'n2', body: 'two' }] }));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"facts": [{"subject": "n3", "body": "three"}');
    await assert.rejects(scope.loadFrom(bad), /not valid JSON/);
    await assert.rejects(scope.loadFrom(join(dir, 'missing.json')), /no such file/);
    assert.deepEqual(bodies(scope), ['fact']);
    assert.equal(await scope.loadFrom(good), 2);
    await scope.addFact({ subject: 'n3', body: 'three' });
    const reopened = await openScope(path);
    assert.deepEqual(bodies(reopened.scope), ['one', 'two', 'three']);
    await Promise.all([scope.close(), reopened.scope.close()]);
  });

  test('temp files of an interrupted snapshot are removed on open', async () => {
    const dir = freshDir();
    const path = join(dir, 'g.json');
    writeFileSync(`${path}~tmp-999-1`, '{"facts": [');
    writeFileSync(join(dir, 'g~prev.json~tmp-999-2'), '{"facts": [');
    writeFileSync(join(dir, 'g.json~next'), '{"facts": [');
    writeFileSync(join(dir, 'g.json.tmp-1.json'), 'another namespace');
    writeFileSync(join(dir, 'other.json~tmp-1-1'), 'not ours');
    const { scope } = await openScope(path);
    assert.equal(existsSync(`${path}~tmp-999-1`), false);
    assert.equal(existsSync(join(dir, 'g~prev.json~tmp-999-2')), false);
    assert.equal(existsSync(join(dir, 'g.json~next')), false);
    assert.equal(existsSync(join(dir, 'g.json.tmp-1.json')), true);
    assert.equal(existsSync(join(dir, 'other.json~tmp-1-1')), true);
    await scope.close();
  });

  test('a corrupt line in the middle of the log is skipped and reported; the records after it are kept', async () => {
    const path = join(freshDir(), 'g.json');
    const log = storeFiles(path).log;
    const { scope } = await openScope(path);
    for (let i = 0; i < 100; i++) await scope.addFact({ subject: `person ${i}`, body: `works on project ${i}` });
    const lines = readFileSync(log, 'utf8').split('\n');
    lines[49] = lines[49]!.slice(0, 20) + '\u0000garbage';
    writeFileSync(log, lines.join('\n'));
    const reopened = await openScope(path);
    assert.deepEqual(reopened.skipped, [{ file: 'g.log', line: 50, reason: 'not valid JSON' }]);
    assert.equal(reopened.scope.engine.factCount, 99);
    assert.ok(bodies(reopened.scope).includes('works on project 99'));
    assert.ok(!bodies(reopened.scope).includes('works on project 49'));
    assert.equal(reopened.truncatedBytes, 0);
    // The damage is reported once: the graph was rewritten whole.
    await reopened.scope.addFact({ subject: 'after', body: 'recovery' });
    const again = await openScope(path);
    assert.deepEqual(again.skipped, []);
    assert.equal(again.scope.engine.factCount, 100);
    await Promise.all([scope.close(), reopened.scope.close(), again.scope.close()]);
  });

  test('a torn snapshot falls back to the previous one plus the logs, without losing a record', async () => {
    const path = join(freshDir(), 'g.json');
    const files = storeFiles(path);
    const { scope } = await openScope(path, 1024);
    for (let i = 0; i < 200; i++) await scope.addFact({ subject: `office ${i}`, body: `floor ${i}` });
    assert.ok(existsSync(files.previous), 'two generations exist');
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.slice(0, text.length >> 1));
    const reopened = await openScope(path, 1024);
    assert.equal(reopened.base, 'previous');
    assert.equal(reopened.corruptSnapshots.length, 1);
    assert.doesNotMatch(reopened.corruptSnapshots[0]!, new RegExp(root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.equal(reopened.gap, false);
    assert.equal(reopened.scope.engine.factCount, 200);
    assert.ok(existsSync(files.corrupt), 'the unreadable snapshot is kept aside');
    await reopened.scope.addFact({ subject: 'later', body: 'write' });
    await reopened.scope.close();
    const again = await openScope(path, 1024);
    assert.equal(again.base, 'snapshot');
    assert.equal(again.scope.engine.factCount, 201);
    await Promise.all([scope.close(), again.scope.close()]);
  });

  test('with both snapshots unreadable the graph is rebuilt from what the logs still hold, and stays usable', async () => {
    const path = join(freshDir(), 'g.json');
    const files = storeFiles(path);
    const { scope } = await openScope(path, 1024);
    for (let i = 0; i < 200; i++) await scope.addFact({ subject: `service ${i}`, body: `port ${9000 + i}` });
    writeFileSync(files.snapshot, '{"facts": [');
    writeFileSync(files.previous, 'garbage');
    const reopened = await openScope(path, 1024);
    assert.equal(reopened.base, 'empty');
    assert.equal(reopened.corruptSnapshots.length, 2);
    assert.equal(reopened.gap, true, 'the records only the snapshots held are reported lost');
    assert.ok(reopened.scope.engine.factCount > 0 && reopened.scope.engine.factCount < 200);
    await reopened.scope.addFact({ subject: 'still', body: 'works' });
    await reopened.scope.close();
    const again = await openScope(path, 1024);
    assert.equal(again.base, 'snapshot');
    assert.equal(again.scope.engine.factCount, reopened.scope.engine.factCount);
    await Promise.all([scope.close(), again.scope.close()]);
  });
});

describe('durable memory: service scopes', () => {
  test('namespaces and agents get their own files and reload lazily after close', async () => {
    const dir = freshDir();
    const svc = new MemoryService({ memoryDir: dir });
    assert.equal(existsSync(join(dir, 'memory-namespaces')), false, 'nothing happens before first use');
    await (await svc.namespace('Team/A')).addFact({ subject: 'ns', body: 'team a' });
    await (await svc.agent('bot-1')).addFact({ subject: 'agent', body: 'bot one' });
    await (await svc.shared()).addFact({ subject: 'shared', body: 'in memory only' });
    await svc.close();
    assert.ok(existsSync(join(dir, 'memory-namespaces', '%54eam%2f%41.json')));
    assert.ok(existsSync(join(dir, 'agents', 'bot-1.json')));
    assert.equal((await svc.namespace('Team/A')).engine.factCount, 1);
    assert.equal((await svc.namespace('team/a')).engine.factCount, 0, 'namespaces are case-sensitive');
    assert.equal((await svc.agent('bot-1')).engine.factCount, 1);
    await svc.close();
  });

  test('without a memory directory, private scopes live in memory and persist/load are refused', async () => {
    const svc = new MemoryService({ memoryDir: null });
    const ns = await svc.namespace('x');
    await ns.addFact({ subject: 'a', body: 'b' });
    assert.equal(ns.durable, false);
    assert.equal((await svc.namespace('x')).engine.factCount, 1);
    await assert.rejects(svc.exportPath('dump.json', 'persist'), /memory\.persist is unavailable/);
  });

  test('the shared graph is durable when it is given a path, and survives a restart', async () => {
    const dir = freshDir();
    const sharedPath = join(dir, 'shared.json');
    const svc = new MemoryService({ memoryDir: dir, sharedPath });
    const shared = await svc.shared();
    assert.equal(shared.durable, true);
    for (let i = 0; i < 6; i++) await shared.addFact({ subject: `fact ${i}`, body: `body ${i}` });
    assert.equal(await svc.forBinding({ memoryNamespace: null, agentId: null }), shared, 'unbound sessions use it');
    // No close: as after a crash, the log alone carries the facts.
    const again = new MemoryService({ memoryDir: dir, sharedPath });
    assert.equal((await again.shared()).engine.factCount, 6);
    await again.close();
    const third = new MemoryService({ memoryDir: dir, sharedPath });
    assert.equal((await third.shared()).engine.factCount, 6);
    assert.ok(existsSync(sharedPath));
    await Promise.all([svc.close(), third.close()]);
    const library = new MemoryService({ memoryDir: null });
    assert.equal((await library.shared()).durable, false, 'without a path the library touches no file');
  });

  test('memory directories are 0700 and files 0600', async () => {
    const dir = join(freshDir(), 'memory');
    const svc = new MemoryService({ memoryDir: dir, sharedPath: join(dir, 'shared.json') });
    await (await svc.namespace('team')).addFact({ subject: 'a', body: 'b' });
    await (await svc.agent('bot')).addFact({ subject: 'a', body: 'b' });
    await (await svc.shared()).addFact({ subject: 'a', body: 'b' });
    const out = await svc.exportPath('deep/er/dump.json', 'persist');
    await (await svc.shared()).persistTo(out);
    await svc.close();
    for (const d of [dir, join(dir, 'memory-namespaces'), join(dir, 'agents'), join(dir, 'exports'), join(dir, 'exports', 'deep', 'er')]) {
      assert.equal(statSync(d).mode & 0o777, 0o700, d);
    }
    for (const f of [join(dir, 'shared.json'), join(dir, 'shared.log'), join(dir, 'memory-namespaces', 'team.json'), join(dir, 'agents', 'bot.log'), out]) {
      assert.equal(statSync(f).mode & 0o777, 0o600, f);
    }
  });

  test("persist and load reach only the export folder: never a graph's own files", async () => {
    const dir = freshDir();
    const svc = new MemoryService({ memoryDir: dir, sharedPath: join(dir, 'shared.json') });
    const victim = await svc.namespace('victim');
    await victim.addFact({ subject: 'secret', body: 'acknowledged' });
    const attacker = await svc.namespace('attacker');
    for (const name of ['memory-namespaces/victim.json', 'memory-namespaces/victim.log', 'shared.json', 'agents/bot.json']) {
      const path = await svc.exportPath(name, 'persist');
      assert.ok(path.startsWith(join(dir, 'exports') + sep), name);
      await attacker.persistTo(path);
      await assert.rejects(attacker.loadFrom(await svc.exportPath('memory-namespaces/nope.json', 'load'), 'memory-namespaces/nope.json'), (err: Error) => {
        assert.match(err.message, /no such file "memory-namespaces\/nope\.json"/);
        assert.doesNotMatch(err.message, new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
        return true;
      });
    }
    await svc.close();
    const reopened = new MemoryService({ memoryDir: dir });
    assert.deepEqual(bodies(await reopened.namespace('victim')), ['acknowledged']);
    await reopened.close();
  });
});

describe('namespace encoding', () => {
  test('examples: lowercase hex, uppercase and % encoded, safe characters kept', () => {
    assert.equal(encodeNamespace('team-a_1.x'), 'team-a_1.x');
    assert.equal(encodeNamespace('Team/A'), '%54eam%2f%41');
    assert.equal(encodeNamespace('%'), '%25');
    assert.equal(encodeNamespace('..'), '..');
    assert.equal(encodeNamespace('é'), '%c3%a9');
    assert.equal(encodeNamespace('a b\\c\0'), 'a%20b%5cc%00');
  });

  test('property: injective, reversible, and never leaves its directory (5,000 random names)', () => {
    const next = rng(46);
    const alphabet = ['a', 'z', '0', '9', '-', '_', '.', '/', '\\', '%', 'A', 'Z', ' ', '\0', '..', 'é', '€', '😀', '%2f', ':', '~'];
    const seen = new Map<string, string>();
    const dir = join(root, 'ns-dir');
    for (let i = 0; i < 5000; i++) {
      const len = 1 + Math.floor(next() * 12);
      let ns = '';
      for (let j = 0; j < len; j++) ns += alphabet[Math.floor(next() * alphabet.length)];
      const enc = encodeNamespace(ns);
      assert.match(enc, /^[a-z0-9._%-]+$/);
      assert.equal(decodeNamespace(enc), ns);
      const other = seen.get(enc);
      assert.ok(other === undefined || other === ns, `${JSON.stringify(ns)} and ${JSON.stringify(other)} both encode to ${enc}`);
      seen.set(enc, ns);
      const path = namespaceSnapshotPath(dir, ns);
      const rel = relative(join(dir, 'memory-namespaces'), path);
      assert.ok(!rel.includes(sep) && !rel.startsWith('..' + sep) && rel !== '..', `${JSON.stringify(ns)} → ${rel}`);
    }
    assert.throws(() => namespaceSnapshotPath(dir, 'é'.repeat(200)), /too long/);
  });
});

describe('persist/load sandbox', () => {
  const mem = join(root, 'sandbox', 'memory');
  const outside = join(root, 'sandbox', 'outside');
  mkdirSync(mem, { recursive: true });
  mkdirSync(outside, { recursive: true });
  symlinkSync(outside, join(mem, 'escape-dir'));
  symlinkSync(join(outside, 'file.json'), join(mem, 'escape-file.json'));
  mkdirSync(join(mem, 'inner'));
  symlinkSync(join(mem, 'inner'), join(mem, 'inner-link'));

  test('names resolve inside the folder; parents are created for persist', async () => {
    assert.equal(await resolveSandboxed(mem, 'dump.json', 'persist'), join(mem, 'dump.json'));
    assert.equal(await resolveSandboxed(mem, 'a/b/dump.json', 'persist'), join(mem, 'a', 'b', 'dump.json'));
    assert.ok(existsSync(join(mem, 'a', 'b')));
    assert.equal(await resolveSandboxed(mem, 'inner-link/x.json', 'persist'), join(mem, 'inner-link', 'x.json'));
  });

  test('.., outside absolute paths, escaping symlinks and directories are rejected', async () => {
    const cases: [string, RegExp][] = [
      ['../x', /^memory\.persist rejected path "\.\.\/x": '\.\.' is not allowed/],
      ['a/../../x', /'\.\.' is not allowed/],
      [join(outside, 'x.json'), /not an absolute path/],
      [join(mem, 'x.json'), /not an absolute path/],
      ['x'.repeat(5000) + '/y.json', /ENAMETOOLONG/],
      ['escape-dir/x.json', /symlink leads outside/],
      ['escape-file.json', /symlink leads outside/],
      ['inner', /is a directory/],
      ['', /empty path/],
    ];
    for (const [p, re] of cases) {
      await assert.rejects(resolveSandboxed(mem, p, 'persist'), (err: Error) => {
        assert.match(err.message, re, p);
        assert.doesNotMatch(err.message.replace(JSON.stringify(p), ''), new RegExp(root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'no server path in the message');
        return true;
      });
    }
    await assert.rejects(resolveSandboxed(mem, '../x', 'load'), /^MemoryError: memory\.load rejected path/);
    assert.equal(existsSync(join(outside, 'x.json')), false);
  });
});
