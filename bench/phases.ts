import { errorMessage, log } from './log.js';
import { ASYNC_GET_METHOD } from './protocol.js';
import type { Results } from './report.js';
import { percentile } from './stats.js';
import { GET_PARAMS, type Target } from './targets.js';

/**
 * The measurement phases. In each phase every target gets the same warm-up and the same rounds;
 * the targets are interleaved round by round, starting one further along each round.
 */

export const SETTINGS = {
  window: 32,
  rounds: 3,
  pipelinedWarmupMs: 1_000,
  /** Refills the window at the start of each round before the clock starts. */
  pipelinedRampMs: 100,
  pipelinedMeasureMs: 1_000,
  asyncWarmupMs: 500,
  sequentialWarmupCalls: 500,
  sequentialCallsPerRound: 1_000,
  sequentialMaxMs: 5_000,
  callbackConcurrency: 32,
  callbackWarmupCount: 3_000,
  callbackCount: 20_000,
  callbackTimeoutMs: 15_000,
} as const;

/** `list` rotated by `round`, so no target always runs first (or right after the same neighbour). */
function rotate<T>(list: readonly T[], round: number): T[] {
  const k = list.length === 0 ? 0 : round % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

/** Run `fn` on each live target in rotated order; a target that throws is marked failed and skipped from then on. */
async function forEachTarget(
  list: readonly Target[],
  round: number,
  phase: string,
  fn: (t: Target) => Promise<void>,
): Promise<void> {
  for (const t of rotate(list, round)) {
    if (t.failed !== undefined) continue;
    try {
      await fn(t);
    } catch (err) {
      t.failed = `${phase}: ${errorMessage(err)}`;
      log(`${t.spec.name}/${t.transport} failed in ${t.failed}`);
    }
  }
}

async function rounds(
  list: readonly Target[],
  phase: string,
  warmUp: (t: Target) => Promise<void>,
  measure: (t: Target) => Promise<void>,
): Promise<void> {
  log(`${phase}: warm-up`);
  await forEachTarget(list, 0, `${phase} warm-up`, warmUp);
  for (let round = 0; round < SETTINGS.rounds; round++) {
    log(`${phase}: round ${round + 1}/${SETTINGS.rounds}`);
    await forEachTarget(list, round, phase, measure);
  }
}

async function pipelinedPhase(list: readonly Target[], results: Results, method: string, async: boolean): Promise<void> {
  const s = SETTINGS;
  const call = { window: s.window, method, params: GET_PARAMS };
  const [rate, cpu] = async ? (['asyncPipelined', 'asyncPipelinedCpu'] as const) : (['pipelined', 'pipelinedCpu'] as const);
  await rounds(
    list,
    async ? 'async handler' : 'pipelined',
    async (t) => {
      const warmupMs = async ? s.asyncWarmupMs : s.pipelinedWarmupMs;
      t.errors += (await t.client.pipelined({ ...call, warmupMs, measureMs: 1 }, t.child.cpu)).errors;
    },
    async (t) => {
      const r = await t.client.pipelined({ ...call, warmupMs: s.pipelinedRampMs, measureMs: s.pipelinedMeasureMs }, t.child.cpu);
      t.errors += r.errors;
      results.add(t.spec.name, t.transport, rate, r.callsPerSec);
      results.add(t.spec.name, t.transport, cpu, r.serverCpuUsPerCall);
      if (!async) results.add(t.spec.name, t.transport, 'clientCpu', r.clientCpuUsPerCall);
    },
  );
}

async function sequentialPhase(list: readonly Target[], results: Results): Promise<void> {
  const s = SETTINGS;
  const call = { method: 'state.get', params: GET_PARAMS, maxMs: s.sequentialMaxMs };
  await rounds(
    list,
    'sequential',
    async (t) => {
      t.errors += (await t.client.sequential({ ...call, count: s.sequentialWarmupCalls })).errors;
    },
    async (t) => {
      const r = await t.client.sequential({ ...call, count: s.sequentialCallsPerRound });
      t.errors += r.errors;
      results.add(t.spec.name, t.transport, 'p50', percentile(r.latenciesUs, 0.5));
      results.add(t.spec.name, t.transport, 'p99', percentile(r.latenciesUs, 0.99));
    },
  );
}

async function callbacksPhase(list: readonly Target[], results: Results): Promise<void> {
  const s = SETTINGS;
  const opts = { concurrency: s.callbackConcurrency, timeoutMs: s.callbackTimeoutMs };
  await rounds(
    list,
    'callbacks',
    async (t) => {
      await t.client.callbacks({ ...opts, count: s.callbackWarmupCount }, t.child.cpu);
    },
    async (t) => {
      const r = await t.client.callbacks({ ...opts, count: s.callbackCount }, t.child.cpu);
      results.add(t.spec.name, t.transport, 'callbacks', r.callbacksPerSec);
      results.add(t.spec.name, t.transport, 'callbacksCpu', r.serverCpuUsPerCall);
    },
  );
}

/** All phases, in order: pipelined, async handler (ours and bare-ws, TCP), sequential, callbacks. */
export async function measureAll(targets: readonly Target[], results: Results): Promise<void> {
  await pipelinedPhase(targets, results, 'state.get', false);
  await pipelinedPhase(
    targets.filter((t) => t.spec.extras && t.transport === 'tcp'),
    results,
    ASYNC_GET_METHOD,
    true,
  );
  await sequentialPhase(targets, results);
  await callbacksPhase(
    targets.filter((t) => t.spec.extras),
    results,
  );
}
