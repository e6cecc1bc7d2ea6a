import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AgentSupervisor, type SupervisorOptions } from '../../src/agents/index.js';
import { installCrashFs } from '../helpers/crash-fs.js';
import { waitFor } from '../helpers/raw-client.js';
import { defer, tempDir } from '../helpers/temp.js';
import { scaled } from '../helpers/timing.js';

const AGENT = fileURLToPath(new URL('../fixtures/agent.js', import.meta.url));

function supervisor(t: TestContext, opts: Partial<SupervisorOptions> = {}): AgentSupervisor {
  const dir = tempDir(t);
  const s = new AgentSupervisor({
    manifestPath: join(dir, 'agents.json'),
    logDir: join(dir, 'logs'),
    maxAgents: 16,
    stopGraceMs: scaled(5000),
    backoffMaxMs: 60_000,
    logTailBytes: 8 * 1024 * 1024,
    baseEnv: { PATH: process.env.PATH },
    attachedSession: () => undefined,
    ...opts,
  });
  defer(t, () => s.close());
  return s;
}

const node = (id: string, ...args: string[]) => ({ id, command: process.execPath, args: [AGENT, ...args] });
const WAIT = scaled(20_000);

describe('agent supervisor', () => {
  test('upsert persists (0600 manifest), starts nothing, keeps the token across upserts; a new supervisor reads it back', async (t) => {
    const s = supervisor(t);
    const row = await s.upsert(node('alpha'));
    assert.equal(row.status, 'stopped');
    assert.equal(row.attached, false);
    assert.deepEqual(row.spec, { id: 'alpha', name: 'alpha', command: process.execPath, args: [AGENT], env: {}, restart: 'never', max_restarts: 5, backoff_secs: 1, auto_start: false });
    const token = s.tokenFor('alpha')!;
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    await s.upsert({ ...node('alpha'), name: 'Alpha' });
    assert.equal(s.tokenFor('alpha'), token, 'the token is minted once');
    const path = s.manifestPath!;
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const stored = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(stored.agents[0].spec.name, 'Alpha');
    assert.equal(stored.agents[0].token, token);
    assert.equal(s.list()[0]!.pid, undefined, 'not started');
    await s.close();

    const again = new AgentSupervisor({ ...(s as unknown as { opts: SupervisorOptions }).opts });
    defer(t, () => again.close());
    assert.equal(again.tokenFor('alpha'), token);
    assert.equal(again.list()[0]!.spec.name, 'Alpha');
  });

  test('ids, interpreters under /tmp or not executable are refused; an interpreter is resolved on PATH once', async (t) => {
    const s = supervisor(t);
    await assert.rejects(s.upsert({ id: 'a b', command: 'x' }), (e: { kind?: string; field?: string }) => e.kind === 'invalid' && e.field === 'id');
    const planted = join(tempDir(t), 'interp');
    writeFileSync(planted, '#!/bin/sh\n');
    chmodSync(planted, 0o755);
    if (planted.startsWith('/tmp/')) {
      await assert.rejects(s.upsert({ id: 'x', command: 'a', interpreter: planted }), /under \/tmp/);
    }
    await assert.rejects(s.upsert({ id: 'x', command: 'a', interpreter: 'no-such-interpreter-here' }), /not found on PATH/);
    const plain = join(tempDir(t), 'plain');
    writeFileSync(plain, 'x');
    await assert.rejects(s.upsert({ id: 'x', command: 'a', interpreter: plain }), (e: { field?: string }) => e.field === 'interpreter');
    const row = await s.upsert({ id: 'sh-agent', command: '-c', args: ['exit 0'], interpreter: 'sh' });
    assert.ok(row.spec.interpreter!.startsWith('/'), row.spec.interpreter);
    assert.deepEqual(s.list().map((a) => a.spec.id), ['sh-agent']);
  });

  test('start hands the agent its id, own token and the daemon URL; stop ends it; start is a no-op while running', async (t) => {
    const s = supervisor(t);
    s.daemonUrl = 'ws://127.0.0.1:9';
    await s.upsert(node('envy', 'env'));
    const started = s.start('envy');
    assert.ok(['starting', 'running'].includes(started.status));
    const running = await s.wait('envy', ['running'], WAIT);
    assert.equal(typeof running.pid, 'number');
    assert.equal(s.start('envy').pid, running.pid, 'no second process');
    await waitFor(() => s.tailLog('envy', { n: 10, stream: 'stdout', offset: 0 }).lines.includes('ready'), WAIT, 'the agent to print');
    const envLine = s.tailLog('envy', { n: 10, stream: 'stdout', offset: 0 }).lines.find((l) => l.startsWith('{'))!;
    assert.deepEqual(JSON.parse(envLine), { CAR_AGENT_ID: 'envy', CAR_AGENT_TOKEN: s.tokenFor('envy'), CAR_DAEMON_URL: 'ws://127.0.0.1:9' });
    const stopped = await s.stop('envy');
    assert.equal(stopped.status, 'stopped');
    assert.equal(stopped.pid, undefined);
    assert.equal(stopped.last_exit_code, 128 + 15);
  });

  test('stop {term} escalates to SIGKILL after the grace; stop {kill} kills at once', async (t) => {
    const s = supervisor(t, { stopGraceMs: 200 });
    await s.upsert(node('stubborn', 'ignore-term'));
    s.start('stubborn');
    await waitFor(() => s.tailLog('stubborn', { n: 5, stream: 'stdout', offset: 0 }).lines.includes('ready'), WAIT, 'ready');
    const stopped = await s.stop('stubborn', 'term');
    assert.equal(stopped.last_exit_code, 128 + 9, 'killed');
    assert.ok(s.tailLog('stubborn', { n: 5, stream: 'stdout', offset: 0 }).lines.includes('ignoring SIGTERM'));
    s.start('stubborn');
    await s.wait('stubborn', ['running'], WAIT);
    assert.equal((await s.stop('stubborn', 'kill')).last_exit_code, 128 + 9);
  });

  test('on_failure restarts up to max_restarts with back-off, then errored; health says why', async (t) => {
    const s = supervisor(t);
    await s.upsert({ ...node('flaky', 'exit=3'), restart: 'on_failure', max_restarts: 2, backoff_secs: 0.01 });
    const seen: string[] = [];
    s.start('flaky');
    const done = await s.wait('flaky', ['errored'], WAIT);
    seen.push(done.status);
    assert.equal(done.restart_count, 2);
    assert.equal(done.last_exit_code, 3);
    const starts = s.tailLog('flaky', { n: 100, stream: 'stdout', offset: 0 }).lines.filter((l) => l.startsWith('started'));
    assert.equal(starts.length, 3, 'the first run and two restarts');
    const [health] = s.health();
    assert.equal(health!.ok, false);
    assert.match(health!.reason!, /code 3/);
  });

  test('on_failure leaves a clean exit stopped; always restarts it; never does not restart a failure', async (t) => {
    const s = supervisor(t);
    await s.upsert({ ...node('clean', 'exit=0'), restart: 'on_failure', backoff_secs: 0.01 });
    await s.upsert({ ...node('again', 'exit=0'), restart: 'always', max_restarts: 1, backoff_secs: 0.01 });
    await s.upsert({ ...node('once', 'exit=4'), restart: 'never' });
    for (const id of ['clean', 'again', 'once']) s.start(id);
    assert.equal((await s.wait('once', ['errored'], WAIT)).restart_count, 0);
    await waitFor(() => s.list().find((a) => a.spec.id === 'clean')!.last_exit_code === 0, WAIT, 'clean to exit');
    assert.equal(s.list().find((a) => a.spec.id === 'clean')!.status, 'stopped');
    await waitFor(() => s.list().find((a) => a.spec.id === 'again')!.restart_count === 1 && s.list().find((a) => a.spec.id === 'again')!.status === 'stopped', WAIT, 'again to restart once');
  });

  test('backoffMaxMs caps the exponential back-off (at the bound the restart comes after the cap, not the hour asked)', async (t) => {
    const s = supervisor(t, { backoffMaxMs: 20 });
    await s.upsert({ ...node('capped', 'exit=2'), restart: 'on_failure', max_restarts: 2, backoff_secs: 3600 });
    s.start('capped');
    const done = await s.wait('capped', ['errored'], WAIT);
    assert.equal(done.restart_count, 2);
  });

  test('stop cancels a pending back-off restart', async (t) => {
    const s = supervisor(t);
    await s.upsert({ ...node('slow-back', 'exit=1'), restart: 'always', max_restarts: 5, backoff_secs: 60 });
    s.start('slow-back');
    await s.wait('slow-back', ['backoff'], WAIT);
    assert.equal((await s.stop('slow-back')).status, 'stopped');
  });

  test('wait times out with WaitTimeout; an unknown id is NotFound', async (t) => {
    const s = supervisor(t);
    await s.upsert(node('idle'));
    await assert.rejects(s.wait('idle', ['running'], 50), (e: { kind?: string; message: string }) => e.kind === 'timeout' && /^WaitTimeout/.test(e.message));
    assert.throws(() => s.start('ghost'), (e: { kind?: string; message: string }) => e.kind === 'not_found' && /^NotFound/.test(e.message));
  });

  test('tail_log reads at most logTailBytes of each stream (at the bound: whole; past it: cut, more)', async (t) => {
    const line = (i: number) => `out ${i}\n`;
    let exact = '';
    for (let i = 0; exact.length + line(i).length <= 64; i++) exact += line(i);
    const s = supervisor(t, { logTailBytes: exact.length });
    await s.upsert(node('talker'));
    const logDir = (s as unknown as { opts: SupervisorOptions }).opts.logDir!;
    const { mkdirSync } = await import('node:fs');
    mkdirSync(logDir, { recursive: true });
    writeFileSync(join(logDir, 'talker.stdout.log'), exact);
    const whole = s.tailLog('talker', { n: 1000, stream: 'stdout', offset: 0 });
    assert.equal(whole.stdout_total, exact.split('\n').length - 1);
    assert.equal(whole.more, false);
    assert.equal(whole.stdout[0], 'out 0');
    writeFileSync(join(logDir, 'talker.stdout.log'), `first line\n${exact}`);
    const cut = s.tailLog('talker', { n: 1000, stream: 'stdout', offset: 0 });
    assert.equal(cut.more, true);
    assert.ok(!cut.stdout.includes('first line'));
    const page = s.tailLog('talker', { n: 2, stream: 'stdout', offset: 1 });
    assert.deepEqual(page.lines, whole.stdout.slice(-3, -1));
    assert.equal(page.stdout_path, join(logDir, 'talker.stdout.log'));
  });

  test('the child writes its own log files; combined shows both streams', async (t) => {
    const s = supervisor(t);
    await s.upsert(node('both', 'lines=3', 'exit=0'));
    s.start('both');
    await waitFor(() => s.list()[0]!.last_exit_code === 0, WAIT, 'exit');
    const tail = s.tailLog('both', { n: 100, stream: 'combined', offset: 0 });
    assert.deepEqual(tail.stderr, ['err 0', 'err 1', 'err 2']);
    assert.ok(tail.lines.includes('out 2') && tail.lines.includes('err 2'));
    assert.equal(statSync(tail.stdout_path!).mode & 0o777, 0o600);
  });

  test('without a log dir the last bytes of each stream are kept in memory', async (t) => {
    const s = supervisor(t, { logDir: null });
    await s.upsert(node('mem', 'lines=2', 'exit=0'));
    s.start('mem');
    await waitFor(() => s.tailLog('mem', { n: 10, stream: 'stderr', offset: 0 }).lines.length === 2, WAIT, 'stderr lines');
    assert.equal(s.tailLog('mem', { n: 10, stream: 'stderr', offset: 0 }).stderr_path, null);
  });

  test('remove stops the agent first, forgets it and its token; removing again is a no-op', async (t) => {
    const s = supervisor(t);
    await s.upsert(node('gone'));
    s.start('gone');
    const { pid } = await s.wait('gone', ['running'], WAIT);
    assert.deepEqual(await s.remove('gone'), { removed: true });
    assert.throws(() => process.kill(pid!, 0), 'the process is gone');
    assert.equal(s.tokenFor('gone'), undefined);
    assert.deepEqual(await s.remove('gone'), { removed: false });
    assert.deepEqual(JSON.parse(readFileSync(s.manifestPath!, 'utf8')).agents, []);
  });

  test('maxAgents: the agent at the bound is accepted, one more is refused; replacing is always fine', async (t) => {
    const s = supervisor(t, { maxAgents: 2 });
    await s.upsert(node('a1'));
    await s.upsert(node('a2'));
    await s.upsert(node('a2'));
    await assert.rejects(s.upsert(node('a3')), (e: { kind?: string; limit?: number }) => e.kind === 'limit' && e.limit === 2);
  });

  test('close stops every agent (the daemon is stopping) and releases the manifest', async (t) => {
    const s = supervisor(t);
    await s.upsert(node('k1'));
    await s.upsert(node('k2'));
    s.start('k1');
    s.start('k2');
    const pids = [(await s.wait('k1', ['running'], WAIT)).pid!, (await s.wait('k2', ['running'], WAIT)).pid!];
    await s.close();
    for (const pid of pids) assert.throws(() => process.kill(pid, 0));
    assert.equal(existsSync(`${s.manifestPath}.lock`), false);
  });

  test('a second supervisor on the same manifest observes: list/health read the file, the rest is observe-only naming it', async (t) => {
    const owner = supervisor(t);
    await owner.upsert(node('shared'));
    const observer = new AgentSupervisor({ ...(owner as unknown as { opts: SupervisorOptions }).opts });
    defer(t, () => observer.close());
    assert.equal(observer.open(), 'observer');
    assert.deepEqual(observer.list().map((a) => a.spec.id), ['shared']);
    assert.equal(observer.health()[0]!.ok, true);
    await owner.upsert(node('later'));
    assert.deepEqual(observer.list().map((a) => a.spec.id), ['shared', 'later'], 'read from the file each time');
    for (const call of [() => observer.start('shared'), () => observer.upsert(node('x')), () => observer.remove('shared')]) {
      await assert.rejects(async () => call(), (e: { kind?: string; message: string }) => e.kind === 'conflict' && e.message.includes('observe-only') && e.message.includes(owner.manifestPath!));
    }
    await owner.close();
  });

  test('crash-fs: every acknowledged upsert and remove survives a power cut (manifest fsynced, then its directory)', async (t) => {
    const dir = tempDir(t, 'car-crash-');
    const fs = await installCrashFs(dir);
    try {
      const opts = { manifestPath: join(dir, 'agents.json'), logDir: null, maxAgents: 16, stopGraceMs: 1000, backoffMaxMs: 1000, logTailBytes: 1024, baseEnv: {}, attachedSession: () => undefined };
      const s = new AgentSupervisor(opts);
      await s.upsert(node('keep'));
      await s.upsert(node('drop'));
      await s.remove('drop');
      const token = s.tokenFor('keep');
      assert.ok(fs.fileSyncs > 0 && fs.dirSyncs > 0);
      fs.crash();
      await s.close();
      const after = new AgentSupervisor(opts);
      assert.deepEqual(after.list().map((a) => a.spec.id), ['keep']);
      assert.equal(after.tokenFor('keep'), token);
      await after.close();
    } finally {
      fs.uninstall();
    }
  });
});
