import assert from 'node:assert/strict';
import test, { after, before, describe } from 'node:test';
import { AimockServer } from '../helpers/aimock.js';
import type { Frame } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { modelsFile, openaiRow } from '../helpers/inference.js';

const LONG = 'The quick brown fox jumps over the lazy dog, and then it runs far away into the woods.';
const PRICE = { input_per_mtok: 2, output_per_mtok: 8 };

const fixtures = [
  { match: { userMessage: 'hello' }, response: { content: 'Hello there!', usage: { prompt_tokens: 100, completion_tokens: 20 } } },
  { match: { userMessage: 'always cut' }, response: { content: LONG }, truncateAfterChunks: 4, latency: 20 },
  { match: { userMessage: 'forbidden' }, response: { content: '', finishReason: 'content_filter' } },
  { match: { userMessage: 'slow' }, response: { content: LONG }, latency: 120 },
  { match: { endpoint: 'chat' }, response: { content: 'ok' } },
];

function isEvent(f: Frame): boolean {
  return f?.method === 'inference.stream.event';
}

describe('inference methods over a real WebSocket, providers on a separate aimock process', () => {
  let mock: AimockServer;
  let files: ReturnType<typeof modelsFile>;
  let server: TestServer;

  before(async () => {
    mock = await AimockServer.start(fixtures);
    files = modelsFile([
      openaiRow('local-a', mock.v1, { cost: PRICE, quality: 0.9 }),
      openaiRow('local-b', mock.v1, { quality: 0.5 }),
      { id: 'emb', capabilities: ['embed', 'classify'], source: { type: 'remote_api', endpoint: mock.v1, model: 'text-embedding-3-small' } },
      openaiRow('far-away', 'https://llm.example.invalid/v1'),
    ]);
    server = await startServer({
      modelsPath: files.path,
      inferenceProgressIntervalMs: 40,
      inferenceRetryBaseDelayMs: 1,
      inferenceRetryMaxDelayMs: 10,
    });
  });
  after(async () => {
    await server.close();
    await mock.stop();
    files.cleanup();
  });

  test('infer: the upstream result shape; the call is metered per agent into cost_by_agent and metrics.summary', async () => {
    const c = await server.authed({ params: { agent_id: 'agent-7' } });
    const r = await c.result('infer', { model: 'local-a', messages: [{ role: 'user', content: 'hello' }], max_tokens: 32 });
    assert.deepEqual(Object.keys(r).sort(), ['latency_ms', 'model_used', 'stop_reason', 'text', 'time_to_first_token_ms', 'tool_calls', 'trace_id', 'usage']);
    assert.equal(r.text, 'Hello there!');
    assert.equal(r.model_used, 'local-a');
    assert.deepEqual(r.tool_calls, []);
    assert.deepEqual(r.usage, { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    const metered = await c.result('events.query', { kinds: ['InferenceMetered'] });
    assert.equal(metered.count, 1);
    const cost = (100 * 2 + 20 * 8) / 1e6;
    assert.deepEqual({ ...metered.events[0].data, latency_ms: 0 }, {
      agent: 'agent-7', model: 'local-a', provider: 'openai', method: 'infer', tokens_in: 100, tokens_out: 20, tokens_cached: 0,
      cache_creation_tokens: 0, cost_usd: cost, priced: true, latency_ms: 0,
    });
    assert.deepEqual(await c.result('events.cost_by_agent'), [{ agent: 'agent-7', calls: 1, tokens_in: 100, tokens_out: 20, cost_usd: cost }]);
    const summary = await c.result('metrics.summary');
    assert.equal(summary.tokens_in, 100);
    assert.equal(summary.tokens_out, 20);
    assert.equal(summary.cost_usd, cost);
    assert.equal(summary.cumulative_cost_usd, cost);
    const s = await c.result('models.stats');
    assert.equal(s.profiles.find((p: { model_id: string }) => p.model_id === 'local-a').success_count >= 1, true);
  });

  test('infer_stream: events carry the request id and come before the reply; no done notification', async () => {
    const c = await server.authed();
    const reply = await c.call('infer_stream', { model: 'local-a', messages: [{ role: 'user', content: 'hello' }] }, { id: 'stream-1' });
    const events = c.received.filter(isEvent);
    assert.ok(events.length >= 3);
    assert.ok(events.every((e) => e.params.request_id === 'stream-1'));
    assert.equal(events.filter((e) => e.params.event.type === 'text').map((e) => e.params.event.data).join(''), 'Hello there!');
    assert.deepEqual(events.find((e) => e.params.event.type === 'stop_reason').params.event, { type: 'stop_reason', data: 'stop' });
    assert.deepEqual(events.find((e) => e.params.event.type === 'usage').params.event, { type: 'usage', input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    assert.ok(c.received.indexOf(reply) > c.received.indexOf(events.at(-1)), 'the reply follows the last event');
    assert.deepEqual(Object.keys(reply.result).sort(), ['model_used', 'stop_reason', 'text', 'tool_calls', 'trace_id', 'usage']);
    assert.equal(reply.result.text, 'Hello there!');
    assert.ok(!c.received.some((f) => typeof f?.method === 'string' && /done/.test(f.method)));
  });

  test('infer_stream: a stream cut mid-way ends with a terminal error event, then the error reply', async () => {
    const c = await server.authed();
    const reply = await c.call('infer_stream', { model: 'local-b', messages: [{ role: 'user', content: 'always cut' }] }, { id: 'cut-1' });
    assert.equal(reply.error.code, -32603);
    const events = c.received.filter(isEvent).map((e) => e.params.event);
    assert.ok(events.some((e) => e.type === 'text'));
    assert.equal(events.at(-1).type, 'error');
    assert.match(events.at(-1).message, /connection failed|ended before/);
    assert.equal(events.filter((e) => e.type === 'error').length, 1);
  });

  test('a content refusal is -32007 with the "content refused:" prefix, on infer and infer_stream', async () => {
    const c = await server.authed();
    const err = await c.error('infer', { messages: [{ role: 'user', content: 'forbidden' }] });
    assert.equal(err.code, -32007);
    assert.match(err.message, /^content refused:/);
    const reply = await c.call('infer_stream', { messages: [{ role: 'user', content: 'forbidden' }] });
    assert.equal(reply.error.code, -32007);
    assert.equal(c.received.filter(isEvent).at(-1).params.event.type, 'error');
  });

  test('infer.progress {id} keeps arriving while a long infer runs', async () => {
    const c = await server.authed();
    const reply = await c.call('infer', { model: 'local-a', messages: [{ role: 'user', content: 'slow' }] }, { id: 'slow-1' });
    assert.equal(reply.result.text, LONG);
    const progress = c.received.filter((f) => f?.method === 'infer.progress');
    assert.ok(progress.length >= 1, 'at least one keep-alive');
    assert.ok(progress.every((p) => p.params.id === 'slow-1'));
    assert.ok(c.received.indexOf(reply) > c.received.indexOf(progress.at(-1)));
  });

  test('context_query prepends the caller\'s memory context; memory_intervention adds the picked reminder', async () => {
    const c = await server.authed({ params: { memory_namespace: 'infer-ctx' } });
    await c.result('memory.add_fact', { subject: 'project_language', body: 'The project is written in Zig', kind: 'pattern' });
    await c.result('memory.save_knowledge', { subject: 'deploys', body: 'Always run the migration check before deploying', tags: ['deploy'] });
    await mock.resetJournal();
    await c.result('infer', { model: 'local-a', messages: [{ role: 'user', content: 'what language is the project in?' }], context_query: true, system: 'Be brief.' });
    let body = (await mock.journal()).find((e) => e.path.endsWith('/chat/completions'))!.body as { messages: { role: string; content: string }[] };
    assert.equal(body.messages[0]!.role, 'system');
    assert.match(body.messages[0]!.content, /written in Zig/);
    assert.match(body.messages[0]!.content, /Be brief\.$/);
    await mock.resetJournal();
    await c.result('infer', { model: 'local-a', messages: [{ role: 'user', content: 'time to deploy the app' }], memory_intervention: { force: true } });
    body = (await mock.journal()).find((e) => e.path.endsWith('/chat/completions'))!.body as typeof body;
    assert.match(body.messages[0]!.content, /migration check/);
  });

  test('embed, classify, tokenize and the errors callers see', async () => {
    const c = await server.authed();
    const e = await c.result('embed', { texts: ['a', 'b'] });
    assert.equal(e.embeddings.length, 2);
    const cl = await c.result('classify', { text: 'I love this', labels: ['positive', 'negative'] });
    assert.equal(cl.classifications.length, 2);
    assert.ok(Math.abs(cl.classifications[0].score + cl.classifications[1].score - 1) < 1e-9);
    assert.ok(cl.classifications[0].score >= cl.classifications[1].score);
    const tok = await c.error('tokenize', { model: 'far-away', text: 'x' });
    assert.equal(tok.code, -32603);
    assert.match(tok.message, /UnsupportedMode: tokenize is not supported by model 'far-away'/);
    const unknown = await c.error('infer', { model: 'nope', messages: [{ role: 'user', content: 'hi' }] });
    assert.match(unknown.message, /unknown model 'nope'/);
    const noMessages = await c.error('infer', {});
    assert.equal(noMessages.code, -32602);
    const metered = await c.result('events.query', { kinds: ['InferenceMetered'] });
    assert.deepEqual(metered.events.map((ev: Frame) => ev.data.method).sort(), ['classify', 'embed']);
  });

  test('models.list_unified, models.route, models.register / unregister', async () => {
    const c = await server.authed();
    const list = await c.result('models.list_unified');
    const a = list.find((m: Frame) => m.id === 'local-a');
    assert.deepEqual(
      { available: a.available, is_local: a.is_local, weights_ready: a.weights_ready, downloads_weights: a.downloads_weights, cost: a.cost },
      { available: true, is_local: true, weights_ready: true, downloads_weights: false, cost: PRICE },
    );
    const gpt = list.find((m: Frame) => m.id === 'openai/gpt-4o');
    assert.equal(gpt.available, false, 'catalogue row listed without its key');
    assert.match(gpt.unavailable_reason, /OPENAI_API_KEY/);
    const r = await c.result('models.route', { prompt: 'hi', intent: { prefer_quality: true, exclude_models: ['local-a', 'far-away'] } });
    assert.equal(r.model_id, 'local-b');
    for (const k of ['model_id', 'model_name', 'task', 'complexity', 'reason', 'strategy', 'predicted_quality', 'fallbacks', 'context_length', 'needs_compaction', 'candidates']) assert.ok(k in r, k);
    const reg = await c.result('models.register', { schema: { id: 'later', source: { type: 'delegated' } } });
    assert.deepEqual(reg, { id: 'later', registered: true, path: files.path, note: 'written to models.json; takes effect at the next daemon start' });
    assert.ok(!(await c.result('models.list_unified')).some((m: Frame) => m.id === 'later'), 'not before the next start');
    assert.equal((await c.error('models.register', { id: 'openrouter/auto', source: { type: 'delegated' } })).code, -32602);
    assert.deepEqual(await c.result('models.unregister', { id: 'later' }), { id: 'later', unregistered: true, path: files.path, note: 'written to models.json; takes effect at the next daemon start' });
    assert.match((await c.error('models.unregister', { id: 'later' })).message, /not in models.json/);
  });
});

describe('admission: inference-class calls share the permits; a bounded queue, then busy', () => {
  let mock: AimockServer;
  let files: ReturnType<typeof modelsFile>;
  let server: TestServer;

  before(async () => {
    mock = await AimockServer.start(fixtures);
    files = modelsFile([openaiRow('local-a', mock.v1)]);
    server = await startServer({ modelsPath: files.path, inferenceMaxConcurrent: 1, inferenceQueueMax: 1 });
  });
  after(async () => {
    await server.close();
    await mock.stop();
    files.cleanup();
  });

  async function statusWhen(c: { result(m: string): Promise<Frame> }, ok: (s: Frame) => boolean): Promise<Frame> {
    for (;;) {
      const s = await c.result('admission.status');
      if (ok(s)) return s;
      await new Promise((r) => setImmediate(r));
    }
  }

  test('one permit: a second caller queues, a third is refused as busy; leaving callers release their place and permit', async () => {
    const observer = await server.authed();
    const holder = await server.authed();
    const holding = holder.call('infer_stream', { model: 'local-a', messages: [{ role: 'user', content: 'slow' }] }, { id: 'h' });
    holding.catch(() => {}); // its connection is closed below
    await holder.next(); // its first stream event: it holds the permit
    const queued = await server.authed();
    const waiting = queued.call('infer', { model: 'local-a', messages: [{ role: 'user', content: 'hello' }] });
    waiting.catch(() => {}); // its connection is closed below
    const s = await statusWhen(observer, (x) => x.queue_depth === 1);
    assert.deepEqual(s, { permits_total: 1, permits_available: 0, permits_in_use: 1, env_override: '1', queue_depth: 1, queue_max: 1 });

    const busy = await observer.error('infer', { model: 'local-a', messages: [{ role: 'user', content: 'hello' }] });
    assert.equal(busy.code, -32603);
    assert.match(busy.message, /inference is busy/);
    assert.deepEqual(busy.data, { kind: 'limit', limit: 1, reason: 'inference_busy', permits_total: 1, queue_depth: 1 });

    await queued.close();
    await statusWhen(observer, (x) => x.queue_depth === 0);

    await holder.close();
    const after = await observer.result('infer', { model: 'local-a', messages: [{ role: 'user', content: 'hello' }] });
    assert.equal(after.text, 'Hello there!', 'the disconnected holder released its permit');
    assert.deepEqual(await observer.result('admission.status'), { permits_total: 1, permits_available: 1, permits_in_use: 0, env_override: '1', queue_depth: 0, queue_max: 1 });
  });

  test('concurrent callers all finish in turn when the queue holds them', async () => {
    const clients = await Promise.all([1, 2].map(() => server.authed()));
    const replies = await Promise.all(clients.map((c) => c.result('infer', { model: 'local-a', messages: [{ role: 'user', content: 'hello' }] })));
    assert.deepEqual(replies.map((r) => r.text), ['Hello there!', 'Hello there!']);
  });
});
