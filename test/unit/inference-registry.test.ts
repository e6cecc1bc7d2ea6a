import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import test, { describe } from 'node:test';
import { BUILTIN_MODELS, ModelRegistry } from '../../src/inference/index.js';
import { costOf } from '../../src/inference/metering.js';
import { route } from '../../src/inference/router.js';
import { ModelStats } from '../../src/inference/stats.js';
import { modelsFile, openaiRow } from '../helpers/inference.js';

function registry(path: string | null, env: Record<string, string> = {}): ModelRegistry {
  return new ModelRegistry({ modelsPath: path, ollamaEndpoint: null, discoveryTimeoutMs: 100, env });
}

describe('model registry', () => {
  test('catalogue rows are listed; available only when their key variable is set', async () => {
    const r = registry(null);
    await r.load();
    const gpt = r.get('openai/gpt-4o-mini')!;
    assert.equal(gpt.staticallyAvailable, false);
    assert.match(gpt.unavailableReason!, /OPENAI_API_KEY is not set/);
    const withKey = registry(null, { OPENAI_API_KEY: 'sk-test' });
    await withKey.load();
    assert.equal(withKey.get('openai/gpt-4o-mini')!.staticallyAvailable, true);
    assert.equal(withKey.get('openai/gpt-4o-mini')!.apiKey, 'sk-test');
    assert.equal(withKey.get('anthropic/claude-sonnet-4-5')!.staticallyAvailable, false);
    assert.equal(r.entries().length, BUILTIN_MODELS.length);
  });

  test('models.json rows (object or bare array) add to and replace catalogue rows; bad rows are skipped and noted', async () => {
    const f = modelsFile([]);
    writeFileSync(f.path, JSON.stringify([
      openaiRow('mine', 'http://127.0.0.1:8080/v1'),
      { id: 'openai/gpt-4o', name: 'override', source: { type: 'remote_api', endpoint: 'http://127.0.0.1:1/v1' } },
      { id: 'broken', source: { type: 'teleport' } },
      { id: 'no-endpoint', source: { type: 'remote_api' } },
      { id: 'runner-model', source: { type: 'delegated' } },
    ]));
    const r = registry(f.path);
    await r.load();
    assert.equal(r.get('mine')!.isLocal, true);
    assert.equal(r.get('openai/gpt-4o')!.schema.name, 'override');
    assert.equal(r.get('openai/gpt-4o')!.origin, 'models.json');
    assert.equal(r.get('broken'), undefined);
    assert.match(r.problems.join('\n'), /row 2 skipped/);
    assert.equal(r.get('no-endpoint')!.staticallyAvailable, false, 'listed, never dropped');
    assert.match(r.get('no-endpoint')!.unavailableReason!, /no endpoint/);
    assert.equal(r.get('runner-model')!.schema.source.type, 'delegated');
    writeFileSync(f.path, '{not json');
    const bad = registry(f.path);
    await bad.load();
    assert.match(bad.problems.join(), /not valid JSON/);
    assert.equal(bad.entries().length, BUILTIN_MODELS.length, 'the catalogue still loads');
    f.cleanup();
  });

  test('register/unregister rewrite models.json for the next start; the running set is unchanged', async () => {
    const f = modelsFile([openaiRow('keep', 'http://127.0.0.1:1/v1')]);
    const r = registry(f.path);
    await r.load();
    const out = await r.register({ id: 'new-one', name: 'New', capabilities: ['generate'], source: { type: 'ollama' }, trust_tier: 'verified' });
    assert.deepEqual(out, { id: 'new-one', path: f.path, note: 'written to models.json; takes effect at the next daemon start' });
    const stored = JSON.parse(readFileSync(f.path, 'utf8')).models;
    assert.deepEqual(stored.map((m: { id: string }) => m.id), ['keep', 'new-one']);
    assert.equal(stored[1].trust_tier, 'community', 'trust tier forced');
    assert.equal(r.get('new-one'), undefined, 'effective at next boot');
    const next = registry(f.path);
    await next.load();
    assert.ok(next.get('new-one'));
    await r.register({ id: 'new-one', name: 'Renamed', source: { type: 'ollama' } });
    assert.equal(JSON.parse(readFileSync(f.path, 'utf8')).models[1].name, 'Renamed', 'same id replaces');
    await assert.rejects(r.register({ id: 'openrouter/x', source: { type: 'delegated' } }), /reserved/);
    await assert.rejects(r.register({ id: 'x', provider: 'parslee', source: { type: 'delegated' } }), /reserved/);
    await assert.rejects(r.register({ id: 'x' }), (e: unknown) => (e as { kind?: string }).kind === 'invalid');
    assert.equal((await r.unregister('keep')).id, 'keep');
    await assert.rejects(r.unregister('keep'), (e: unknown) => (e as { kind?: string }).kind === 'not_found');
    await Promise.all([1, 2, 3, 4].map((i) => r.register({ id: `c${i}`, source: { type: 'delegated' } })));
    assert.deepEqual(JSON.parse(readFileSync(f.path, 'utf8')).models.map((m: { id: string }) => m.id), ['new-one', 'c1', 'c2', 'c3', 'c4'], 'concurrent writes serialise');
    await assert.rejects(registry(null).register({ id: 'x', source: { type: 'delegated' } }), /no models.json location/);
    f.cleanup();
  });
});

describe('router', () => {
  const entries = async (rows: unknown[]) => {
    const f = modelsFile(rows);
    const r = registry(f.path);
    await r.load();
    f.cleanup();
    return r.entries().filter((e) => e.origin === 'models.json');
  };

  test('explains its pick; strategies reorder; exclusions, capabilities and context are honoured', async () => {
    const all = await entries([
      openaiRow('big', 'https://big.example/v1', { quality: 0.95, speed: 0.3, context_length: 200_000, cost: { input_per_mtok: 10, output_per_mtok: 30 } }),
      openaiRow('fast', 'https://fast.example/v1', { quality: 0.6, speed: 0.95, context_length: 16_000, cost: { input_per_mtok: 0.1, output_per_mtok: 0.4 } }),
      openaiRow('local', 'http://127.0.0.1:11434/v1', { quality: 0.55, speed: 0.7, context_length: 8192, capabilities: ['generate'] }),
    ]);
    const ok = () => null;
    const stats = new ModelStats();
    const q = route(all, ok, stats, { prompt: 'Explain step by step why the sky is blue', need: ['generate'], intent: { prefer_quality: true } });
    assert.equal(q.model_id, 'big');
    assert.equal(q.strategy, 'quality');
    assert.equal(q.task, 'reasoning');
    assert.match(q.reason, /quality strategy .* big scores/);
    assert.deepEqual(q.fallbacks.sort(), ['fast', 'local']);
    assert.equal(q.candidates.length, 3);
    assert.equal(route(all, ok, stats, { prompt: 'hi', need: ['generate'], intent: { prefer_fast: true } }).model_id, 'fast');
    assert.equal(route(all, ok, stats, { prompt: 'hi', need: ['generate'], intent: { prefer_local: true } }).model_id, 'local');
    assert.equal(route(all, ok, stats, { prompt: 'hi', need: ['generate'], intent: { prefer_quality: true, exclude_models: ['big'] } }).model_id, 'fast');
    const tools = route(all, ok, stats, { prompt: 'call a tool', need: ['generate', 'tool_use'] });
    assert.ok(!tools.fallbacks.includes('local') && tools.model_id !== 'local');
    assert.equal(tools.candidates.find((c) => c.model_id === 'local')!.excluded, 'lacks tool_use');
    const long = route(all, ok, stats, { prompt: 'x'.repeat(4 * 50_000), need: ['generate'], intent: { prefer_fast: true } });
    assert.equal(long.model_id, 'big', 'only big fits 50k tokens');
    assert.equal(long.needs_compaction, false);
    const huge = route(all, ok, stats, { prompt: 'x'.repeat(4 * 500_000), need: ['generate'] });
    assert.equal(huge.needs_compaction, true);
    assert.equal(huge.model_id, 'big', 'the largest context when nothing fits');
    assert.throws(() => route(all, () => 'down', stats, { prompt: 'hi', need: ['generate'] }), /no available model/);
    assert.throws(() => route(all, ok, stats, { prompt: 'hi', need: ['embed'] }), /no available model can embed/);
  });

  test('what the daemon saw each model do moves the ranking', async () => {
    const all = await entries([
      openaiRow('a', 'https://a.example/v1', { quality: 0.8, speed: 0.6 }),
      openaiRow('b', 'https://b.example/v1', { quality: 0.78, speed: 0.6 }),
    ]);
    const stats = new ModelStats();
    assert.equal(route(all, () => null, stats, { prompt: 'hi', need: ['generate'] }).model_id, 'a');
    for (let i = 0; i < 5; i++) stats.record('a', false, 0);
    assert.equal(route(all, () => null, stats, { prompt: 'hi', need: ['generate'] }).model_id, 'b');
  });
});

describe('stats and cost', () => {
  test('models.stats profile: counts, success rate, latency average over successes, quality EMA', () => {
    const s = new ModelStats();
    assert.deepEqual(s.profiles(), []);
    s.record('m', true, 100);
    s.record('m', false, 0);
    s.record('m', true, 300, 0.5);
    assert.deepEqual(s.profile('m'), {
      model_id: 'm', total_calls: 3, success_count: 2, fail_count: 1, success_rate: 2 / 3, avg_latency_ms: 200,
      ema_quality: 1 + 0.2 * (0 - 1) + 0.2 * (0.5 - (1 + 0.2 * (0 - 1))),
    });
  });

  test('cost: per-million prices, cache prices when given, null when unpriced', () => {
    const usage = { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500, cache_read_input_tokens: 2000, cache_creation_input_tokens: 0 };
    assert.equal(costOf(null, usage), null);
    assert.equal(costOf({ input_per_mtok: 2, output_per_mtok: 8 }, usage), (1000 * 2 + 500 * 8 + 2000 * 2) / 1e6);
    assert.equal(costOf({ input_per_mtok: 2, output_per_mtok: 8, cache_read_per_mtok: 0.5 }, usage), (1000 * 2 + 500 * 8 + 2000 * 0.5) / 1e6);
    assert.equal(costOf({ input_per_mtok: 2, output_per_mtok: 8 }, null), 0);
  });
});
