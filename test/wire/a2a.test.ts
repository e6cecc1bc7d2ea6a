import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test, { describe } from 'node:test';
import { AgentCard } from '@a2a-js/sdk';
import { verifyAgentCardSignature } from '@a2a-js/sdk';
import { useServer } from '../helpers/server.js';
import { tempDir } from '../helpers/temp.js';
import { postRpc, sdkClient, sendRequest, serveTools, taskJson } from '../helpers/a2a.js';

const keyDir = tempDir('car-a2a-key-');
const ECHO = { name: 'echo', description: 'Echo the parameters back', parameters: { type: 'object' } };

describe('a2a.* over the wire', () => {
  const server = useServer({ a2aKeyPath: join(keyDir, 'a2a', 'agent-key.pem') });

  test('85: status with no server is {running:false}; stop errors; start binds; a second start errors', async () => {
    const c = await server.authed();
    assert.deepEqual(await c.result('a2a.status', {}), { running: false });
    const stop = await c.error('a2a.stop', {});
    assert.equal(stop.code, -32603);
    assert.match(stop.message, /no A2A server/);
    const { bound } = await c.result('a2a.start', { bind: '127.0.0.1:0' });
    assert.match(bound, /^127\.0\.0\.1:\d+$/);
    const again = await c.error('a2a.start', { bind: '127.0.0.1:0' });
    assert.match(again.message, /already running/);
    const status = await c.result('a2a.status', {});
    assert.equal(status.running, true);
    assert.equal(status.bound, bound);
    assert.equal(typeof status.uptime_secs, 'number');
    assert.deepEqual(await c.result('a2a.stop', {}), { stopped: true });
    assert.deepEqual(await c.result('a2a.status', {}), { running: false });
  });

  test('wildcard binds are refused; a non-loopback bind needs allow_non_loopback_bind', async () => {
    const c = await server.authed();
    for (const bind of ['0.0.0.0:0', '[::]:0', ':0']) {
      const e = await c.error('a2a.start', { bind });
      assert.equal(e.code, -32602, bind);
    }
    const e = await c.error('a2a.start', { bind: '192.0.2.10:0' });
    assert.equal(e.code, -32602);
    assert.match(e.message, /allow_non_loopback_bind/);
    assert.equal((await c.error('a2a.start', { bind: 'not-an-address' })).code, -32602);
    assert.deepEqual(await c.result('a2a.status', {}), { running: false });
  });

  test('the card: both well-known paths, one skill per tool, signed over RFC 8785 JSON with the 0600 daemon key', async (t) => {
    const c = await server.authed();
    await c.result('tools.register', [ECHO]);
    await c.result('tools.register', [{ name: 'add', description: 'Add numbers', parameters: { type: 'object' } }]);
    const { bound } = await c.result('a2a.start', { bind: '127.0.0.1:0', share_session_runtime: true, agent_name: 'Test agent' });
    t.after(() => c.result('a2a.stop', {}));
    const base = `http://${bound}`;
    const card: any = await (await fetch(`${base}/.well-known/agent-card.json`)).json();
    const legacy: any = await (await fetch(`${base}/.well-known/agent.json`)).json();
    assert.equal(card.name, 'Test agent');
    assert.equal(card.protocolVersion, '1.0');
    const tools = (await c.result('tools.list', {})).tools as { name: string }[];
    assert.deepEqual(card.skills.map((s: { id: string }) => s.id).sort(), tools.map((x) => x.name).sort());
    assert.ok(tools.some((x) => x.name === 'add') && tools.some((x) => x.name === 'echo'));
    assert.ok(card.defaultInputModes.includes('application/a2ui+json'));
    assert.equal(card.capabilities.extensions[0].uri, 'https://a2ui.org/a2a-extension/a2ui/v0.9.1');
    assert.deepEqual(legacy.skills, card.skills);
    const keyPath = join(keyDir, 'a2a', 'agent-key.pem');
    assert.equal(statSync(keyPath).mode & 0o777, 0o600);
    const publicKey = createPublicKey(readFileSync(keyPath, 'utf8'));
    await verifyAgentCardSignature(async () => publicKey)(AgentCard.fromJSON(card));
    const tampered = AgentCard.fromJSON({ ...card, name: 'Someone else' });
    await assert.rejects(verifyAgentCardSignature(async () => publicKey)(tampered));
  });

  test('the SDK client: a tool data part runs through tools.execute on the sharing session; get, list, cancel', async (t) => {
    const c = await server.authed();
    await c.result('tools.register', [ECHO]);
    serveTools(c, (tool, parameters) => ({ tool, echoed: parameters }));
    const { bound } = await c.result('a2a.start', { bind: '127.0.0.1:0', share_session_runtime: true });
    t.after(() => c.result('a2a.stop', {}));
    const client = await sdkClient(`http://${bound}`);
    const sent = taskJson(await client.sendMessage(sendRequest([{ data: { tool: 'echo', parameters: { x: 1 } } }, { text: 'why' }])));
    assert.equal((sent.status as { state: string }).state, 'TASK_STATE_COMPLETED');
    const artifacts = sent.artifacts as { name: string; parts: { data: { status: string; output: unknown } }[] }[];
    assert.equal(artifacts.length, 1);
    assert.equal(artifacts[0]!.name, 'echo');
    assert.equal(artifacts[0]!.parts[0]!.data.status, 'succeeded');
    assert.deepEqual(artifacts[0]!.parts[0]!.data.output, { tool: 'echo', echoed: { x: 1 } });

    const got = await client.getTask({ tenant: '', id: sent.id as string, historyLength: 0 });
    assert.equal(got.id, sent.id);
    assert.equal(got.history.length, 0);
    const full = await client.getTask({ tenant: '', id: sent.id as string });
    assert.ok(full.history.length >= 1);

    const listed = await client.listTasks({ tenant: '', contextId: sent.contextId as string, status: 3, pageToken: '', statusTimestampAfter: undefined });
    assert.deepEqual(listed.tasks.map((x) => x.id), [sent.id]);
    await assert.rejects(client.cancelTask({ tenant: '', id: sent.id as string, metadata: undefined }), /not cancelable/i);
  });

  test('an unknown tool fails the task; free text with no shared chat is acknowledged', async (t) => {
    const c = await server.authed();
    const { bound } = await c.result('a2a.start', { bind: '127.0.0.1:0', share_session_runtime: true });
    t.after(() => c.result('a2a.stop', {}));
    const client = await sdkClient(`http://${bound}`);
    const failed = taskJson(await client.sendMessage(sendRequest([{ data: { tool: 'nope', parameters: {} } }])));
    assert.equal((failed.status as { state: string }).state, 'TASK_STATE_FAILED');
    const text = taskJson(await client.sendMessage(sendRequest([{ text: 'hello' }])));
    assert.equal((text.status as { state: string }).state, 'TASK_STATE_COMPLETED');
    assert.equal((text.status as { message: { parts: { text: string }[] } }).message.parts[0]!.text, 'Acknowledged.');
  });

  test('86: the in-core dispatcher answers v1.0 names and v0.3 aliases over WS; streaming methods are MethodNotFound', async (t) => {
    const c = await server.authed();
    await c.result('tools.register', [ECHO]);
    serveTools(c, (_tool, parameters) => parameters);
    const { bound } = await c.result('a2a.start', { bind: '127.0.0.1:0', share_session_runtime: true });
    t.after(() => c.result('a2a.stop', {}));
    const sent = await c.result('SendMessage', {
      message: { messageId: 'm1', role: 'ROLE_USER', parts: [{ data: { tool: 'echo', parameters: { y: 2 } } }] },
    });
    assert.equal(sent.task.status.state, 'TASK_STATE_COMPLETED');
    const id = sent.task.id;
    assert.equal((await c.result('GetTask', { id })).id, id);
    const legacy = await c.result('tasks/get', { id });
    assert.equal(legacy.id, id);
    assert.equal(legacy.status.state, 'completed');
    assert.equal(legacy.kind, 'task');
    const listed = await c.result('tasks/list', { state: 'completed', limit: 10 });
    assert.ok(listed.tasks.some((x: { id: string }) => x.id === id));
    const missing = await c.error('GetTask', { id: 'no-such-task' });
    assert.equal(missing.code, -32001);
    for (const m of ['message/stream', 'SendStreamingMessage', 'tasks/resubscribe', 'SubscribeToTask']) {
      assert.equal((await c.error(m, {})).code, -32601, m);
    }
    // The same task over HTTP, by its v0.3 name.
    const http = await postRpc(`http://${bound}/a2a`, { jsonrpc: '2.0', id: 7, method: 'tasks/get', params: { id } });
    assert.equal(http.json.result.id, id);
  });

  test('push configs, cancel and the extended card: every remaining method by its v1.0 name and v0.3 alias, over WS and HTTP alike', async (t) => {
    const c = await server.authed();
    const { bound } = await c.result('a2a.start', { bind: '127.0.0.1:0', share_session_runtime: true });
    t.after(() => c.result('a2a.stop', {}));
    const overHttp = async (method: string, params: unknown): Promise<any> => {
      const res = await postRpc(`http://${bound}/`, { jsonrpc: '2.0', id: 1, method, params });
      if (res.json.error) throw new Error(`${method}: ${res.json.error.message}`);
      return res.json.result;
    };
    const transports: [string, (method: string, params: unknown) => Promise<any>][] = [
      ['ws', (method, params) => c.result(method, params)],
      ['http', overHttp],
    ];
    for (const [via, call] of transports) {
      const sent = await call('SendMessage', { message: { messageId: `push-${via}`, role: 'ROLE_USER', parts: [{ text: 'hello' }] } });
      const taskId: string = sent.task.id;
      const hook = 'http://127.0.0.1:9/hook';
      assert.deepEqual(await call('CreateTaskPushNotificationConfig', { taskId, id: 'a', url: `${hook}-a`, token: 'tok' }), { id: 'a', taskId, url: `${hook}-a`, token: 'tok' }, via);
      const set = await call('tasks/pushNotificationConfig/set', { taskId, pushNotificationConfig: { id: 'b', url: `${hook}-b` } });
      assert.deepEqual(set, { taskId, pushNotificationConfig: { id: 'b', url: `${hook}-b` } }, via);
      assert.equal((await call('GetTaskPushNotificationConfig', { taskId, id: 'b' })).url, `${hook}-b`, via);
      assert.equal((await call('tasks/pushNotificationConfig/get', { id: taskId, pushNotificationConfigId: 'a' })).pushNotificationConfig.url, `${hook}-a`, via);
      assert.deepEqual((await call('ListTaskPushNotificationConfigs', { taskId })).configs.map((x: { id: string }) => x.id).sort(), ['a', 'b'], via);
      assert.equal((await call('tasks/pushNotificationConfig/list', { id: taskId })).length, 2, via);
      await call('DeleteTaskPushNotificationConfig', { taskId, id: 'a' });
      await call('tasks/pushNotificationConfig/delete', { id: taskId, pushNotificationConfigId: 'b' });
      assert.deepEqual((await call('ListTaskPushNotificationConfigs', { taskId })).configs ?? [], [], via);
      for (const cancel of ['CancelTask', 'tasks/cancel']) {
        await assert.rejects(call(cancel, { id: taskId }), /not cancelable/i, `${via} ${cancel} of a finished task`);
      }
      for (const card of ['GetExtendedAgentCard', 'agent/getAuthenticatedExtendedCard']) {
        const got = await call(card, {});
        assert.equal(typeof got.name, 'string', `${via} ${card}`);
        assert.ok(Array.isArray(got.skills), `${via} ${card}`);
      }
    }
  });

  test('in-core calls with no server running say so', async () => {
    const c = await server.authed();
    const e = await c.error('GetTask', { id: 'x' });
    assert.equal(e.code, -32603);
    assert.match(e.message, /a2a\.start/);
  });
});
