import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import test, { describe, type TestContext } from 'node:test';
import { Message, TaskState, type Part } from '@a2a-js/sdk';
import { AgentEvent, type AgentExecutor } from '@a2a-js/sdk/server';
import { BASIC_CATALOG } from '../../src/a2ui/index.js';
import { postRpc, sdkAgentServer, sdkClient, sendRequest, taskJson } from '../helpers/a2a.js';
import { waitFor, type Frame, type RawClient } from '../helpers/raw-client.js';
import { useServer } from '../helpers/server.js';

const A2UI = 'application/a2ui+json';

const uiPart = (messages: unknown[]): Part => ({ content: { $case: 'data', value: messages }, mediaType: A2UI, filename: '', metadata: undefined });
const textPart = (text: string): Part => ({ content: { $case: 'text', value: text }, mediaType: 'text/plain', filename: '', metadata: undefined });

/** The surface the UI agent shows: a title and a button whose action is `confirm`. */
function surfaceMessages(surfaceId: string): unknown[] {
  return [
    { version: 'v0.9', createSurface: { surfaceId, catalogId: BASIC_CATALOG.id, sendDataModel: true } },
    {
      version: 'v0.9',
      updateComponents: {
        surfaceId,
        components: [
          { id: 'root', component: 'Column', children: ['title', 'ok'] },
          { id: 'title', component: 'Text', text: { path: '/title' } },
          { id: 'ok', component: 'Button', child: 'ok-label', action: { event: { name: 'confirm', context: { answer: { path: '/answer' } } } } },
          { id: 'ok-label', component: 'Text', text: 'OK' },
        ],
      },
    },
    { version: 'v0.9', updateDataModel: { surfaceId, path: '/', value: { title: 'Proceed?', answer: 'yes' } } },
  ];
}

interface Received {
  headers: IncomingHttpHeaders;
  message: Record<string, unknown>;
}

/**
 * An A2A agent built with the SDK alone that shows a UI: a text message gets a task waiting for
 * input (or completed, with `finish`) carrying one A2UI data part; a message carrying a user
 * action gets the task completed with a data model update that records the action.
 */
async function uiAgent(t: TestContext, opts: { finish?: boolean } = {}): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  let headers: IncomingHttpHeaders = {};
  const executor: AgentExecutor = {
    async execute(ctx, bus) {
      received.push({ headers, message: Message.toJSON(ctx.userMessage) as Record<string, unknown> });
      const task = ctx.task ?? { id: ctx.taskId, contextId: ctx.contextId, status: { state: TaskState.TASK_STATE_SUBMITTED, message: undefined, timestamp: undefined }, artifacts: [], history: [ctx.userMessage], metadata: undefined };
      bus.publish(AgentEvent.task(task));
      const action = ctx.userMessage.parts.find((p) => p.mediaType === A2UI && p.content?.$case === 'data');
      const reply = (parts: Part[]) => ({ messageId: `r-${received.length}`, contextId: ctx.contextId, taskId: ctx.taskId, role: 2, parts, metadata: undefined, extensions: [], referenceTaskIds: [] });
      if (action === undefined) {
        const state = opts.finish === true ? TaskState.TASK_STATE_COMPLETED : TaskState.TASK_STATE_INPUT_REQUIRED;
        bus.publish(AgentEvent.statusUpdate({ taskId: ctx.taskId, contextId: ctx.contextId, status: { state, message: reply([textPart('here is a form'), uiPart(surfaceMessages('form'))]), timestamp: new Date().toISOString() }, metadata: undefined }));
        return;
      }
      const value = (action.content as { value: { action: { name: string } } }).value;
      const update = { version: 'v0.9', updateDataModel: { surfaceId: 'form', path: '/clicked', value: value.action.name } };
      bus.publish(AgentEvent.statusUpdate({ taskId: ctx.taskId, contextId: ctx.contextId, status: { state: TaskState.TASK_STATE_COMPLETED, message: reply([uiPart([update])]), timestamp: new Date().toISOString() }, metadata: undefined }));
    },
    async cancelTask() {},
  };
  const agent = await sdkAgentServer(
    executor,
    {
      name: 'sdk ui agent',
      description: 'shows a form',
      capabilities: { streaming: false, extensions: [{ uri: 'https://a2ui.org/a2a-extension/a2ui/v0.9.1', required: false, params: {} }] },
      defaultInputModes: ['text/plain', A2UI],
      defaultOutputModes: ['text/plain', A2UI],
    },
    (h) => (headers = h),
  );
  t.after(agent.close);
  return { url: agent.url, received };
}

const events = (c: RawClient, method: string): Frame[] => c.received.filter((f) => f?.method === method).map((f) => f.params);

describe('A2UI over A2A, with agents built on the SDK', () => {
  const server = useServer();

  test('a2a.send ingests the reply\'s A2UI (owner: its task and context); a user action goes back to the trusted loopback peer as a SendMessage continuation', async (t) => {
    const agent = await uiAgent(t);
    const c = await server.authed();
    await c.result('a2ui/subscribe', {});
    await c.result('a2a.peers.add', { url: agent.url });
    t.after(() => c.result('a2ui.reap', { surfaceIds: ['form'] }));

    const sent = await c.result('a2a.send', { endpoint: agent.url, message: 'show me', blocking: true, routeAuth: { type: 'bearer', token: 'route-secret' } });
    assert.equal(sent.result.status.state, 'TASK_STATE_INPUT_REQUIRED');
    assert.deepEqual(sent.a2ui.applied.map((a: Frame) => a.kind), ['createSurface', 'updateComponents', 'updateDataModel']);
    const { surface } = await c.result('a2ui.get', { surfaceId: 'form' });
    assert.deepEqual(surface.owner, { source: 'a2a', taskId: sent.result.id, contextId: sent.result.contextId });
    assert.deepEqual(surface.dataModel, { title: 'Proceed?', answer: 'yes' });
    assert.doesNotMatch(JSON.stringify(surface), /route-secret|127\.0\.0\.1/, 'neither the endpoint nor its credentials are shown');
    assert.equal(agent.received[0]!.headers.authorization, 'Bearer route-secret');

    const out = await c.result('a2ui.action', { surfaceId: 'form', name: 'confirm', sourceComponentId: 'ok', context: { answer: 'yes' } });
    assert.equal(out.routed, 'a2a');
    assert.equal(out.result.status.state, 'TASK_STATE_COMPLETED');
    const cont = agent.received[1]!;
    assert.equal(cont.headers.authorization, 'Bearer route-secret', 'the continuation carries the stored routeAuth');
    assert.equal(cont.message.contextId, sent.result.contextId);
    assert.equal(cont.message.taskId, sent.result.id);
    const part = (cont.message.parts as Frame[])[0];
    assert.equal(part.mediaType, A2UI);
    assert.deepEqual(part.data, { version: 'v0.9', action: out.action });
    assert.deepEqual(part.data.action.context, { answer: 'yes' });
    assert.deepEqual((cont.message.metadata as Frame).a2uiClientDataModel, { surfaces: { form: { title: 'Proceed?', answer: 'yes' } } }, 'sendDataModel: the data model rides along');

    assert.deepEqual(out.a2ui.applied.map((a: Frame) => a.kind), ['updateDataModel'], "the agent's reply to the action is applied too");
    assert.equal((await c.result('a2ui.get', { surfaceId: 'form' })).surface.dataModel.clicked, 'confirm');
    await waitFor(() => events(c, 'a2ui.event').some((e) => e.kind === 'action' && e.routed === 'a2a'), undefined, 'a2ui.event action');
  });

  test('a task that has ended: the continuation opens a new task in the same context', async (t) => {
    const agent = await uiAgent(t, { finish: true });
    const c = await server.authed();
    await c.result('a2a.peers.add', { url: agent.url });
    t.after(() => c.result('a2ui.reap', { surfaceIds: ['form'] }));
    const sent = await c.result('a2a.send', { endpoint: agent.url, message: 'show me', blocking: true });
    assert.equal(sent.result.status.state, 'TASK_STATE_COMPLETED');
    const out = await c.result('a2ui.action', { surfaceId: 'form', name: 'confirm', sourceComponentId: 'ok' });
    assert.equal(out.routed, 'a2a');
    const last = agent.received.at(-1)!.message;
    assert.equal(last.contextId, sent.result.contextId);
    assert.notEqual(last.taskId, sent.result.id);
  });

  test('an agent that is not a trusted peer: the action is a host.event a2ui.action; ingestA2ui:false leaves the reply alone', async (t) => {
    const agent = await uiAgent(t);
    const c = await server.authed({ handshake: true });
    await c.result('host.subscribe', {});
    t.after(() => c.result('a2ui.reap', { surfaceIds: ['form'] }));
    const skipped = await c.result('a2a.send', { endpoint: agent.url, message: 'show me', blocking: true, ingestA2ui: false });
    assert.deepEqual(skipped.a2ui, { applied: [] });
    assert.equal((await c.error('a2ui.get', { surfaceId: 'form' })).code, -32603);

    await c.result('a2a.send', { endpoint: agent.url, message: 'show me', blocking: true });
    const out = await c.result('a2ui.action', { surfaceId: 'form', name: 'confirm', sourceComponentId: 'ok' });
    assert.equal(out.routed, 'host');
    assert.equal(agent.received.length, 2, 'nothing was sent to the agent');
    await waitFor(() => events(c, 'host.event').some((e) => e.kind === 'a2ui.action'), undefined, 'host.event a2ui.action');
  });

  test('inbound: A2UI parts of a SendMessage to our listener become surfaces owned by that task and context', async (t) => {
    const c = await server.authed();
    await c.result('a2ui/subscribe', {});
    const { bound } = await c.result('a2a.start', { bind: '127.0.0.1:0' });
    t.after(() => c.result('a2a.stop', {}));
    t.after(() => c.result('a2ui.reap', { surfaceIds: ['inbound'] }));
    const client = await sdkClient(`http://${bound}`);
    const result = await client.sendMessage(
      sendRequest([{ text: 'look' }, { data: surfaceMessages('inbound'), mediaType: A2UI }, { data: [{ version: 'v0.9', updateComponents: { surfaceId: 'inbound', components: [{ id: 'x', component: 'Nope' }] } }], mediaType: A2UI }], {
        configuration: { returnImmediately: false },
      }),
    );
    const task = taskJson(result) as Frame;
    assert.equal(task.status.state, 'TASK_STATE_COMPLETED');
    const report = task.status.message.metadata.a2ui;
    assert.deepEqual(report.applied.map((a: Frame) => a.kind), ['createSurface', 'updateComponents', 'updateDataModel']);
    assert.equal(report.rejected.length, 1, 'the bad message is reported, the good ones stand');
    const { surface } = await c.result('a2ui.get', { surfaceId: 'inbound' });
    assert.deepEqual(surface.owner, { source: 'a2a', taskId: task.id, contextId: task.contextId });
    await waitFor(() => events(c, 'a2ui.event').filter((e) => e.surfaceId === 'inbound').length === 3, undefined, 'three a2ui.event');
    const out = await c.result('a2ui.action', { surfaceId: 'inbound', name: 'confirm', sourceComponentId: 'ok' });
    assert.equal(out.routed, 'host', 'an inbound caller cannot be called back');
  });

  test('inbound v0.3: message/send with a kind-tagged data part marked by metadata.mimeType', async (t) => {
    const c = await server.authed();
    const { bound } = await c.result('a2a.start', { bind: '127.0.0.1:0' });
    t.after(() => c.result('a2a.stop', {}));
    t.after(() => c.result('a2ui.reap', { surfaceIds: ['legacy'] }));
    const [create] = surfaceMessages('legacy');
    const sent = await postRpc(`http://${bound}/`, {
      jsonrpc: '2.0',
      id: 1,
      method: 'message/send',
      params: {
        message: { kind: 'message', messageId: 'm-legacy', role: 'user', parts: [{ kind: 'data', data: create, metadata: { mimeType: A2UI } }] },
        configuration: { blocking: true },
      },
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.json));
    const task = sent.json.result;
    assert.equal(task.status.state, 'completed');
    const { surface } = await c.result('a2ui.get', { surfaceId: 'legacy' });
    assert.deepEqual(surface.owner, { source: 'a2a', taskId: task.id, contextId: task.contextId });
  });
});
