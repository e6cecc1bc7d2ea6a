import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
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

  test('registry_path outside the registry dir and bad names are invalid params', async () => {
    const c = await server.authed();
    const outside = await c.error('registry.list', { registry_path: '../escape' });
    assert.equal(outside.code, -32602);
    assert.match(outside.message, /must be inside/);
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
