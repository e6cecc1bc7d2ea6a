import assert from 'node:assert/strict';
import test, { after, before, describe } from 'node:test';
import { ContentRefusedError, ProviderError, UnsupportedModeError, type StreamEvent } from '../../src/inference/index.js';
import { AimockServer } from '../helpers/aimock.js';
import { CannedHttp } from '../helpers/canned-http.js';
import { anthropicRow, modelsFile, never, openaiRow, service } from '../helpers/inference.js';

const LONG = 'The quick brown fox jumps over the lazy dog, and then it runs far away into the woods.';

describe('providers against aimock (a separate process, real HTTP and SSE)', () => {
  let mock: AimockServer;
  let files: ReturnType<typeof modelsFile>;

  before(async () => {
    mock = await AimockServer.start([
      { match: { userMessage: 'hello', model: 'local-a' }, response: { content: 'Hello from local A!', usage: { prompt_tokens: 12, completion_tokens: 5 } } },
      { match: { userMessage: 'weather' }, response: { toolCalls: [{ name: 'get_weather', arguments: { city: 'SF' } }] } },
      { match: { userMessage: 'broken', model: 'bad-a' }, response: { error: { message: 'upstream exploded', type: 'server_error' }, status: 500 } },
      { match: { userMessage: 'broken' }, response: { content: 'served by the fallback' } },
      { match: { userMessage: 'cut once', sequenceIndex: 0 }, response: { content: LONG }, truncateAfterChunks: 2 },
      { match: { userMessage: 'cut once', sequenceIndex: 1 }, response: { content: LONG } },
      { match: { userMessage: 'always cut' }, response: { content: LONG }, truncateAfterChunks: 4, latency: 20 },
      { match: { userMessage: 'forbidden' }, response: { content: '', finishReason: 'content_filter' } },
      { match: { userMessage: 'decline' }, response: { content: 'no', finishReason: 'refusal' } },
      { match: { userMessage: 'slow' }, response: { content: LONG }, latency: 400 },
      { match: { userMessage: 'claude' }, response: { content: 'Hi from Claude', usage: { input_tokens: 9, output_tokens: 4 } } },
      { match: { endpoint: 'chat' }, response: { content: 'catch-all' } },
    ]);
    files = modelsFile([
      openaiRow('local-a', mock.v1, { quality: 0.9 }),
      openaiRow('local-b', mock.v1, { quality: 0.5 }),
      openaiRow('bad-a', mock.v1, { quality: 0.99 }),
      { id: 'emb', name: 'emb', capabilities: ['embed'], source: { type: 'remote_api', endpoint: mock.v1, model: 'text-embedding-3-small' }, cost: { input_per_mtok: 0.02, output_per_mtok: 0 } },
      anthropicRow('claude-x', mock.url, { cost: { input_per_mtok: 3, output_per_mtok: 15 } }),
    ]);
  });
  after(async () => {
    await mock.stop();
    files.cleanup();
  });

  test('OpenAI-compatible streaming: text events, stop reason and usage; result and metering', async () => {
    const s = service(files.path);
    const events: StreamEvent[] = [];
    const { result, metering } = await s.generate({ messages: [{ role: 'user', content: 'hello' }] }, { model: 'local-a', signal: never(), onEvent: (e) => events.push(e) });
    assert.equal(result.text, 'Hello from local A!');
    assert.equal(events.filter((e) => e.type === 'text').map((e) => (e as { data: string }).data).join(''), 'Hello from local A!');
    assert.deepEqual(events.find((e) => e.type === 'stop_reason'), { type: 'stop_reason', data: 'stop' });
    assert.deepEqual(result.usage, { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    assert.equal(result.model_used, 'local-a');
    assert.equal(result.stop_reason, 'stop');
    assert.ok(result.time_to_first_token_ms !== null && result.time_to_first_token_ms <= result.latency_ms);
    assert.match(result.trace_id, /^[0-9a-f-]{36}$/);
    assert.deepEqual({ ...metering, latency_ms: 0 }, {
      model: 'local-a', provider: 'openai', tokens_in: 12, tokens_out: 5, tokens_cached: 0, cache_creation_tokens: 0, cost_usd: null, latency_ms: 0,
    });
  });

  test('tool calls stream as tool_start + tool_delta and come back parsed', async () => {
    const s = service(files.path);
    const events: StreamEvent[] = [];
    const { result } = await s.generate(
      { messages: [{ role: 'user', content: 'weather in SF?' }], tools: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }] },
      { model: 'local-a', signal: never(), onEvent: (e) => events.push(e) },
    );
    const start = events.find((e) => e.type === 'tool_start') as { name: string; index: number };
    assert.equal(start.name, 'get_weather');
    assert.equal(start.index, 0);
    assert.ok(events.some((e) => e.type === 'tool_delta'));
    assert.equal(result.tool_calls.length, 1);
    assert.equal(result.tool_calls[0]!.name, 'get_weather');
    assert.deepEqual(result.tool_calls[0]!.arguments, { city: 'SF' });
    assert.equal(result.stop_reason, 'tool_calls');
  });

  test('a 429 then a 500 are retried on the same model; the third attempt answers', async () => {
    const s = service(files.path);
    await mock.resetJournal();
    await mock.nextError(429, 'slow down');
    await mock.nextError(500, 'hiccup');
    const { result } = await s.generate({ messages: [{ role: 'user', content: 'hello' }] }, { model: 'local-a', signal: never() });
    assert.equal(result.text, 'Hello from local A!');
    const chats = (await mock.journal()).filter((e) => e.path.endsWith('/chat/completions'));
    assert.equal(chats.length, 3);
    const p = s.stats.profile('local-a')!;
    assert.equal(p.fail_count, 2);
    assert.equal(p.success_count, 1);
  });

  test('a pinned model never falls back: its errors end the call after the retries', async () => {
    const s = service(files.path, { maxRetries: 1 });
    await mock.resetJournal();
    await assert.rejects(s.generate({ messages: [{ role: 'user', content: 'broken' }] }, { model: 'bad-a', signal: never() }), (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.status, 500);
      assert.match(err.message, /HTTP 500.*bad-a.*upstream exploded/);
      return true;
    });
    assert.equal((await mock.journal()).filter((e) => e.path.endsWith('/chat/completions')).length, 2, 'one try + one retry, nothing else');
  });

  test('a routed call falls back to the next model when the best one keeps failing', async () => {
    const s = service(files.path, { maxRetries: 0 });
    const { result } = await s.generate({ messages: [{ role: 'user', content: 'broken' }] }, { signal: never(), intent: { prefer_quality: true } });
    assert.equal(result.model_used, 'local-a', 'bad-a scores best but fails; local-a is next');
    assert.equal(result.text, 'served by the fallback');
    assert.equal(s.stats.profile('bad-a')!.fail_count, 1);
  });

  test('a stream cut mid-way: retried when nothing was relayed yet, final once the caller saw output', async () => {
    const s = service(files.path);
    const { result } = await s.generate({ messages: [{ role: 'user', content: 'cut once' }] }, { model: 'local-a', signal: never() });
    assert.equal(result.text, LONG, 'the second attempt answers whole');

    await mock.resetJournal();
    const events: StreamEvent[] = [];
    await assert.rejects(
      s.generate({ messages: [{ role: 'user', content: 'always cut' }] }, { model: 'local-b', signal: never(), onEvent: (e) => events.push(e) }),
      (err: unknown) => err instanceof ProviderError && err.retryable,
    );
    assert.ok(events.some((e) => e.type === 'text'), 'some text was relayed before the cut');
    assert.equal((await mock.journal()).filter((e) => e.path.endsWith('/chat/completions')).length, 1, 'no retry, no fallback after output');
  });

  test('a content refusal is never retried nor sent elsewhere', async () => {
    const s = service(files.path);
    await mock.resetJournal();
    await assert.rejects(s.generate({ messages: [{ role: 'user', content: 'forbidden' }] }, { signal: never() }), (err: unknown) => {
      assert.ok(err instanceof ContentRefusedError);
      assert.match(err.message, /^content refused:/);
      return true;
    });
    assert.equal((await mock.journal()).filter((e) => e.path.endsWith('/chat/completions')).length, 1);
  });

  test('an attempt that outlives inferenceRequestTimeoutMs fails as a timeout', async () => {
    const s = service(files.path, { requestTimeoutMs: 150 });
    await assert.rejects(s.generate({ messages: [{ role: 'user', content: 'slow' }] }, { model: 'local-a', signal: never() }), (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.kind, 'timeout');
      assert.match(err.message, /did not finish within/);
      return true;
    });
  });

  test('the caller going away aborts the provider call at once', async () => {
    const s = service(files.path);
    const ac = new AbortController();
    const events: StreamEvent[] = [];
    const run = s.generate({ messages: [{ role: 'user', content: 'slow' }] }, { model: 'local-a', signal: ac.signal, onEvent: (e) => (events.push(e), ac.abort(new Error('caller left'))) });
    await assert.rejects(run, /caller left/);
  });

  test('embeddings come back in order with the billed tokens', async () => {
    const s = service(files.path);
    const out = await s.embed(['alpha', 'beta', 'gamma'], { signal: never() });
    assert.equal(out.model, 'emb');
    assert.equal(out.embeddings.length, 3);
    assert.ok(out.embeddings[0]!.length > 0);
    assert.notDeepEqual(out.embeddings[0], out.embeddings[1]);
    assert.equal(out.metering.model, 'emb');
    await assert.rejects(s.embed(['x'], { model: 'claude-x', signal: never() }), UnsupportedModeError);
  });

  test('Anthropic Messages: streamed text, usage and cost from the row price', async () => {
    const s = service(files.path);
    const events: StreamEvent[] = [];
    const { result, metering } = await s.generate({ system: 'be brief', messages: [{ role: 'user', content: 'claude, say hi' }] }, { model: 'claude-x', signal: never(), onEvent: (e) => events.push(e) });
    assert.equal(result.text, 'Hi from Claude');
    assert.equal(result.stop_reason, 'end_turn');
    assert.deepEqual(result.usage, { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    assert.equal(metering.cost_usd, (9 * 3 + 4 * 15) / 1e6);
    const body = (await mock.journal()).filter((e) => e.path === '/v1/messages').at(-1)?.body as { system?: unknown; max_tokens?: number };
    assert.ok(body, 'aimock saw the Messages request');
  });

  test('Anthropic tool use and refusal', async () => {
    const s = service(files.path);
    const { result } = await s.generate(
      { messages: [{ role: 'user', content: 'weather?' }], tools: [{ name: 'get_weather', parameters: { type: 'object' } }] },
      { model: 'claude-x', signal: never() },
    );
    assert.deepEqual(result.tool_calls.map((c) => [c.name, c.arguments]), [['get_weather', { city: 'SF' }]]);
    assert.equal(result.stop_reason, 'tool_use');
    await assert.rejects(s.generate({ messages: [{ role: 'user', content: 'decline' }] }, { model: 'claude-x', signal: never() }), ContentRefusedError);
  });

  test('Ollama discovery lists what /api/tags serves; those models generate through /v1', async () => {
    const s = service(null, { ollamaEndpoint: mock.url });
    const models = await s.listUnified();
    const ollama = models.filter((m) => m.origin === 'ollama');
    assert.ok(ollama.length > 0);
    assert.ok(ollama.every((m) => m.is_local && m.available && m.id.startsWith('ollama/')));
    const { result } = await s.generate({ messages: [{ role: 'user', content: 'anything' }] }, { model: ollama[0]!.id, signal: never() });
    assert.equal(result.text, 'catch-all');
  });

  test('Ollama that does not answer: no models, one problem noted, nothing thrown', async () => {
    const s = service(null, { ollamaEndpoint: 'http://127.0.0.1:9', discoveryTimeoutMs: 300 });
    const models = await s.listUnified();
    assert.equal(models.filter((m) => m.origin === 'ollama').length, 0);
    assert.match(s.registry.problems.join(';'), /ollama discovery/);
  });
});

describe('providers against a canned HTTP process (what aimock does not model)', () => {
  let canned: CannedHttp;
  let files: ReturnType<typeof modelsFile>;
  const start = { type: 'message_start', message: { id: 'm1', type: 'message', role: 'assistant', content: [], model: 'c', stop_reason: null, stop_sequence: null, usage: { input_tokens: 20, output_tokens: 1, cache_read_input_tokens: 1000, cache_creation_input_tokens: 300 } } };
  before(async () => {
    canned = await CannedHttp.start([
      {
        method: 'POST',
        path: '/v1/messages',
        sse: [
          { event: 'message_start', data: start },
          { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
          { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'cached ' } } },
          { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'answer' } } },
          { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
          { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 7 } } },
          { event: 'message_stop', data: { type: 'message_stop' } },
        ],
      },
      { method: 'POST', path: '/tokenize', json: { tokens: [15339, 1917] } },
      { method: 'POST', path: '/detokenize', json: { content: 'hello world' } },
    ]);
    files = modelsFile([
      anthropicRow('claude-cached', canned.url, { cost: { input_per_mtok: 3, output_per_mtok: 15, cache_read_per_mtok: 0.3, cache_write_per_mtok: 3.75 } }),
      openaiRow('llama-local', `${canned.url}/v1`),
      openaiRow('remote-x', 'https://llm.example.invalid/v1'),
    ]);
  });
  after(async () => {
    await canned.stop();
    files.cleanup();
  });

  test('Anthropic streaming reports cache reads and writes; cost uses the cache prices', async () => {
    const s = service(files.path);
    const events: StreamEvent[] = [];
    const { result, metering } = await s.generate(
      { system: 'long shared preamble', cache_control: true, messages: [{ role: 'user', content: 'q' }] },
      { model: 'claude-cached', signal: never(), onEvent: (e) => events.push(e) },
    );
    assert.equal(result.text, 'cached answer');
    assert.deepEqual(events.find((e) => e.type === 'usage'), { type: 'usage', input_tokens: 20, output_tokens: 7, cache_read_input_tokens: 1000, cache_creation_input_tokens: 300 });
    assert.deepEqual(result.usage, { prompt_tokens: 20, completion_tokens: 7, total_tokens: 1327, cache_read_input_tokens: 1000, cache_creation_input_tokens: 300 });
    assert.equal(metering.tokens_cached, 1000);
    assert.equal(metering.tokens_in, 1320);
    assert.equal(metering.cost_usd, Math.round(((20 * 3 + 7 * 15 + 1000 * 0.3 + 300 * 3.75) / 1e6) * 1e9) / 1e9);
  });

  test('tokenize / detokenize on a local llama.cpp-style server; remote models answer UnsupportedMode', async () => {
    const s = service(files.path);
    assert.deepEqual(await s.tokenize('llama-local', 'hello world', never()), [15339, 1917]);
    assert.equal(await s.detokenize('llama-local', [15339, 1917], never()), 'hello world');
    await assert.rejects(s.tokenize('remote-x', 'x', never()), (err: unknown) => err instanceof UnsupportedModeError && /UnsupportedMode.*only local models/.test((err as Error).message));
    await assert.rejects(s.tokenize('claude-cached', 'x', never()), UnsupportedModeError);
  });
});
