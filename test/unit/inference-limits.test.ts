import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import test, { describe } from 'node:test';
import { backoffMs } from '../../src/inference/attempts.js';
import { discoverOllama } from '../../src/inference/ollama.js';
import { RunnerHub } from '../../src/inference/runner.js';
import type { ModelEntry } from '../../src/inference/model-schema.js';
import type { StreamEvent } from '../../src/inference/types.js';
import { ServerState, ServerStateConfig } from '../../src/index.js';

const entry = { schema: { id: 'r', capabilities: ['generate'], source: { type: 'delegated' } } } as unknown as ModelEntry;

describe('inference limits', () => {
  test('config: defaults, validation, and the values reach the engine', () => {
    const c = new ServerStateConfig();
    assert.deepEqual(
      [c.inferenceQueueMax, c.inferenceProgressIntervalMs, c.inferenceRequestTimeoutMs, c.inferenceMaxRetries, c.inferenceRetryBaseDelayMs, c.inferenceRetryMaxDelayMs, c.inferenceRunnerQueueMax, c.ollamaDiscoveryTimeoutMs],
      [512, 10_000, 600_000, 2, 250, 8000, 256, 500],
    );
    assert.deepEqual([c.modelsPath, c.ollamaEndpoint, c.embedModel, c.skillsModel, c.providerEnv], [null, null, null, null, {}]);
    for (const bad of [
      { inferenceProgressIntervalMs: 0 },
      { inferenceRequestTimeoutMs: -1 },
      { inferenceRunnerQueueMax: 0 },
      { ollamaDiscoveryTimeoutMs: 0 },
      { inferenceMaxRetries: -1 },
      { inferenceMaxRetries: 0.5 },
      { inferenceRetryBaseDelayMs: -1 },
      { inferenceRetryMaxDelayMs: Number.NaN },
    ]) assert.throws(() => new ServerStateConfig(bad), RangeError, JSON.stringify(bad));
    assert.throws(() => new ServerStateConfig({ modelsPath: 'relative/models.json' }), TypeError);
    assert.throws(() => new ServerStateConfig({ ollamaEndpoint: 'ftp://x' }), TypeError);
    assert.throws(() => new ServerStateConfig({ embedModel: '' }), TypeError);
    assert.equal(new ServerStateConfig({ inferenceMaxRetries: 0, inferenceQueueMax: 0 }).inferenceMaxRetries, 0);
    const env = { OPENAI_API_KEY: 'k' };
    const frozen = new ServerStateConfig({ providerEnv: env });
    env.OPENAI_API_KEY = 'changed';
    assert.equal(frozen.providerEnv.OPENAI_API_KEY, 'k', 'copied and frozen');
    assert.ok(Object.isFrozen(frozen.providerEnv));
    const s = ServerState.embedded(new ServerStateConfig({ inferenceRunnerQueueMax: 7 }));
    assert.equal(s.inference.runners.registered, false);
  });

  test('back-off: doubles from the base, never past the cap; a Retry-After wins up to the cap', () => {
    const p = { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1000, attemptTimeoutMs: 1, random: () => 1 };
    assert.deepEqual([0, 1, 2, 3, 4, 10].map((a) => backoffMs(p, a, undefined)), [100, 200, 400, 800, 1000, 1000]);
    assert.equal(backoffMs({ ...p, random: () => 0 }, 0, undefined), 50, 'jitter halves at most');
    assert.equal(backoffMs(p, 0, 700), 700);
    assert.equal(backoffMs(p, 0, 60_000), 1000);
  });

  test('runner events past inferenceRunnerQueueMax make the runner wait until the caller reads', async () => {
    const hub = new RunnerHub(2);
    let invoked: string | null = null;
    hub.register({ id: 'runner', invoke: (callId) => ((invoked = callId), true) });
    const it = hub.stream({ model: entry, request: { messages: [] }, signal: new AbortController().signal })[Symbol.asyncIterator]();
    const first = it.next();
    await new Promise((r) => setImmediate(r));
    assert.ok(invoked);
    const ev = (i: number) => ({ type: 'text', data: String(i) });
    let released = 0;
    // Two events fit the queue and are acknowledged at once; the two past the bound wait.
    const acks = [0, 1, 2, 3].map((i) => hub.event('runner', invoked!, ev(i)).then(() => released++));
    await new Promise((r) => setImmediate(r));
    assert.equal(released, 2, 'events over the bound are not acknowledged yet');
    assert.deepEqual((await first).value, ev(0));
    const seen: StreamEvent[] = [];
    for (let i = 0; i < 2; i++) seen.push((await it.next()).value as StreamEvent);
    await Promise.all(acks);
    assert.equal(released, 4);
    await hub.complete('runner', invoked!, undefined);
    seen.push((await it.next()).value as StreamEvent);
    assert.deepEqual(seen, [ev(1), ev(2), ev(3)]);
    assert.equal((await it.next()).done, true);
    assert.equal(hub.inFlight, 0);
  });

  test('Ollama discovery gives up after ollamaDiscoveryTimeoutMs on a server that never answers', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const hang: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    const port = (hang.address() as { port: number }).port;
    const out = await discoverOllama(`http://127.0.0.1:${port}`, 150);
    assert.deepEqual(out.models, []);
    assert.match(out.error!, /timed out/);
    for (const s of sockets) s.destroy();
    await new Promise((r) => hang.close(r));
  });
});
