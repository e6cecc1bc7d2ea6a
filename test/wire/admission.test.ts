import assert from 'node:assert/strict';
import test, { after, describe } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.js';
import { parseCliArgs } from '../../src/cli/args.js';
import { resolveSettings } from '../../src/cli/settings.js';

describe('admission.status (behaviour 64)', () => {
  const servers: TestServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  test('64: permits_total is in [1,8] when sized from this machine; nothing held or queued', async () => {
    const server = await startServer();
    servers.push(server);
    const c = await server.authed();
    const s = await c.result('admission.status', {});
    assert.ok(Number.isInteger(s.permits_total) && s.permits_total >= 1 && s.permits_total <= 8, JSON.stringify(s));
    assert.deepEqual(s, {
      permits_total: s.permits_total,
      permits_available: s.permits_total,
      permits_in_use: 0,
      env_override: '',
      queue_depth: 0,
      queue_max: 512,
    });
  });

  test('64: the override sets permits_total; held and queued permits show up', async () => {
    const server = await startServer({ inferenceMaxConcurrent: 2 });
    servers.push(server);
    const c = await server.authed();
    assert.deepEqual(await c.result('admission.status'), {
      permits_total: 2,
      permits_available: 2,
      permits_in_use: 0,
      env_override: '2',
      queue_depth: 0,
      queue_max: 512,
    });
    const held = [await server.state.admission.acquire(), await server.state.admission.acquire()];
    const queued = server.state.admission.acquire();
    assert.deepEqual(await c.result('admission.status'), {
      permits_total: 2,
      permits_available: 0,
      permits_in_use: 2,
      env_override: '2',
      queue_depth: 1,
      queue_max: 512,
    });
    held[0]!.release();
    (await queued).release();
    held[1]!.release();
    assert.equal((await c.result('admission.status')).permits_available, 2);
  });

  test('sized from the configured memory: 24 GiB → 3 permits', async () => {
    const server = await startServer({ totalMemoryBytes: 24 * 1024 ** 3 });
    servers.push(server);
    const c = await server.authed();
    assert.equal((await c.result('admission.status')).permits_total, 3);
  });

  test('the binary maps CAR_INFERENCE_MAX_CONCURRENT onto the config', () => {
    const args = parseCliArgs([]);
    assert.equal(resolveSettings(args, {}).inferenceMaxConcurrent, undefined);
    assert.equal(resolveSettings(args, { CAR_INFERENCE_MAX_CONCURRENT: '4' }).inferenceMaxConcurrent, 4);
    assert.equal(resolveSettings(args, { CAR_INFERENCE_MAX_CONCURRENT: ' ' }).inferenceMaxConcurrent, undefined);
    for (const bad of ['0', '-1', '2.5', 'many']) {
      assert.throws(() => resolveSettings(args, { CAR_INFERENCE_MAX_CONCURRENT: bad }), /CAR_INFERENCE_MAX_CONCURRENT/);
    }
  });
});
