import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CarClient, RemoteError, type StreamEvent } from '../../src/client/index.js';
import { ServerState, ServerStateConfig, listenTcp, createEmbedder, type Listener } from '../../src/index.js';
import { AimockServer } from '../helpers/aimock.js';
import { modelsFile, openaiRow } from '../helpers/inference.js';

const TOKEN = 'inference-client-token';
const DISTILLED = [{ name: 'scrape_and_summarize', code: 'fetch(url).then(summarize)', description: 'scrape then summarise', domain: 'web', trigger: { task_keywords: ['scrape'] } }];

describe('CarClient inference helpers against a daemon backed by aimock', () => {
  let mock: AimockServer;
  let files: ReturnType<typeof modelsFile>;
  let state: ServerState;
  let tcp: Listener;
  let url: string;

  before(async () => {
    mock = await AimockServer.start([
      { match: { userMessage: 'Say' }, response: { content: 'CAR online', usage: { prompt_tokens: 8, completion_tokens: 2 } } },
      { match: { systemMessage: 'into reusable skills' }, response: { content: '```json\n' + JSON.stringify(DISTILLED) + '\n```' } },
      { match: { systemMessage: 'improve the skills' }, response: { content: JSON.stringify([{ name: 'better_scrape', code: 'retry(fetch)' }]) } },
      { match: { systemMessage: 'repair a failing skill' }, response: { content: '```js\nfixed()\n```' } },
      { match: { endpoint: 'chat' }, response: { content: 'streamed answer from aimock' } },
    ]);
    files = modelsFile([
      openaiRow('local-a', mock.v1),
      { id: 'emb', capabilities: ['embed'], dimensions: 1536, source: { type: 'remote_api', endpoint: mock.v1, model: 'text-embedding-3-small' } },
      { id: 'runner-model', capabilities: ['generate'], source: { type: 'delegated' } },
    ]);
    state = ServerState.embedded(new ServerStateConfig({ authToken: TOKEN, modelsPath: files.path, skillsModel: 'local-a' }));
    tcp = await listenTcp(state, { host: '127.0.0.1', port: 0 });
    url = `ws://${tcp.address}/`;
  });

  after(async () => {
    await state.close();
    await tcp.close();
    await mock.stop();
    files.cleanup();
  });

  test('infer, inferStream (async iterator + result) and embed, with the upstream names', async () => {
    const car = await CarClient.connect({ url, token: TOKEN });
    const r = await car.inference.infer("Say 'CAR online' and nothing else.", 'local-a', 32);
    assert.equal(r.text, 'CAR online');
    assert.equal(r.usage?.completion_tokens, 2);
    const stream = car.inference.inferStream({ prompt: 'tell me something', model: 'local-a' });
    const events: StreamEvent[] = [];
    for await (const ev of stream) events.push(ev);
    assert.equal(events.filter((e) => e.type === 'text').map((e) => (e as { data: string }).data).join(''), 'streamed answer from aimock');
    assert.equal((await stream.result).text, 'streamed answer from aimock');
    const vectors = await car.inference.embed(['a', 'b'], 'emb');
    assert.equal(vectors.length, 2);
    const failing = car.inference.inferStream({ prompt: 'x', model: 'nope' });
    await assert.rejects(async () => {
      for await (const _ of failing) void _;
    }, (err: unknown) => err instanceof RemoteError && /unknown model/.test(err.message));
    await car.close();
  });

  test('registerRunner serves delegated calls from a handler: emitted events stream, a throw fails the call', async () => {
    const runner = await CarClient.connect({ url, token: TOKEN });
    await runner.inference.registerRunner(async (request, call) => {
      const prompt = (request.messages as { content: string }[])[0]!.content;
      if (prompt === 'boom') throw new Error('runner exploded');
      await call.emit({ type: 'text', data: 'echo: ' });
      await call.emit({ type: 'text', data: prompt });
    });
    const car = await CarClient.connect({ url, token: TOKEN });
    const stream = car.inference.inferStream({ prompt: 'ping', model: 'runner-model' });
    const texts: string[] = [];
    for await (const ev of stream) if (ev.type === 'text') texts.push(ev.data);
    assert.deepEqual(texts, ['echo: ', 'ping']);
    assert.equal((await stream.result).text, 'echo: ping');
    await assert.rejects(car.inference.infer('boom', 'runner-model'), /runner exploded/);
    await runner.close();
    await car.close();
  });

  test('skills.distill / evolve / skill.repair run on the configured skills model', async () => {
    const car = await CarClient.connect({ url, token: TOKEN });
    const distilled = await car.call<unknown[]>('skills.distill', { events: [{ kind: 'action_succeeded', tool: 'web_scraper' }] });
    assert.deepEqual(distilled, [{ ...DISTILLED[0], source: 'distilled' }]);
    assert.deepEqual(await car.call('skills.ingest_distilled', { skills: distilled }), { ingested: 1 });
    const evolved = await car.call<{ name: string; domain: string; source: string }[]>('skills.evolve', { events: [], domain: 'web' });
    assert.deepEqual(evolved.map((s) => [s.name, s.domain, s.source]), [['better_scrape', 'web', 'evolved']]);
    assert.equal(await car.call('skill.repair', { skill_name: 'scrape_and_summarize' }), null, 'a healthy skill is not repaired');
    for (let i = 0; i < 3; i++) await car.call('skill.report', { skill_name: 'scrape_and_summarize', outcome: 'timeout' });
    assert.deepEqual(await car.call('skill.repair', { skill_name: 'scrape_and_summarize' }), { code: 'fixed()' });
    const metered = await car.call<{ events: { data: { method: string } }[] }>('events.query', { kinds: ['InferenceMetered'] });
    assert.deepEqual(metered.events.map((e) => e.data.method).sort(), ['skill.repair', 'skills.distill', 'skills.evolve']);
    await car.close();
  });

  test('memory\'s Embedder hook backed by an embed model adds vector seeds', async () => {
    const embedder = await createEmbedder(state.inference, 'emb');
    assert.equal(embedder.dimensions, 1536);
    const [v] = await embedder.embed(['hello']);
    assert.ok(v instanceof Float32Array && v.length === 1536);
    await state.memory.useEmbedder(embedder);
    const car = await CarClient.connect({ url, token: TOKEN });
    await car.call('memory.add_fact', { subject: 'editor', body: 'The team uses Helix', kind: 'pattern' });
    const rows = await car.call<unknown[]>('memory.query', { query: 'which editor', k: 3 });
    assert.ok(rows.length >= 1);
    await assert.rejects(createEmbedder(state.inference, 'local-a'), /cannot embed/);
    await car.close();
  });
});
