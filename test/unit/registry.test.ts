import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { RegistryError, RegistryService, RegistryStore } from '../../src/registry/index.js';
import { tempDir } from '../helpers/temp.js';

test('RegistryStore: register, list sorted, heartbeat, unregister', async (t) => {
  const store = new RegistryStore(join(tempDir(t, 'car-registry-'), 'registry'));
  assert.deepEqual(await store.list(), []);
  const at = new Date('2026-01-01T00:00:00Z');
  await store.register({ name: 'zeta', dashboard_url: 'http://127.0.0.1:1/' }, at);
  await store.register({ name: 'alpha', dashboard_url: 'http://127.0.0.1:2/', status: 'idle', port: 2 }, at);
  const list = await store.list();
  assert.deepEqual(list.map((e) => e.name), ['alpha', 'zeta']);
  assert.equal(list[1]!.status, 'running');
  assert.equal(list[0]!.registered_at, at.toISOString());
  assert.equal(await store.heartbeat('alpha', new Date('2026-01-01T00:00:30Z')), true);
  assert.equal((await store.list())[0]!.last_heartbeat, '2026-01-01T00:00:30.000Z');
  await store.unregister('alpha');
  await store.unregister('alpha');
  assert.equal(await store.heartbeat('alpha'), false);
  assert.deepEqual(readdirSync(store.dir), ['zeta.json']);
});

test('RegistryStore: corrupt files are skipped; reap removes stale entries only', async (t) => {
  const dir = tempDir(t, 'car-registry-');
  const store = new RegistryStore(dir);
  await store.register({ name: 'old', dashboard_url: 'u' }, new Date('2026-01-01T00:00:00Z'));
  await store.register({ name: 'fresh', dashboard_url: 'u' }, new Date('2026-01-01T00:01:50Z'));
  writeFileSync(join(dir, 'broken.json'), '{ not json');
  writeFileSync(join(dir, 'wrong.json'), JSON.stringify({ name: 'other', dashboard_url: 'u', last_heartbeat: 'x' }));
  assert.deepEqual((await store.list()).map((e) => e.name), ['fresh', 'old']);
  assert.deepEqual(await store.reap(60, new Date('2026-01-01T00:02:00Z')), ['old']);
  assert.deepEqual((await store.list()).map((e) => e.name), ['fresh']);
  assert.ok(readdirSync(dir).includes('broken.json'));
});

test('RegistryStore: names that are not plain file names are refused', async (t) => {
  const store = new RegistryStore(tempDir(t, 'car-registry-'));
  for (const name of ['../x', 'a/b', '.hidden', '', 'x'.repeat(200)]) {
    await assert.rejects(async () => store.register({ name, dashboard_url: 'u' }), RegistryError);
  }
});

test('RegistryService: disabled without a dir; registry_path stays inside it', (t) => {
  assert.throws(() => new RegistryService(null).store(), /without a registry directory/);
  const root = tempDir(t, 'car-registry-');
  const svc = new RegistryService(root);
  assert.equal(svc.store().dir, root);
  assert.equal(svc.store('team-a').dir, join(root, 'team-a'));
  assert.equal(svc.store(join(root, 'team-b')).dir, join(root, 'team-b'));
  assert.equal(svc.store('team-a'), svc.store('team-a'));
  for (const bad of ['..', '../elsewhere', '/tmp', 'a/../../b']) assert.throws(() => svc.store(bad), /must be inside/);
});
