import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { after, before, describe } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.js';
import { removeTempDir, tempDir } from '../helpers/temp.js';

describe('registry.* over the wire', () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    dir = tempDir('car-registry-wire-');
    server = await startServer({ registryDir: dir });
  });
  after(async () => {
    await server.close();
    removeTempDir(dir);
  });

  test('84: register → list sorted by name → heartbeat refreshed; after unregister refreshed is false', async () => {
    const c = await server.authed();
    assert.equal(await c.result('registry.register', { entry: { name: 'web', dashboard_url: 'http://127.0.0.1:8080/' } }), null);
    assert.equal(
      await c.result('registry.register', { entry: { name: 'api', dashboard_url: 'http://127.0.0.1:8081/', status: 'idle', pid: 42 } }),
      null,
    );
    writeFileSync(join(dir, 'corrupt.json'), '{');
    const list = await c.result('registry.list', {});
    assert.deepEqual(list.map((e: { name: string }) => e.name), ['api', 'web']);
    assert.equal(list[1].status, 'running');
    assert.equal(typeof list[0].last_heartbeat, 'string');
    assert.equal(typeof list[0].last_heartbeat_at, 'number');
    assert.equal(typeof list[0].registered_at, 'number');
    assert.deepEqual(await c.result('registry.heartbeat', { name: 'api' }), { refreshed: true });
    assert.equal(await c.result('registry.unregister', { name: 'api' }), null);
    assert.equal(await c.result('registry.unregister', { name: 'api' }), null);
    assert.deepEqual(await c.result('registry.heartbeat', { name: 'api' }), { refreshed: false });
  });

  test('reap removes entries whose heartbeat is older than max_age_secs', async () => {
    const c = await server.authed();
    const registry_path = 'reap-test';
    await c.result('registry.register', { registry_path, entry: { name: 'stale', dashboard_url: 'u', last_heartbeat: '2020-01-01T00:00:00Z' } });
    await c.result('registry.register', { registry_path, entry: { name: 'live', dashboard_url: 'u' } });
    assert.deepEqual(await c.result('registry.reap', { registry_path }), ['stale']);
    assert.deepEqual((await c.result('registry.list', { registry_path })).map((e: { name: string }) => e.name), ['live']);
    assert.deepEqual(await c.result('registry.reap', { registry_path, max_age_secs: 3600 }), []);
  });

  test('the reference example: numeric zero timestamps are filled with now; registry_path overrides the location', async () => {
    const c = await server.authed();
    const other = tempDir('car-registry-other-');
    try {
      const registry_path = join(other, 'nested', 'registry');
      const before = Math.floor(Date.now() / 1000);
      const entry = { name: 'my-agent', dashboard_url: 'http://127.0.0.1:9000', status: 'running', display_name: 'My Agent', port: 9000, pid: 4242, registered_at: 0, last_heartbeat_at: 0 };
      assert.equal(await c.result('registry.register', { entry, registry_path }), null);
      const [got] = await c.result('registry.list', { registry_path });
      assert.equal(got.name, 'my-agent');
      assert.ok(got.registered_at >= before && got.last_heartbeat_at >= before, JSON.stringify(got));
      assert.equal(statSync(join(other, 'nested')).mode & 0o777, 0o700);
      assert.equal(statSync(registry_path).mode & 0o777, 0o700);
      assert.equal(statSync(join(registry_path, 'my-agent.json')).mode & 0o777, 0o600);
      assert.deepEqual(await c.result('registry.heartbeat', { name: 'my-agent', registry_path }), { refreshed: true });
      assert.deepEqual(await c.result('registry.list', {}).then((l: { name: string }[]) => l.some((e) => e.name === 'my-agent')), false);
      assert.equal((await c.error('registry.list', { registry_path: '/tmp/a\u0000b' })).code, -32602);
    } finally {
      removeTempDir(other);
    }
  });

  test('a relative registry_path outside the registry dir and bad names are invalid params', async () => {
    const c = await server.authed();
    const outside = await c.error('registry.list', { registry_path: '../escape' });
    assert.equal(outside.code, -32602);
    assert.match(outside.message, /must stay inside/);
    const bad = await c.error('registry.register', { entry: { name: '../x', dashboard_url: 'u' } });
    assert.equal(bad.code, -32602);
  });

  test('a daemon without a registry dir refuses with a clear error', async () => {
    const bare = await startServer();
    try {
      const c = await bare.authed();
      const err = await c.error('registry.list', {});
      assert.match(err.message, /registry is not available/);
    } finally {
      await bare.close();
    }
  });
});
