import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { startServer } from '../helpers/server.js';
import { tempDir } from '../helpers/temp.js';

/** Nothing of the server's file system or of a hostile input comes back whole in an error. */

function directories(root: string): string[] {
  const out = [root];
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    if (statSync(path).isDirectory()) out.push(...directories(path));
  }
  return out;
}

test('leaks: long method names, NUL in registry_path, absolute paths, directory modes', async (t) => {
  const home = tempDir(t, 'car-leaks-');
  const server = await startServer({
    registryDir: join(home, 'registry'),
    runsDir: join(home, 'runs'),
    journalDir: join(home, 'journals'),
  });
  t.after(() => server.close());
  const c = await server.authed({ params: { agent_id: 'leak-agent' } });

  const name = 'm'.repeat(4 * 1024 * 1024);
  const unknown = await c.call('x' + name, {});
  assert.equal(unknown.error.code, -32601);
  assert.ok(JSON.stringify(unknown).length < 400, `${JSON.stringify(unknown).length} characters echoed`);
  assert.match(unknown.error.message, /\(4194305 characters\)$/);

  const nul = await c.error('registry.list', { registry_path: 'sub\0dir' });
  assert.equal(nul.code, -32602);
  assert.match(nul.message, /registry_path/);

  const long = await c.error('registry.list', { registry_path: join(home, 'a'.repeat(300)) });
  assert.ok(!long.message.includes(home), long.message);
  assert.ok(!/\/tmp\//.test(long.message), long.message);

  await c.result('registry.register', { entry: { name: 'svc', dashboard_url: 'http://127.0.0.1:1/' } });
  const { run_id } = await c.result('runs.start', { intent: 'dirs' });
  await c.result('runs.record_turns', { run_id, turns: [{ prompt: 'p' }] });
  await c.result('state.set', { key: 'k', value: 1 });
  for (const dir of directories(home).slice(1)) {
    assert.equal(statSync(dir).mode & 0o777, 0o700, `${dir} is ${(statSync(dir).mode & 0o777).toString(8)}`);
  }
  assert.equal(await c.result('state.get', { key: 'k' }), 1, 'the connection lived through all of it');
});
