import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { waitFor } from '../helpers/raw-client.js';
import { agentTokenOf, authTokenPath, lockPathOf, RawClient, runToExit, startDaemon, tempDir } from './helpers.js';

/** Crash recovery of the binary: orphaned runs, runs open at a graceful stop, a lock naming a reused pid. */

function lastRecord(carHome: string, agentId: string, runId: string): { kind: string; status?: string; outcome?: { summary?: string } } {
  const lines = readFileSync(join(carHome, 'runs', agentId, `${runId}.jsonl`), 'utf8').trim().split('\n');
  return JSON.parse(lines.at(-1)!);
}

async function agentWithRun(t: test.TestContext, url: string, token: string, agentId: string): Promise<{ agent: RawClient; run_id: string }> {
  const agent = await RawClient.connect(t, url);
  await agent.result('session.auth', { token, agent_id: agentId });
  const { run_id } = (await agent.result('runs.start', { intent: 'left open' })) as { run_id: string };
  await agent.result('runs.record_turns', { run_id, turns: [{ prompt: 'p' }] });
  return { agent, run_id };
}

test('runs left open by a killed daemon are ended incomplete, with a reason, when the next one starts', async (t) => {
  const carHome = tempDir(t);
  const first = await startDaemon(t, { carHome, args: ['--dream-interval', '0'] });
  const token = await agentTokenOf(t, first, carHome, 'crash-agent');
  const { run_id } = await agentWithRun(t, first.url, token, 'crash-agent');
  first.child.kill('SIGKILL');
  await first.exited;
  assert.equal(lastRecord(carHome, 'crash-agent', run_id).kind, 'turn', 'still open on disk');

  const second = await startDaemon(t, { carHome, args: ['--dream-interval', '0'] });
  const ended = lastRecord(carHome, 'crash-agent', run_id);
  assert.equal(ended.kind, 'ended');
  assert.equal(ended.status, 'incomplete');
  assert.match(ended.outcome?.summary ?? '', /daemon stopped/);
  assert.ok(second.logs().some((l) => l.msg.includes('ended incomplete') && l.runs === 1), second.stderr());
  await second.stop();
});

test('a graceful stop ends every open run, also one whose client stopped reading', async (t) => {
  const carHome = tempDir(t);
  const daemon = await startDaemon(t, { carHome, args: ['--dream-interval', '0'] });
  const token = await agentTokenOf(t, daemon, carHome, 'stuck-agent');
  const { agent, run_id } = await agentWithRun(t, daemon.url, token, 'stuck-agent');
  agent.ws.pause();
  const exit = await daemon.stop();
  assert.equal(exit.code, 0);
  const ended = lastRecord(carHome, 'stuck-agent', run_id);
  assert.equal(ended.kind, 'ended');
  assert.equal(ended.status, 'incomplete');
  agent.ws.resume();
});

test('a stale daemon.lock naming a live unrelated pid does not make the daemon secondary', async (t) => {
  const carHome = tempDir(t);
  const bystander = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  t.after(() => {
    bystander.kill('SIGKILL');
  });
  mkdirSync(join(carHome, 'run'), { recursive: true, mode: 0o700 });
  // What a dead daemon left behind: its pid, since reused by the bystander, and its own start time.
  writeFileSync(lockPathOf(carHome), `${bystander.pid} 1\n`, { mode: 0o600 });
  const daemon = await startDaemon(t, { carHome });
  assert.equal(daemon.listening.primary, true);
  assert.equal(readFileSync(lockPathOf(carHome), 'utf8').split(' ')[0], String(daemon.child.pid));
  assert.ok(readdirSync(join(carHome, 'ai.parslee.car')).includes('auth-token'));
  const c = await RawClient.connect(t, daemon.url);
  assert.equal(((await c.result('session.auth', { token: readFileSync(authTokenPath(carHome), 'utf8') })) as { ok: boolean }).ok, true);
  c.close();
  await daemon.stop();
});

test('startup says where everything is in one plain line; a taken port is one line and exit 1', async (t) => {
  const carHome = tempDir(t);
  const daemon = await startDaemon(t, { carHome, args: ['--dream-interval', '0'] });
  await waitFor(() => daemon.stdout().includes('\n'), undefined, 'the plain startup line');
  const line = daemon.stdout().trim().split('\n').find((l) => l.startsWith('car-server '));
  assert.ok(line, daemon.stdout());
  assert.ok(line.includes(daemon.url), line);
  assert.ok(line.includes(authTokenPath(carHome)), line);
  assert.match(line, /dashboard: http:\/\/127\.0\.0\.1:\d+\//);
  assert.ok(line.includes(`socket: ${daemon.socket}`), line);
  assert.equal(line.includes('{'), false, 'plain text, not JSON');

  const port = daemon.listening.port as number;
  const taken = await runToExit(t, { carHome: tempDir(t), args: ['--port', String(port)] });
  assert.equal(taken.code, 1);
  const plain = taken.stderr.split('\n').filter((l) => l.startsWith('car-server: '));
  assert.deepEqual(plain, [`car-server: port ${port} is in use — another car-server? try --port 0`]);
  await daemon.stop();
});

test('--no-auth: host-role methods need no host token', async (t) => {
  const daemon = await startDaemon(t, { carHome: tempDir(t), args: ['--no-auth', '--dream-interval', '0'] });
  const c = await RawClient.connect(t, daemon.url);
  await c.result('server.handshake', { protocol_version: 2 });
  assert.deepEqual(await c.result('permission.set_tier', { tier: 'read_only' }), await c.result('permission.get_tier', {}));
  c.close();
  await daemon.stop();
});
