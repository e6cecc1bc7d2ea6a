import assert from 'node:assert/strict';
import test, { after, before, describe } from 'node:test';
import type { Frame, RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { modelsFile } from '../helpers/inference.js';

const ask = (content: string, extra: Record<string, unknown> = {}) => ({ model: 'runner-model', messages: [{ role: 'user', content }], ...extra });

/** The next `inference.runner.invoke` the runner receives. */
async function nextInvoke(runner: RawClient): Promise<{ call_id: string; request: Frame }> {
  for (;;) {
    const f = await runner.next();
    if (f?.method === 'inference.runner.invoke') return f.params;
  }
}

describe('the delegated runner over a real WebSocket', () => {
  let files: ReturnType<typeof modelsFile>;
  let server: TestServer;

  before(async () => {
    files = modelsFile([{ id: 'runner-model', name: 'Runner', capabilities: ['generate', 'tool_use'], source: { type: 'delegated' }, cost: { input_per_mtok: 1, output_per_mtok: 1 } }]);
    server = await startServer({ modelsPath: files.path });
  });
  after(async () => {
    await server.close();
    files.cleanup();
  });

  test('with no runner the delegated model is unavailable and infer on it fails at once, naming model and cause', async () => {
    const c = await server.authed();
    const m = (await c.result('models.list_unified')).find((x: Frame) => x.id === 'runner-model');
    assert.equal(m.available, false);
    assert.match(m.unavailable_reason, /no delegated runner/);
    const err = await c.error('infer', ask('hi'));
    assert.equal(err.code, -32603);
    assert.match(err.message, /model 'runner-model' is served by a delegated runner, and none is registered/);
  });

  test('invoke → streamed events → complete: streamed events win over the result; client_ref is echoed', async () => {
    const runner = await server.authed();
    assert.deepEqual(await runner.result('inference.register_runner', {}), { registered: true });
    const c = await server.authed();
    const pending = c.result('infer', ask('hello runner', { client_ref: { ticket: 42 }, max_tokens: 16 }));
    const inv = await nextInvoke(runner);
    assert.match(inv.call_id, /^[0-9a-f-]{36}$/);
    assert.equal(inv.request.model, 'runner-model');
    assert.deepEqual(inv.request.client_ref, { ticket: 42 });
    assert.deepEqual(inv.request.messages, [{ role: 'user', content: 'hello runner' }]);
    assert.equal(inv.request.max_tokens, 16);
    for (const data of ['Hi ', 'from ', 'the runner']) {
      assert.deepEqual(await runner.result('inference.runner.event', { call_id: inv.call_id, event: { type: 'text', data } }), { emitted: true });
    }
    await runner.result('inference.runner.event', { call_id: inv.call_id, event: { type: 'usage', input_tokens: 10, output_tokens: 3 } });
    assert.deepEqual(await runner.result('inference.runner.complete', { call_id: inv.call_id, result: { text: 'ignored', tool_calls: [] } }), { completed: true });
    const r = await pending;
    assert.equal(r.text, 'Hi from the runner');
    assert.equal(r.model_used, 'runner-model');
    assert.deepEqual(r.usage, { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    const metered = (await c.result('events.query', { kinds: ['InferenceMetered'] })).events[0].data;
    assert.equal(metered.provider, 'delegated');
    assert.equal(metered.cost_usd, 13 / 1e6);
    const late = await runner.error('inference.runner.event', { call_id: inv.call_id, event: { type: 'text', data: 'late' } });
    assert.match(late.message, /no delegated call/);
  });

  test('complete with no events is the answer; a done event is terminal; tool calls come back parsed', async () => {
    const runner = await server.authed();
    await runner.result('inference.register_runner');
    const c = await server.authed();
    let pending = c.result('infer', ask('plain'));
    let inv = await nextInvoke(runner);
    await runner.result('inference.runner.complete', { call_id: inv.call_id, result: { text: 'from result', tool_calls: [{ id: 't1', name: 'lookup', arguments: { q: 'x' } }] } });
    let r = await pending;
    assert.equal(r.text, 'from result');
    assert.deepEqual(r.tool_calls, [{ id: 't1', name: 'lookup', arguments: { q: 'x' } }]);

    pending = c.result('infer', ask('tools'));
    inv = await nextInvoke(runner);
    await runner.result('inference.runner.event', { call_id: inv.call_id, event: { type: 'tool_start', name: 'search', index: 0 } });
    await runner.result('inference.runner.event', { call_id: inv.call_id, event: { type: 'tool_delta', index: 0, data: '{"q":' } });
    await runner.result('inference.runner.event', { call_id: inv.call_id, event: { type: 'tool_delta', index: 0, data: '"car"}' } });
    await runner.result('inference.runner.event', { call_id: inv.call_id, event: { type: 'done', text: 'ignored: tool events were streamed' } });
    r = await pending;
    assert.deepEqual(r.tool_calls.map((t: Frame) => [t.name, t.arguments]), [['search', { q: 'car' }]]);
    assert.equal(r.text, '');
  });

  test('infer_stream relays the runner\'s events to the caller as inference.stream.event', async () => {
    const runner = await server.authed();
    await runner.result('inference.register_runner');
    const c = await server.authed();
    const pending = c.call('infer_stream', ask('stream it'), { id: 'rs-1' });
    const inv = await nextInvoke(runner);
    await runner.result('inference.runner.event', { call_id: inv.call_id, event: { type: 'text', data: 'one ' } });
    await runner.result('inference.runner.event', { call_id: inv.call_id, event: { type: 'provider_output_item', item: { kind: 'note' } } });
    await runner.result('inference.runner.event', { call_id: inv.call_id, event: { type: 'text', data: 'two' } });
    await runner.result('inference.runner.complete', { call_id: inv.call_id });
    const reply = await pending;
    assert.equal(reply.result.text, 'one two');
    const events = c.received.filter((f) => f?.method === 'inference.stream.event').map((f) => f.params);
    assert.deepEqual(events, [
      { request_id: 'rs-1', event: { type: 'text', data: 'one ' } },
      { request_id: 'rs-1', event: { type: 'provider_output_item', item: { kind: 'note' } } },
      { request_id: 'rs-1', event: { type: 'text', data: 'two' } },
    ]);
  });

  test('an unrecognised event shape is refused and the call goes on; fail and a refusal reach the caller', async () => {
    const runner = await server.authed();
    await runner.result('inference.register_runner');
    const c = await server.authed();
    let pending = c.call('infer', ask('bad shapes'));
    let inv = await nextInvoke(runner);
    for (const event of [{ type: 'thinking', data: 'x' }, { type: 'text' }, { type: 'tool_start', name: 'x' }, 'text', null]) {
      const err = await runner.error('inference.runner.event', { call_id: inv.call_id, event });
      assert.equal(err.message, 'unrecognised runner event shape');
    }
    await runner.result('inference.runner.fail', { call_id: inv.call_id, error: 'GPU fell over' });
    let reply = await pending;
    assert.equal(reply.error.code, -32603);
    assert.match(reply.error.message, /the delegated runner failed: GPU fell over/);

    pending = c.call('infer', ask('refuse me'));
    inv = await nextInvoke(runner);
    await runner.result('inference.runner.fail', { call_id: inv.call_id, error: 'content refused: not allowed' });
    reply = await pending;
    assert.equal(reply.error.code, -32007);
    assert.match(reply.error.message, /^content refused: not allowed/);

    pending = c.call('infer', ask('error event'));
    inv = await nextInvoke(runner);
    await runner.result('inference.runner.event', { call_id: inv.call_id, event: { type: 'error', message: 'oom' } });
    reply = await pending;
    assert.match(reply.error.message, /oom/);
  });

  test('only the runner that got a call may answer it; the last runner to register wins', async () => {
    const r1 = await server.authed();
    const r2 = await server.authed();
    await r1.result('inference.register_runner');
    await r2.result('inference.register_runner');
    const c = await server.authed();
    const pending = c.result('infer', ask('who serves?'));
    const inv = await nextInvoke(r2);
    assert.match((await r1.error('inference.runner.complete', { call_id: inv.call_id, result: { text: 'r1' } })).message, /no delegated call/);
    await r2.result('inference.runner.complete', { call_id: inv.call_id, result: { text: 'r2' } });
    assert.equal((await pending).text, 'r2');
  });

  test('a runner that disconnects fails its in-flight calls at once', async () => {
    const runner = await server.authed();
    await runner.result('inference.register_runner');
    const c = await server.authed();
    const pending = c.call('infer_stream', ask('never finished'));
    const inv = await nextInvoke(runner);
    await runner.result('inference.runner.event', { call_id: inv.call_id, event: { type: 'text', data: 'partial' } });
    await runner.close();
    const reply = await pending;
    assert.equal(reply.error.code, -32603);
    assert.match(reply.error.message, /runner disconnected/);
    const err = await c.error('infer', ask('after'));
    assert.match(err.message, /none is registered/);
  });
});
