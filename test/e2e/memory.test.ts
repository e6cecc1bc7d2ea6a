import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { agentTokenOf, authTokenPath, RawClient, runToExit, startDaemon, tempDir, withTimeout, type RunningDaemon } from './helpers.js';
import { scaled } from '../helpers/timing.js';

async function session(t: test.TestContext, daemon: RunningDaemon, carHome: string, auth: Record<string, string> = {}): Promise<RawClient> {
  const client = await RawClient.connect(t, daemon.url);
  await client.result('session.auth', { token: readFileSync(authTokenPath(carHome), 'utf8'), ...auth });
  await client.result('server.handshake', { protocol_version: 2 });
  return client;
}

test('E3 memory_and_skills against the binary', async (t) => {
  const carHome = tempDir(t);
  const daemon = await startDaemon(t, { carHome, args: ['--dream-interval', '0'] });
  const rt = await session(t, daemon, carHome, { memory_namespace: 'e3' });

  for (const [subject, body, kind] of [
    ['project_language', 'TypeScript', 'pattern'],
    ['framework', 'React', 'pattern'],
    ['test_runner', 'vitest', 'pattern'],
    ['style_rule', 'no implicit any', 'constraint'],
  ]) {
    await rt.result('memory.add_fact', { subject, body, kind });
  }
  assert.equal(await rt.result('memory.fact_count', {}), 4);

  const hits = (await rt.result('memory.query', { query: 'what language is this project in?', k: 3 })) as { subject: string; confidence: number }[];
  assert.equal(hits[0]!.subject, 'project_language');

  const ctx = (await rt.result('memory.build_context', {
    query: 'The user wants to add a new component. What conventions apply?',
    model_context_window: 8192,
  })) as string;
  assert.match(ctx.slice(0, 280), /## Constraints[\s\S]*## Facts/);

  await rt.result('skill.ingest', {
    name: 'add_component',
    code: 'mkdir -p src/components/$Name && touch src/components/$Name/index.tsx src/components/$Name/$Name.test.tsx',
    platform: 'bash',
    persona: 'frontend-engineer',
    url_pattern: 'file://*/components/',
    task_keywords: ['component', 'scaffold', 'new'],
    description: 'Scaffold a new React component with test file',
  });
  assert.equal(((await rt.result('skills.list', {})) as unknown[]).length, 1);
  const found = (await rt.result('skill.find', {
    persona: 'frontend-engineer',
    url: 'file:///src/components/Button/',
    task: 'add a new component called Button',
    max_results: 1,
  })) as { name: string; match_score: number; code: string }[];
  assert.equal(found[0]!.name, 'add_component');
  assert.ok(found[0]!.match_score > 0);

  let stats: { success_count: number; fail_count: number; degraded: boolean } | undefined;
  for (const outcome of ['success', 'success', 'fail', 'success']) {
    stats = (await rt.result('skill.report', { name: 'add_component', outcome })) as typeof stats;
  }
  assert.deepEqual([stats!.success_count, stats!.fail_count, stats!.degraded], [3, 1, false]);

  assert.equal(await rt.result('memory.persist', { path: 'tmp.json' }), 4);
  assert.ok(existsSync(join(carHome, 'memory', 'exports', 'tmp.json')));
  const rt2 = await session(t, daemon, carHome, { memory_namespace: 'e3-fresh' });
  const loaded = await rt2.result('memory.load', { path: 'tmp.json' });
  assert.equal(loaded, 4);
  assert.equal(await rt2.result('memory.fact_count', {}), loaded);
});

test('crash: SIGKILL mid-stream of acknowledged writes loses none of them', async (t) => {
  const carHome = tempDir(t);
  const daemon = await startDaemon(t, { carHome, args: ['--dream-interval', '0'] });
  const client = await session(t, daemon, carHome, { memory_namespace: 'Crash/Test' });

  const acked: string[] = [];
  let next = 0;
  let killed = false;
  const KILL_AFTER = 300;
  const writer = async (): Promise<void> => {
    while (!killed) {
      const subject = `fact-${next++}`;
      try {
        await client.result('memory.add_fact', { subject, body: `payload ${subject} ${'x'.repeat(64)}` });
      } catch {
        return; // the connection died with this write unacknowledged
      }
      if (killed) return;
      acked.push(subject);
      if (acked.length === KILL_AFTER) {
        killed = true;
        daemon.child.kill('SIGKILL');
      }
    }
  };
  await withTimeout(Promise.all(Array.from({ length: 16 }, writer)), scaled(60_000), 'the write stream');
  await daemon.exited;
  assert.ok(acked.length >= KILL_AFTER);
  const ns = join(carHome, 'memory', 'memory-namespaces');
  assert.ok(existsSync(join(ns, '%43rash%2f%54est.log')), 'the namespace log is where the spec says');

  const restarted = await startDaemon(t, { carHome, args: ['--dream-interval', '0'] });
  const after = await session(t, restarted, carHome, { memory_namespace: 'Crash/Test' });
  const count = (await after.result('memory.fact_count', {})) as number;
  assert.ok(count >= acked.length, `${count} facts after restart, ${acked.length} were acknowledged`);
  await after.result('memory.persist', { path: 'crash-dump.json' });
  const dump = JSON.parse(readFileSync(join(carHome, 'memory', 'exports', 'crash-dump.json'), 'utf8')) as { facts: { subject: string }[] };
  const present = new Set(dump.facts.map((f) => f.subject));
  const lost = acked.filter((s) => !present.has(s));
  assert.deepEqual(lost, [], `${lost.length} acknowledged facts lost`);
  await restarted.stop();
});

test('the shared graph (no binding) survives a SIGKILL and a graceful restart', async (t) => {
  const carHome = tempDir(t);
  const first = await startDaemon(t, { carHome, args: ['--dream-interval', '0'] });
  const a = await session(t, first, carHome, {});
  for (let i = 0; i < 6; i++) await a.result('memory.add_fact', { subject: 'Priya Raman', body: `distinct fact number ${i}` });
  assert.equal(await a.result('memory.fact_count', {}), 6);
  first.child.kill('SIGKILL');
  await first.exited;
  assert.ok(existsSync(join(carHome, 'memory', 'shared.log')));

  const second = await startDaemon(t, { carHome, args: ['--dream-interval', '0'] });
  const b = await session(t, second, carHome, {});
  assert.equal(await b.result('memory.fact_count', {}), 6);
  await b.result('memory.add_fact', { subject: 'db', body: 'Postgres 16' });
  await second.stop();

  const third = await startDaemon(t, { carHome, args: ['--dream-interval', '0'] });
  const c = await session(t, third, carHome, {});
  assert.equal(await c.result('memory.fact_count', {}), 7);
  const rows = (await c.result('memory.query', { query: 'which database do we use?' })) as { body: string }[];
  assert.equal(rows[0]!.body, 'Postgres 16');
  await third.stop();
});

test('agent memory is durable across a graceful restart and loaded on attach', async (t) => {
  const carHome = tempDir(t);
  const first = await startDaemon(t, { carHome, args: ['--dream-interval', '0'] });
  const agent = await session(t, first, carHome, { agent_id: 'e2e-agent', token: await agentTokenOf(t, first, carHome, 'e2e-agent') });
  await agent.result('memory.add_fact', { subject: 'favourite_tool', body: 'ripgrep' });
  await first.stop();
  assert.ok(existsSync(join(carHome, 'memory', 'agents', 'e2e-agent.json')));

  const second = await startDaemon(t, { carHome, args: ['--dream-interval', '0'] });
  // The agent's token is durable in the manifest: the same one binds after the restart.
  const again = await session(t, second, carHome, { agent_id: 'e2e-agent', token: await agentTokenOf(t, second, carHome, 'e2e-agent') });
  const rows = (await again.result('memory.query', { query: 'favourite tool' })) as { body: string }[];
  assert.equal(rows[0]!.body, 'ripgrep');
  const stranger = await session(t, second, carHome);
  assert.deepEqual(await stranger.result('memory.query', { query: 'favourite tool' }), []);
  await second.stop();
});

test('the dream loop runs on its cadence and logs each pass; 0 turns it off; a bad value is a usage error', async (t) => {
  const carHome = tempDir(t);
  const daemon = await startDaemon(t, { carHome, args: ['--dream-interval', '300ms'] });
  const client = await session(t, daemon, carHome, { memory_namespace: 'dreamy' });
  await client.result('memory.add_fact', { subject: 'editor', body: 'vim' });
  await client.result('memory.add_fact', { subject: 'editor', body: 'emacs' });
  const line = await daemon.waitForLog((l) => l.msg === 'dream pass' && Number(l.superseded_retired) >= 1, scaled(30_000));
  assert.equal(typeof line.duration_ms, 'number');
  assert.equal(await client.result('memory.fact_count', {}), 1);
  assert.ok(daemon.logs().some((l) => l.msg === 'dream loop scheduled' && l.dream_interval_ms === 300));
  await daemon.stop();

  const off = await startDaemon(t, { carHome: tempDir(t), args: ['--dream-interval', '0'] });
  await off.waitForLog((l) => l.msg === 'dream loop off');
  await off.stop();

  const bad = await runToExit(t, { carHome: tempDir(t), args: ['--dream-interval', 'soon'] });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--dream-interval must be a duration/);
});
