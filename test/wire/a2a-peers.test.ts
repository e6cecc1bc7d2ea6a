import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import test, { describe } from 'node:test';
import { Task, TaskState } from '@a2a-js/sdk';
import { AgentEvent, type AgentExecutor } from '@a2a-js/sdk/server';
import { startServer, useServer } from '../helpers/server.js';
import { tempDir } from '../helpers/temp.js';
import { postRpc, sdkAgentServer, sdkClient, sendRequest, serveTools } from '../helpers/a2a.js';

const home = tempDir('car-a2a-peers-');

/** An A2A agent built with the SDK alone: it echoes the text it gets, as a completed task. */
async function sdkAgent(): Promise<{ url: string; headers: IncomingHttpHeaders[]; close: () => void }> {
  const headers: IncomingHttpHeaders[] = [];
  const executor: AgentExecutor = {
    async execute(ctx, bus) {
      const text = ctx.userMessage.parts.map((p) => (p.content?.$case === 'text' ? p.content.value : '')).join('');
      const reply = { messageId: 'r', contextId: ctx.contextId, taskId: ctx.taskId, role: 2, parts: [{ content: { $case: 'text' as const, value: `echo: ${text}` }, mediaType: 'text/plain', filename: '', metadata: undefined }], metadata: undefined, extensions: [], referenceTaskIds: [] };
      bus.publish(AgentEvent.task({ id: ctx.taskId, contextId: ctx.contextId, status: { state: TaskState.TASK_STATE_SUBMITTED, message: undefined, timestamp: undefined }, artifacts: [], history: [ctx.userMessage], metadata: undefined }));
      bus.publish(AgentEvent.statusUpdate({ taskId: ctx.taskId, contextId: ctx.contextId, status: { state: TaskState.TASK_STATE_COMPLETED, message: reply, timestamp: new Date().toISOString() }, metadata: undefined }));
    },
    async cancelTask() {},
  };
  const agent = await sdkAgentServer(executor, { name: 'sdk echo', description: 'echo', capabilities: { streaming: true } }, (h) => headers.push(h));
  return { ...agent, headers };
}

describe('a2a.peers.* and a2a.send', () => {
  const server = useServer({ a2aPeersPath: join(home, 'a2a-peers.json'), a2aMaxPeers: 3 });

  test('87: peers: off-loopback needs allowUntrusted, duplicates are refused, the list is persisted 0600, remove', async () => {
    const c = await server.authed();
    const far = await c.error('a2a.peers.add', { url: 'https://agent.example.com/' });
    assert.equal(far.code, -32602);
    assert.match(far.message, /allow-untrusted|allowUntrusted|not on the loopback/);
    assert.equal((await c.error('a2a.peers.add', { url: 'ftp://127.0.0.1/' })).code, -32602);
    const local = await c.result('a2a.peers.add', { url: 'http://127.0.0.1:8731', label: 'me' });
    assert.deepEqual(local, { slug: '127-0-0-1-8731', url: 'http://127.0.0.1:8731/', label: 'me' });
    const dup = await c.error('a2a.peers.add', { url: 'http://127.0.0.1:8731/' });
    assert.match(dup.message, /already trusted/);
    const remote = await c.result('a2a.peers.add', { url: 'https://agent.example.com/', allowUntrusted: true });
    assert.equal(remote.slug, 'agent-example-com-443');
    const path = join(home, 'a2a-peers.json');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')).peers.map((p: { slug: string }) => p.slug), ['127-0-0-1-8731', 'agent-example-com-443']);
    assert.equal((await c.result('a2a.peers.list', {})).peers.length, 2);
    assert.deepEqual(await c.result('a2a.peers.remove', { slug: '127-0-0-1-8731' }), { removed: true });
    assert.deepEqual(await c.result('a2a.peers.remove', { slug: '127-0-0-1-8731' }), { removed: false });
    assert.deepEqual((await c.result('a2a.peers.list', {})).peers.map((p: { slug: string }) => p.slug), ['agent-example-com-443']);
  });

  test('a2aMaxPeers: the peer one past the bound is refused', async () => {
    const bounded = await startServer({ a2aMaxPeers: 2 });
    try {
      const c = await bounded.authed();
      await c.result('a2a.peers.add', { url: 'http://127.0.0.1:1/' });
      await c.result('a2a.peers.add', { url: 'http://127.0.0.1:2/' });
      const over = await c.error('a2a.peers.add', { url: 'http://127.0.0.1:3/' });
      assert.equal(over.code, -32603);
      assert.equal((over.data as { limit: number }).limit, 2);
    } finally {
      await bounded.close();
    }
  });

  test('a2a.send to an agent built with the SDK: blocking reply, routeAuth carried, untrusted endpoints refused', async () => {
    const agent = await sdkAgent();
    try {
      const c = await server.authed();
      const out = await c.result('a2a.send', { endpoint: agent.url, message: 'hello', blocking: true, routeAuth: { type: 'bearer', token: 's3cret' } });
      assert.equal(out.result.status.state, 'TASK_STATE_COMPLETED');
      assert.equal(out.result.status.message.parts[0].text, 'echo: hello');
      assert.deepEqual(out.a2ui, { applied: [] });
      assert.ok(agent.headers.length >= 2, 'card fetch and send');
      assert.ok(agent.headers.every((h) => h.authorization === 'Bearer s3cret'));
      const header = await c.result('a2a.send', { endpoint: agent.url, message: 'x', blocking: true, route_auth: { type: 'header', name: 'X-Api-Key', value: 'k1' } });
      assert.equal(header.result.status.state, 'TASK_STATE_COMPLETED');
      assert.equal(agent.headers.at(-1)!['x-api-key'], 'k1');
      const far = await c.error('a2a.send', { endpoint: 'https://agent.example.com', message: 'x' });
      assert.equal(far.code, -32602);
    } finally {
      agent.close();
    }
  });

  test('our a2a.send to our own listener: a tool data part runs on the sharing session', async () => {
    const c = await server.authed();
    await c.result('tools.register', [{ name: 'echo' }]);
    serveTools(c, (_tool, parameters) => ({ got: parameters }));
    const { bound } = await c.result('a2a.start', { bind: '127.0.0.1:0', share_session_runtime: true });
    try {
      const sender = await server.authed();
      const out = await sender.result('a2a.send', {
        endpoint: `http://${bound}`,
        message: { parts: [{ data: { tool: 'echo', parameters: { n: 1 } } }] },
        blocking: true,
      });
      assert.equal(out.result.status.state, 'TASK_STATE_COMPLETED');
      assert.deepEqual(out.result.artifacts[0].parts[0].data.output, { got: { n: 1 } });
    } finally {
      await c.result('a2a.stop', {});
    }
  });
});

describe('A2A interop: streaming and the v0.3 dialect', () => {
  const server = useServer();

  test('SendStreamingMessage with the SDK client: task, WORKING, one artifact, then COMPLETED', async (t) => {
    const c = await server.authed();
    await c.result('tools.register', [{ name: 'echo' }]);
    serveTools(c, (_tool, parameters) => parameters);
    const { bound } = await c.result('a2a.start', { bind: '127.0.0.1:0', share_session_runtime: true });
    t.after(() => c.result('a2a.stop', {}));
    const client = await sdkClient(`http://${bound}`);
    const kinds: string[] = [];
    let last: string | undefined;
    let taskId = '';
    for await (const ev of client.sendMessageStream(sendRequest([{ data: { tool: 'echo', parameters: { s: 1 } } }]))) {
      const p = ev.payload!;
      kinds.push(p.$case);
      if (p.$case === 'task') taskId = p.value.id;
      if (p.$case === 'statusUpdate') last = TaskState[p.value.status!.state];
    }
    assert.equal(kinds[0], 'task');
    assert.ok(kinds.includes('artifactUpdate'));
    assert.equal(last, 'TASK_STATE_COMPLETED');
    const got = await client.getTask({ tenant: '', id: taskId });
    assert.equal(Task.toJSON(got) && TaskState[got.status!.state], 'TASK_STATE_COMPLETED');
  });

  test('SubscribeToTask with the SDK client: a running task streams to its final status once the tool answers', async (t) => {
    const c = await server.authed();
    await c.result('tools.register', [{ name: 'slow' }]);
    const { bound } = await c.result('a2a.start', { bind: '127.0.0.1:0', share_session_runtime: true });
    t.after(() => c.result('a2a.stop', {}));
    const client = await sdkClient(`http://${bound}`);
    const first = await client.sendMessage(sendRequest([{ data: { tool: 'slow', parameters: { n: 1 } } }], { configuration: { returnImmediately: true } }));
    const id = (first as { id: string }).id;
    const call = await c.next();
    assert.equal(call.method, 'tools.execute');
    const states: string[] = [];
    const stream = client.resubscribeTask({ tenant: '', id })[Symbol.asyncIterator]();
    const record = (ev: Awaited<ReturnType<typeof stream.next>>): void => {
      const p = ev.value?.payload;
      if (p?.$case === 'statusUpdate') states.push(TaskState[p.value.status!.state]);
      if (p?.$case === 'task') states.push(TaskState[p.value.status!.state]);
    };
    // The first event is the task as it stands: the subscription is open, so the tool may answer.
    record(await stream.next());
    assert.equal(states[0], 'TASK_STATE_WORKING');
    c.send({ jsonrpc: '2.0', id: call.id, result: { done: true } });
    for (let ev = await stream.next(); !ev.done; ev = await stream.next()) record(ev);
    assert.equal(states.at(-1), 'TASK_STATE_COMPLETED', states.join(' → '));
  });

  test('CancelTask on a running task: CANCELED at once; the tool call still finishes and its result is dropped', async (t) => {
    const c = await server.authed();
    await c.result('tools.register', [{ name: 'slow' }]);
    const { bound } = await c.result('a2a.start', { bind: '127.0.0.1:0', share_session_runtime: true });
    t.after(() => c.result('a2a.stop', {}));
    const client = await sdkClient(`http://${bound}`);
    const first = await client.sendMessage(sendRequest([{ data: { tool: 'slow', parameters: {} } }], { configuration: { returnImmediately: true } }));
    const id = (first as { id: string }).id;
    const call = await c.next();
    assert.equal(call.method, 'tools.execute');
    const canceled = await client.cancelTask({ tenant: '', id, metadata: undefined });
    assert.equal(TaskState[canceled.status!.state], 'TASK_STATE_CANCELED');
    c.send({ jsonrpc: '2.0', id: call.id, result: { late: true } });
    // The proposal's reply comes back through the gates; then the task must still read CANCELED, with no artifact.
    await postRpc(`http://${bound}/`, { jsonrpc: '2.0', id: 1, method: 'ListTasks', params: {} });
    const after = await client.getTask({ tenant: '', id });
    assert.equal(TaskState[after.status!.state], 'TASK_STATE_CANCELED');
    assert.equal(after.artifacts.length, 0);
  });

  test('v0.3 names over HTTP: message/send with kind-tagged parts, tasks/get, tasks/cancel on a finished task', async (t) => {
    const c = await server.authed();
    await c.result('tools.register', [{ name: 'echo' }]);
    serveTools(c, (_tool, parameters) => parameters);
    const { bound } = await c.result('a2a.start', { bind: '127.0.0.1:0', share_session_runtime: true });
    t.after(() => c.result('a2a.stop', {}));
    const url = `http://${bound}/`;
    const sent = await postRpc(url, {
      jsonrpc: '2.0',
      id: 1,
      method: 'message/send',
      params: { message: { kind: 'message', messageId: 'v03', role: 'user', parts: [{ kind: 'data', data: { tool: 'echo', parameters: { v: 3 } } }] } },
    });
    assert.equal(sent.json.result.kind, 'task');
    assert.equal(sent.json.result.status.state, 'completed');
    const id = sent.json.result.id;
    const got = await postRpc(url, { jsonrpc: '2.0', id: 2, method: 'tasks/get', params: { id, historyLength: 1 } });
    assert.equal(got.json.result.id, id);
    assert.ok(got.json.result.history.length <= 1);
    const cancel = await postRpc(url, { jsonrpc: '2.0', id: 3, method: 'tasks/cancel', params: { id } });
    assert.equal(cancel.json.error.code, -32002);
    const card = await postRpc(url, { jsonrpc: '2.0', id: 4, method: 'agent/getAuthenticatedExtendedCard', params: {} });
    assert.ok(card.json.result?.name ?? card.json.error, JSON.stringify(card.json));
    const ext = await postRpc(url, { jsonrpc: '2.0', id: 5, method: 'GetExtendedAgentCard', params: {} });
    assert.equal(typeof ext.json.result.name, 'string');
  });
});
