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
  assert.equal(list[0]!.registered_at, at.getTime() / 1000);
  assert.equal(list[0]!.last_heartbeat_at, at.getTime() / 1000);
  assert.equal(await store.heartbeat('alpha', new Date('2026-01-01T00:00:30Z')), true);
  assert.equal((await store.list())[0]!.last_heartbeat, '2026-01-01T00:00:30.000Z');
  assert.equal((await store.list())[0]!.last_heartbeat_at, Date.parse('2026-01-01T00:00:30Z') / 1000);
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

test('RegistryStore: zero or missing timestamps are now; Unix seconds and RFC 3339 are both read', async (t) => {
  const store = new RegistryStore(tempDir(t, 'car-registry-'));
  const at = new Date('2026-03-01T00:00:00Z');
  const e = await store.register({ name: 'z', dashboard_url: 'u', registered_at: 0, last_heartbeat_at: 0 }, at);
  assert.deepEqual([e.registered_at, e.last_heartbeat_at], [at.getTime() / 1000, at.getTime() / 1000]);
  const n = await store.register({ name: 'n', dashboard_url: 'u', registered_at: 1_700_000_000, last_heartbeat_at: 1_700_000_100 }, at);
  assert.deepEqual([n.registered_at, n.last_heartbeat_at, n.last_heartbeat], [1_700_000_000, 1_700_000_100, new Date(1_700_000_100_000).toISOString()]);
  writeFileSync(join(store.dir, 'old.json'), JSON.stringify({ name: 'old', dashboard_url: 'u', registered_at: '2020-01-01T00:00:00Z', last_heartbeat: '2020-01-01T00:00:05Z' }));
  const old = (await store.list()).find((x) => x.name === 'old')!;
  assert.deepEqual([old.registered_at, old.last_heartbeat_at], [Date.parse('2020-01-01T00:00:00Z') / 1000, Date.parse('2020-01-01T00:00:05Z') / 1000]);
});

test('RegistryService: absolute registry_path is used as given; a relative one stays inside the dir', (t) => {
  assert.throws(() => new RegistryService(null).store(), /without a registry directory/);
  const elsewhere = tempDir(t, 'car-registry-abs-');
  assert.equal(new RegistryService(null).store(join(elsewhere, 'x')).dir, join(elsewhere, 'x'));
  assert.throws(() => new RegistryService(null).store('/tmp/a\0b'), /NUL/);
  const root = tempDir(t, 'car-registry-');
  const svc = new RegistryService(root);
  assert.equal(svc.store().dir, root);
  assert.equal(svc.store('team-a').dir, join(root, 'team-a'));
  assert.equal(svc.store(join(root, 'team-b')).dir, join(root, 'team-b'));
  assert.equal(svc.store('team-a'), svc.store('team-a'));
  for (const bad of ['..', '../elsewhere', 'a/../../b']) assert.throws(() => svc.store(bad), /must stay inside/);
});
