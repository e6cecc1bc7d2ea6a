import assert from 'node:assert/strict';
import { appendFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { describe } from 'node:test';
import type { Frame, RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/temp.js';

async function withServer(overrides: Parameters<typeof startServer>[0], fn: (server: TestServer) => Promise<void>): Promise<void> {
  const server = await startServer(overrides);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

/** Submit and answer every tools.execute with "ok". */
async function submit(c: RawClient, proposal: unknown): Promise<Frame> {
  const onMessage = (data: Buffer): void => {
    const f = JSON.parse(data.toString('utf8')) as Frame;
    if (f.method === 'tools.execute') c.send({ jsonrpc: '2.0', id: f.id, result: 'ok' });
  };
  c.ws.on('message', onMessage);
  try {
    return await c.call('proposal.submit', { proposal });
  } finally {
    c.ws.off('message', onMessage);
    while (c.pendingFrames > 0) await c.next();
  }
}

const tool = (id: string, name: string, parameters: Record<string, unknown> = {}): Frame => ({
  id,
  type: 'tool_call',
  tool: name,
  parameters,
  failure_behavior: 'skip',
});

describe('policies from TOML files in policiesDir', () => {
  test('files are merged in name order and checked at dispatch, next to the registered policies', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, '10-deny.toml'), 'deny_tool = ["alpha"]\n');
    writeFileSync(join(dir, '20-limits.toml'), '[[rate_limit_tool]]\ntool = "fetch"\nmax_calls = 1\ninterval_secs = 3600\n');
    writeFileSync(join(dir, 'notes.txt'), 'not a policy file');
    await withServer({ policiesDir: dir }, async (server) => {
      const c = await server.authed();
      await c.result('tools.register', [{ name: 'alpha' }, { name: 'fetch' }]);
      await c.result('policy.register', { name: 'no-drop', rule: 'deny_tool_param', target: 'fetch', key: 'url', pattern: 'drop' });
      const reply = await submit(c, {
        actions: [tool('d', 'alpha'), tool('f1', 'fetch', { url: 'a' }), { ...tool('f2', 'fetch', { url: 'b' }), dependencies: ['f1'] }, tool('f3', 'fetch', { url: 'drop' })],
      });
      const res = reply.result;
      assert.deepEqual(res.results.map((r: Frame) => r.status), ['rejected', 'succeeded', 'rejected', 'rejected']);
      assert.deepEqual(
        res.violations.map((v: Frame) => [v.action_id, v.policy_name]).sort(),
        [['d', 'deny_tool:alpha'], ['f2', 'rate_limit_tool:fetch'], ['f3', 'no-drop'], ['f3', 'rate_limit_tool:fetch']],
      );
      assert.match(res.results[0].error, /denied by policy 'deny_tool:alpha'/);
    });
  });

  test('a missing directory loads nothing; a malformed file fails the session\'s proposals, naming the file only', async (t) => {
    const dir = tempDir(t);
    await withServer({ policiesDir: join(dir, 'absent') }, async (server) => {
      const c = await server.authed();
      await c.result('tools.register', [{ name: 'x' }]);
      assert.equal((await submit(c, { actions: [tool('a', 'x')] })).result.results[0].status, 'succeeded');
    });
    writeFileSync(join(dir, 'bad.toml'), '[[trace_rule]]\nname = "t"\n');
    await withServer({ policiesDir: dir }, async (server) => {
      const c = await server.authed();
      await c.result('tools.register', [{ name: 'x' }]);
      const reply = await submit(c, { actions: [tool('a', 'x')] });
      assert.equal(reply.error.code, -32603);
      assert.match(reply.error.message, /policy file 'bad\.toml' is malformed: \[\[trace_rule\]\] is not supported/);
      assert.ok(!reply.error.message.includes(dir), 'no absolute path in the message');
      assert.equal(c.pendingFrames, 0, 'nothing was dispatched');
    });
  });

  test('policyFileMaxBytes at its bound: a file of exactly the bound loads, one byte more fails the session', async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'p.toml');
    writeFileSync(file, 'deny_tool = ["alpha"]\n');
    const bound = statSync(file).size;
    await withServer({ policiesDir: dir, policyFileMaxBytes: bound }, async (server) => {
      const a = await server.authed();
      await a.result('tools.register', [{ name: 'alpha' }]);
      assert.equal((await submit(a, { actions: [tool('d', 'alpha')] })).result.results[0].status, 'rejected');
      appendFileSync(file, '\n');
      const b = await server.authed();
      await b.result('tools.register', [{ name: 'alpha' }]);
      const reply = await submit(b, { actions: [tool('d', 'alpha')] });
      assert.match(reply.error.message, new RegExp(`policy file 'p.toml' is malformed: larger than policyFileMaxBytes \\(${bound} bytes\\)`));
    });
  });
});
