import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import test, { describe } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.js';
import { postRpc } from '../helpers/a2a.js';
import { waitFor } from '../helpers/raw-client.js';
import { scaled } from '../helpers/timing.js';
import type { ServerStateOptions } from '../../src/index.js';

/** Each A2A limit of ServerStateConfig at its bound, through a running listener. */

async function withA2a(overrides: Partial<ServerStateOptions>, fn: (base: string, server: TestServer) => Promise<void>): Promise<void> {
  const server = await startServer(overrides);
  try {
    const c = await server.authed();
    const { bound } = await c.result('a2a.start', { bind: '127.0.0.1:0', share_session_runtime: true });
    await fn(`http://${bound}`, server);
  } finally {
    await server.close();
  }
}

const send = (text: string, configuration?: unknown): unknown => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'SendMessage',
  params: { message: { messageId: `m-${text}`, role: 'ROLE_USER', parts: [{ text }] }, ...(configuration === undefined ? {} : { configuration }) },
});

/** A loopback receiver recording every request. */
async function receiver(respond = true): Promise<{ server: Server; url: string; got: { headers: IncomingMessage['headers']; body: any }[]; closed: number }> {
  const out = { got: [] as { headers: IncomingMessage['headers']; body: any }[], closed: 0, server: undefined as unknown as Server, url: '' };
  out.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      out.got.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      if (respond) res.end('ok');
    });
    res.on('close', () => out.closed++);
  });
  await new Promise<void>((r) => out.server.listen(0, '127.0.0.1', r));
  out.url = `http://127.0.0.1:${(out.server.address() as AddressInfo).port}/hook`;
  return out;
}

describe('A2A limits from ServerStateConfig, each at its bound', () => {
  test('a2aMaxBodyBytes: a body of exactly the bound is read; one byte more is 413', async () => {
    const limit = 512;
    await withA2a({ a2aMaxBodyBytes: limit }, async (base) => {
      const body = (n: number): string => {
        const head = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'GetTask', params: { id: 'x' }, pad: '' });
        return head.replace('"pad":""', `"pad":"${'p'.repeat(n - head.length)}"`);
      };
      const at = await fetch(`${base}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(limit) });
      assert.equal(at.status, 200);
      assert.equal(((await at.json()) as any).error.code, -32001);
      const over = await fetch(`${base}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(limit + 1) });
      assert.equal(over.status, 413);
      assert.equal(((await over.json()) as any).error.data.limit, limit);
    });
  });

  test('a2aMaxTasks: the task one past the bound pushes out the oldest finished task', async () => {
    await withA2a({ a2aMaxTasks: 2 }, async (base) => {
      const ids: string[] = [];
      for (const t of ['one', 'two', 'three']) ids.push((await postRpc(`${base}/`, send(t))).json.result.task.id);
      const first = await postRpc(`${base}/`, { jsonrpc: '2.0', id: 2, method: 'GetTask', params: { id: ids[0] } });
      assert.equal(first.json.error.code, -32001);
      for (const id of ids.slice(1)) assert.equal((await postRpc(`${base}/`, { jsonrpc: '2.0', id: 3, method: 'GetTask', params: { id } })).json.result.id, id);
      const listed = await postRpc(`${base}/`, { jsonrpc: '2.0', id: 4, method: 'ListTasks', params: {} });
      assert.equal(listed.json.result.totalSize, 2);
    });
  });

  test('a2aMaxPushConfigsPerTask: the config one past the bound is refused', async () => {
    await withA2a({ a2aMaxPushConfigsPerTask: 1 }, async (base) => {
      const id = (await postRpc(`${base}/`, send('x'))).json.result.task.id;
      const create = (n: number): unknown => ({
        jsonrpc: '2.0',
        id: n,
        method: 'CreateTaskPushNotificationConfig',
        params: { taskId: id, id: `cfg-${n}`, url: 'http://127.0.0.1:9/hook' },
      });
      assert.equal((await postRpc(`${base}/`, create(1))).json.result.taskId, id);
      const over = await postRpc(`${base}/`, create(2));
      assert.equal(over.json.error.code, -32602);
      assert.match(over.json.error.message, /1 push notification config/);
    });
  });

  test('a2aPushAllowList: off-loopback push URLs are refused unless their origin is listed', async () => {
    await withA2a({ a2aPushAllowList: ['https://hooks.example.com'] }, async (base) => {
      const id = (await postRpc(`${base}/`, send('y'))).json.result.task.id;
      const create = (url: string): unknown => ({ jsonrpc: '2.0', id: 1, method: 'CreateTaskPushNotificationConfig', params: { taskId: id, url } });
      for (const url of ['http://169.254.169.254/latest', 'http://10.0.0.1/x', 'https://evil.example.com/x', 'file:///etc/passwd']) {
        const refused = await postRpc(`${base}/`, create(url));
        assert.equal(refused.json.error?.code, -32602, url);
      }
      assert.equal((await postRpc(`${base}/`, create('https://hooks.example.com/a2a'))).json.result.url, 'https://hooks.example.com/a2a');
    });
  });

  test('push delivery: the current task JSON is POSTed to a loopback receiver on each transition, with the token', async () => {
    const hook = await receiver();
    try {
      await withA2a({}, async (base) => {
        const res = await postRpc(`${base}/`, send('push me', { taskPushNotificationConfig: { url: hook.url, token: 'secret-token' } }));
        const id = res.json.result.task.id;
        await waitFor(() => hook.got.some((g) => g.body.status?.state === 'TASK_STATE_COMPLETED'), undefined, 'the completed push');
        for (const g of hook.got) {
          assert.equal(g.body.id, id);
          assert.equal(g.headers['x-a2a-notification-token'], 'secret-token');
        }
        assert.ok(hook.got.some((g) => g.body.status?.state === 'TASK_STATE_WORKING'));
      });
    } finally {
      hook.server.closeAllConnections();
      hook.server.close();
    }
  });

  test('a2aPushTimeoutMs: a receiver that never answers has its push abandoned', async () => {
    const hook = await receiver(false);
    try {
      await withA2a({ a2aPushTimeoutMs: scaled(500) }, async (base) => {
        await postRpc(`${base}/`, send('slow', { taskPushNotificationConfig: { url: hook.url, token: '' } }));
        // The receiver never answers: the push's connection is closed by the daemon, not by the receiver.
        await waitFor(() => hook.closed >= 1, undefined, 'the abandoned push');
      });
    } finally {
      hook.server.closeAllConnections();
      hook.server.close();
    }
  });

  test('A2A config values are validated', async () => {
    const { ServerStateConfig } = await import('../../src/index.js');
    assert.throws(() => new ServerStateConfig({ a2aMaxTasks: 0 }), /a2aMaxTasks/);
    assert.throws(() => new ServerStateConfig({ a2aMaxBodyBytes: 1.5 }), /a2aMaxBodyBytes/);
    assert.throws(() => new ServerStateConfig({ a2aPushAllowList: [''] }), /a2aPushAllowList/);
    assert.throws(() => new ServerStateConfig({ a2aKeyPath: 'relative/key.pem' }), /a2aKeyPath/);
    assert.throws(() => new ServerStateConfig({ a2aChatAckTimeoutMs: 0 }), /a2aChatAckTimeoutMs/);
  });
});
