import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { CarClient } from '../src/client/index.js';
import { AimockServer } from '../test/helpers/aimock.js';
import { log } from './log.js';
import { startServer, type ServerChild } from './spawn.js';
import { percentile } from './stats.js';
import { formatNumber, formatRatio, formatTable } from './table.js';

/**
 * `infer_stream` through the daemon against the same aimock server called directly, same run:
 * time to first token and per-token time, so the difference is what the daemon adds (provider SDK
 * in the daemon, event relay, WebSocket framing, client parsing). Then the delegated runner:
 * events a runner streams through the daemon to a caller, per second. aimock runs in its own
 * process, the daemon in another, the clients here.
 */
export const INFERENCE_SETTINGS = {
  /** Characters per SSE chunk aimock writes; the answer below is cut into this many-character tokens. */
  chunkChars: 4,
  answerChars: 1600,
  warmupRounds: 5,
  rounds: 40,
  runnerEvents: 20_000,
  /** Runner events sent before waiting for their acknowledgements (the daemon allows 256 per connection). */
  runnerWindow: 128,
} as const;

interface Sample {
  ttftMs: number;
  perTokenUs: number;
  tokens: number;
}

async function direct(baseURL: string, prompt: string): Promise<Sample> {
  const client = new OpenAI({ baseURL, apiKey: 'bench', maxRetries: 0 });
  const t0 = performance.now();
  const stream = await client.chat.completions.create({ model: 'bench', messages: [{ role: 'user', content: prompt }], stream: true });
  let first = 0;
  let last = 0;
  let tokens = 0;
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta?.content) {
      last = performance.now();
      if (tokens++ === 0) first = last;
    }
  }
  return { ttftMs: first - t0, perTokenUs: tokens > 1 ? ((last - first) * 1000) / (tokens - 1) : 0, tokens };
}

async function viaDaemon(car: CarClient, prompt: string): Promise<Sample> {
  const t0 = performance.now();
  const stream = car.inference.inferStream({ prompt, model: 'bench' });
  let first = 0;
  let last = 0;
  let tokens = 0;
  for await (const ev of stream) {
    if (ev.type === 'text') {
      last = performance.now();
      if (tokens++ === 0) first = last;
    }
  }
  await stream.result;
  return { ttftMs: first - t0, perTokenUs: tokens > 1 ? ((last - first) * 1000) / (tokens - 1) : 0, tokens };
}

async function runnerThroughput(url: string): Promise<{ eventsPerSec: number; cpuUsPerEvent: number }> {
  const runner = await CarClient.connect({ url, token: null });
  const caller = await CarClient.connect({ url, token: null });
  const n = INFERENCE_SETTINGS.runnerEvents;
  await runner.inference.registerRunner(async (_request, call) => {
    const pending = new Set<Promise<void>>();
    for (let i = 0; i < n; i++) {
      const p = call.emit({ type: 'text', data: 'tok ' }).finally(() => pending.delete(p));
      pending.add(p);
      if (pending.size >= INFERENCE_SETTINGS.runnerWindow) await Promise.race(pending);
    }
    await Promise.all(pending);
  });
  const t0 = performance.now();
  let received = 0;
  const stream = caller.inference.inferStream({ prompt: 'relay', model: 'runner' });
  for await (const ev of stream) if (ev.type === 'text') received++;
  await stream.result;
  const seconds = (performance.now() - t0) / 1000;
  if (received !== n) throw new Error(`runner relay: ${received} of ${n} events arrived`);
  await runner.close();
  await caller.close();
  return { eventsPerSec: n / seconds, cpuUsPerEvent: 0 };
}

export async function runInferenceBench(): Promise<void> {
  const s = INFERENCE_SETTINGS;
  const answer = 'abcd'.repeat(s.answerChars / 4);
  const mock = await AimockServer.start([{ match: { userMessage: 'bench' }, response: { content: answer } }], ['-c', String(s.chunkChars), '--journal-max', '1']);
  const dir = mkdtempSync(join(tmpdir(), 'car-infer-bench-'));
  const modelsPath = join(dir, 'models.json');
  writeFileSync(modelsPath, JSON.stringify({ models: [{ id: 'bench', source: { type: 'remote_api', endpoint: mock.v1 } }, { id: 'runner', source: { type: 'delegated' } }] }));
  process.env.BENCH_MODELS_PATH = modelsPath;
  let daemon: ServerChild | null = null;
  try {
    daemon = await startServer('inference-daemon', fileURLToPath(new URL('./servers/inference-daemon.js', import.meta.url)), 'tcp', '', undefined);
    const car = await CarClient.connect({ url: daemon.url, token: null });
    const directUrl = mock.v1;
    for (let i = 0; i < s.warmupRounds; i++) {
      await direct(directUrl, 'bench');
      await viaDaemon(car, 'bench');
    }
    const d: Sample[] = [];
    const v: Sample[] = [];
    let cpuUs = 0;
    let relayed = 0;
    for (let i = 0; i < s.rounds; i++) {
      // Alternate the order so drift on a busy machine hits both sides alike.
      if (i % 2 === 0) d.push(await direct(directUrl, 'bench'));
      const before = await daemon.cpu();
      const sample = await viaDaemon(car, 'bench');
      cpuUs += (await daemon.cpu()) - before;
      relayed += sample.tokens;
      v.push(sample);
      if (i % 2 === 1) d.push(await direct(directUrl, 'bench'));
    }
    await car.close();
    const p50 = (xs: Sample[], k: keyof Sample) => percentile(xs.map((x) => x[k]), 0.5);
    const tokens = v[0]?.tokens ?? 0;
    const rows = [
      ['time to first token, ms (p50)', formatNumber(p50(d, 'ttftMs')), formatNumber(p50(v, 'ttftMs')), formatNumber(p50(v, 'ttftMs') - p50(d, 'ttftMs')), formatRatio(p50(v, 'ttftMs') / p50(d, 'ttftMs'))],
      ['per token, µs (p50)', formatNumber(p50(d, 'perTokenUs')), formatNumber(p50(v, 'perTokenUs')), formatNumber(p50(v, 'perTokenUs') - p50(d, 'perTokenUs')), formatRatio(p50(v, 'perTokenUs') / p50(d, 'perTokenUs'))],
      ['time to first token, ms (p90)', formatNumber(percentile(d.map((x) => x.ttftMs), 0.9)), formatNumber(percentile(v.map((x) => x.ttftMs), 0.9)), '', ''],
    ];
    log(`inference: infer_stream through the daemon vs the same aimock directly (${tokens} tokens of ${s.chunkChars} chars, ${s.rounds} rounds)`);
    console.log(formatTable(['metric', 'direct (openai SDK)', 'via daemon', 'added', 'ratio'], rows, ['left', 'right', 'right', 'right', 'right']));
    console.log(`daemon CPU per relayed token: ${formatNumber(cpuUs / Math.max(1, relayed))} µs (provider SDK parse + event relay)`);
    const r = await runnerThroughput(daemon.url);
    console.log(`delegated runner relay: ${formatNumber(r.eventsPerSec)} events/s (${s.runnerEvents} text events, runner window ${s.runnerWindow}, runner → daemon → infer_stream caller)`);
  } finally {
    await daemon?.kill();
    await mock.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
