import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { CarClient } from '../../src/client/index.js';
import { AimockServer } from '../helpers/aimock.js';
import { authTokenPath, startDaemon, tempDir } from './helpers.js';

/** The upstream `inference.py` example (E6) and the model registry, against the built binary. */
test('E6 inference: infer_stream prints deltas, then infer_tracked "Say \'CAR online\'" gives text and usage; Ollama discovered; keys from $CAR_HOME/env', async (t) => {
  const mock = await AimockServer.start([
    { match: { userMessage: 'Say' }, response: { content: 'CAR online', usage: { prompt_tokens: 14, completion_tokens: 3 } } },
    { match: { userMessage: 'haiku' }, response: { content: 'Daemons hum softly / tokens stream across the wire / the model replies' } },
    { match: { endpoint: 'chat' }, response: { content: 'ok' } },
  ]);
  t.after(() => mock.stop());
  const carHome = tempDir(t);
  writeFileSync(join(carHome, 'models.json'), JSON.stringify({
    models: [{ id: 'local/llama', name: 'Local llama', capabilities: ['generate', 'tool_use'], source: { type: 'remote_api', protocol: 'openai', endpoint: mock.v1, model: 'llama' }, cost: { input_per_mtok: 1, output_per_mtok: 2 } }],
  }));
  writeFileSync(join(carHome, 'env'), 'OPENAI_API_KEY=sk-from-env-file\n');
  const daemon = await startDaemon(t, { carHome, env: { OLLAMA_HOST: new URL(mock.url).host } });
  const loaded = await daemon.waitForLog((l) => l.msg === 'model registry loaded');
  assert.ok((loaded.available as string[]).includes('local/llama'));

  const car = await CarClient.connect({ url: daemon.url, token: readFileSync(authTokenPath(carHome), 'utf8') });
  t.after(() => car.close());

  const printed: string[] = [];
  const stream = car.inference.inferStream({ prompt: 'Write a haiku about daemons.', model: 'local/llama', max_tokens: 64 });
  for await (const ev of stream) if (ev.type === 'text') printed.push(ev.data);
  assert.equal(printed.join(''), 'Daemons hum softly / tokens stream across the wire / the model replies');
  assert.equal((await stream.result).model_used, 'local/llama');

  const tracked = await car.inference.infer({ prompt: "Say 'CAR online' and nothing else.", max_tokens: 32, model: 'local/llama' });
  assert.equal(tracked.text, 'CAR online');
  assert.deepEqual(tracked.usage, { prompt_tokens: 14, completion_tokens: 3, total_tokens: 17, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
  assert.equal(typeof tracked.latency_ms, 'number');
  assert.ok(tracked.trace_id);
  const cost = await car.call<{ agent: string; calls: number; cost_usd: number }[]>('events.cost_by_agent', {});
  assert.equal(cost[0]!.calls, 2);

  const models = await car.inference.listModels();
  assert.ok(models.some((m) => m.origin === 'ollama' && m.available), 'Ollama models discovered through OLLAMA_HOST');
  assert.equal(models.find((m) => m.id === 'openai/gpt-4o')!.available, true, 'the key came from $CAR_HOME/env');
  assert.equal(models.find((m) => m.id === 'anthropic/claude-sonnet-4-5')!.available, false);
});

test('models.register writes $CAR_HOME/models.json atomically; the model is served after a restart', async (t) => {
  const mock = await AimockServer.start([{ match: { endpoint: 'chat' }, response: { content: 'registered model answers' } }]);
  t.after(() => mock.stop());
  const carHome = tempDir(t);
  const first = await startDaemon(t, { carHome, env: { CAR_NO_OLLAMA: '1' } });
  let car = await CarClient.connect({ url: first.url, token: readFileSync(authTokenPath(carHome), 'utf8') });
  const reg = await car.inference.registerModel({ id: 'mine', capabilities: ['generate'], source: { type: 'remote_api', endpoint: mock.v1 } });
  assert.equal(reg.path, join(carHome, 'models.json'));
  assert.equal(JSON.parse(readFileSync(reg.path, 'utf8')).models[0].trust_tier, 'community');
  await assert.rejects(car.inference.infer({ prompt: 'hi', model: 'mine' }), /unknown model 'mine'/);
  await car.close();
  await first.stop();

  const second = await startDaemon(t, { carHome, env: { CAR_NO_OLLAMA: '1' } });
  car = await CarClient.connect({ url: second.url, token: readFileSync(authTokenPath(carHome), 'utf8') });
  t.after(() => car.close());
  assert.equal((await car.inference.infer({ prompt: 'hi', model: 'mine' })).text, 'registered model answers');
});
