import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { scaled } from '../helpers/timing.js';
import { authTokenPath, RawClient, startDaemon, tempDir } from './helpers.js';

const AGENT = fileURLToPath(new URL('../fixtures/agent.js', import.meta.url));

test('binary: a supervised agent gets its identity and chats; a second daemon on the root observes; stopping the daemon stops the agent', async (t) => {
  const carHome = tempDir(t);
  const primary = await startDaemon(t, { carHome, args: ['--dream-interval', '0', '--no-dashboard'] });
  const owner = await RawClient.connect(t, primary.url);
  await owner.result('session.auth', { token: readFileSync(authTokenPath(carHome), 'utf8') });
  await owner.result('agents.upsert', { id: 'e2e-sup', command: process.execPath, args: [AGENT, 'chat'] });
  await owner.result('agents.start', { id: 'e2e-sup' });
  let row: { pid?: number; attached: boolean; status: string } | undefined;
  const deadline = Date.now() + scaled(30_000);
  while (!(row?.attached ?? false)) {
    if (Date.now() > deadline) throw new Error(`the agent never attached: ${JSON.stringify(row)}`);
    row = ((await owner.result('agents.list', {})) as typeof row[])[0];
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(row!.status, 'running');
  await owner.result('agents.chat', { agent_id: 'e2e-sup', prompt: 'echo over the binary', session_id: 'e2e-chat' });
  for (;;) {
    const f = await owner.next();
    if (f.method !== 'agents.chat.event') continue;
    if (f.params.kind === 'done') {
      assert.equal(f.params.delta.text, 'over the binary');
      break;
    }
  }

  const observer = await startDaemon(t, { carHome, args: ['--dream-interval', '0', '--no-dashboard', '--no-auth'] });
  await observer.waitForLog((l) => /observe-only/.test(l.msg), scaled(10_000));
  const watcher = await RawClient.connect(t, observer.url);
  const listed = (await watcher.result('agents.list', {})) as { spec: { id: string } }[];
  assert.deepEqual(listed.map((a) => a.spec.id), ['e2e-sup']);
  const err = await watcher.error('agents.stop', { id: 'e2e-sup' });
  assert.match(err.message, /observe-only/);
  assert.ok(err.message.includes(join(carHome, 'agents.json')), err.message);
  await observer.stop();

  const pid = row!.pid!;
  await primary.stop();
  assert.throws(() => process.kill(pid, 0), 'the agent stopped with the daemon');
});

test('binary: --agents-manifest puts the manifest (and its lock) where it says, ~/.car/ meaning CAR_HOME', async (t) => {
  const carHome = tempDir(t);
  const daemon = await startDaemon(t, { carHome, args: ['--dream-interval', '0', '--no-dashboard', '--agents-manifest', '~/.car/fleet/agents.json'] });
  const owner = await RawClient.connect(t, daemon.url);
  await owner.result('session.auth', { token: readFileSync(authTokenPath(carHome), 'utf8') });
  await owner.result('agents.upsert', { id: 'moved', command: process.execPath, args: [AGENT, 'chat'] });
  const manifest = JSON.parse(readFileSync(join(carHome, 'fleet', 'agents.json'), 'utf8'));
  assert.ok(JSON.stringify(manifest).includes('"moved"'), 'the upserted agent is in the named manifest');
  assert.equal(existsSync(join(carHome, 'agents.json')), false, 'nothing at the default place');
  owner.close();
  assert.equal((await daemon.stop()).code, 0);
});
