import { cpus } from 'node:os';
import type { Pinning } from './affinity.js';
import { SETTINGS } from './phases.js';
import type { TransportName } from './protocol.js';
import { best, spread } from './stats.js';
import { formatNumber, formatRatio, formatTable } from './table.js';
import { SERVERS, TRANSPORTS, type Target } from './targets.js';

/** Turns the rounds collected by the phases into the printed report: header, table, checks, notes. */

export type MetricKey =
  | 'pipelined'
  | 'pipelinedCpu'
  | 'asyncPipelined'
  | 'asyncPipelinedCpu'
  | 'p50'
  | 'p99'
  | 'callbacks'
  | 'callbacksCpu';

/** Figures recorded but not tabulated (shown in the notes). */
export type ExtraKey = 'clientCpu';

export interface MetricInfo {
  label: string;
  higherIsBetter: boolean;
}

export const BASELINE = 'bare-ws';
export const OURS = 'ours';

export function metricInfo(window: number, concurrency: number): Record<MetricKey, MetricInfo> {
  return {
    pipelined: { label: `pipelined req/s (W=${window})`, higherIsBetter: true },
    pipelinedCpu: { label: 'server CPU us/req (pipelined)', higherIsBetter: false },
    asyncPipelined: { label: `async handler req/s (W=${window})`, higherIsBetter: true },
    asyncPipelinedCpu: { label: 'server CPU us/req (async handler)', higherIsBetter: false },
    p50: { label: 'sequential p50 us', higherIsBetter: false },
    p99: { label: 'sequential p99 us', higherIsBetter: false },
    callbacks: { label: `callbacks/s (c=${concurrency})`, higherIsBetter: true },
    callbacksCpu: { label: 'server CPU us/callback', higherIsBetter: false },
  };
}

/** Every round of one figure for one target. */
export class Results {
  private readonly rounds = new Map<string, number[]>();

  private static key(server: string, transport: TransportName, metric: MetricKey | ExtraKey): string {
    return `${server}|${transport}|${metric}`;
  }

  add(server: string, transport: TransportName, metric: MetricKey | ExtraKey, value: number): void {
    const key = Results.key(server, transport, metric);
    let list = this.rounds.get(key);
    if (!list) this.rounds.set(key, (list = []));
    list.push(value);
  }

  roundsOf(server: string, transport: TransportName, metric: MetricKey | ExtraKey): readonly number[] {
    return this.rounds.get(Results.key(server, transport, metric)) ?? [];
  }
}

export interface ReportInput {
  results: Results;
  metrics: Record<MetricKey, MetricInfo>;
  servers: readonly string[];
  transports: readonly TransportName[];
}

function bestOf(input: ReportInput, server: string, transport: TransportName, metric: MetricKey): number {
  return best(input.results.roundsOf(server, transport, metric), input.metrics[metric].higherIsBetter);
}

/** The results table: one row per (metric, transport, target) that has data. */
export function resultsTable(input: ReportInput): string {
  const rows: string[][] = [];
  for (const metric of Object.keys(input.metrics) as MetricKey[]) {
    for (const transport of input.transports) {
      const base = bestOf(input, BASELINE, transport, metric);
      for (const server of input.servers) {
        const rounds = input.results.roundsOf(server, transport, metric);
        if (rounds.length === 0) continue;
        const value = bestOf(input, server, transport, metric);
        rows.push([
          server,
          transport,
          input.metrics[metric].label,
          formatNumber(value),
          formatRatio(value / base),
          `${(spread(rounds) * 100).toFixed(0)}%`,
        ]);
      }
    }
  }
  return formatTable(
    ['target', 'transport', 'metric', 'value', 'vs bare-ws', 'spread'],
    rows,
    ['left', 'left', 'left', 'right', 'right', 'right'],
  );
}

interface Check {
  label: string;
  /** The measured figure the threshold applies to. */
  measured: number;
  pass: boolean;
}

function ratioCheck(
  input: ReportInput,
  metric: MetricKey,
  transport: TransportName,
  other: string,
  bound: number,
  direction: 'atLeast' | 'atMost',
): Check {
  const ours = bestOf(input, OURS, transport, metric);
  const theirs = bestOf(input, other, transport, metric);
  const ratio = ours / theirs;
  const op = direction === 'atLeast' ? '>=' : '<=';
  return {
    label: `${input.metrics[metric].label}, ${transport}: ours ${op} ${bound.toFixed(2)}x ${other}`,
    measured: ratio,
    pass: Number.isFinite(ratio) && (direction === 'atLeast' ? ratio >= bound : ratio <= bound),
  };
}

/** The targets section: PASS/MISS per line. A MISS is reported, never fatal. */
export function targetsSection(input: ReportInput): string {
  const checks: Check[] = [];
  for (const transport of input.transports) {
    checks.push(ratioCheck(input, 'pipelined', transport, BASELINE, 0.8, 'atLeast'));
    checks.push(ratioCheck(input, 'p50', transport, BASELINE, 1.25, 'atMost'));
    checks.push(ratioCheck(input, 'callbacks', transport, BASELINE, 0.7, 'atLeast'));
  }
  // The async-handler phase runs over TCP only.
  checks.push(ratioCheck(input, 'asyncPipelined', 'tcp', BASELINE, 0.9, 'atLeast'));
  for (const other of input.servers.filter((s) => s !== OURS && s !== BASELINE)) {
    // "Ahead" = strictly better than the other library on the same transport.
    const pipe = ratioCheck(input, 'pipelined', 'tcp', other, 1, 'atLeast');
    checks.push({ ...pipe, label: `${input.metrics.pipelined.label}, tcp: ours ahead of ${other}`, pass: pipe.measured > 1 });
    const p50 = ratioCheck(input, 'p50', 'tcp', other, 1, 'atMost');
    checks.push({ ...p50, label: `${input.metrics.p50.label}, tcp: ours ahead of ${other}`, pass: p50.measured < 1 });
  }
  const rows = checks.map((c) => [c.pass ? 'PASS' : 'MISS', c.label, formatRatio(c.measured)]);
  return formatTable(['', 'check', 'ours/other'], rows, ['left', 'left', 'right']);
}

export interface RunSummary {
  targets: readonly Target[];
  startFailures: readonly string[];
  results: Results;
  pinning: Pinning;
  elapsedMs: number;
}

function notes(run: RunSummary): string[] {
  const out: string[] = [];
  for (const t of run.targets) {
    const id = `${t.spec.name}/${t.transport}`;
    const clientCpu = run.results.roundsOf(t.spec.name, t.transport, 'clientCpu');
    if (clientCpu.length > 0) out.push(`client CPU us/req (pipelined) vs ${id}: ${Math.min(...clientCpu).toFixed(1)}`);
    if (t.errors > 0) out.push(`WARNING ${id}: ${t.errors} error replies`);
    if (t.client.unmatched > 0) out.push(`WARNING ${id}: ${t.client.unmatched} unmatched frames`);
    if (t.failed !== undefined) out.push(`FAILED ${id}: ${t.failed}`);
  }
  for (const f of run.startFailures) out.push(`FAILED ${f}`);
  out.push(`total bench time ${(run.elapsedMs / 1000).toFixed(1)} s`);
  return out;
}

/** Print the whole report to stdout. */
export function printReport(run: RunSummary): void {
  const s = SETTINGS;
  const input: ReportInput = {
    results: run.results,
    metrics: metricInfo(s.window, s.callbackConcurrency),
    servers: SERVERS.map((spec) => spec.name),
    transports: TRANSPORTS,
  };
  const out = [
    `car-server-core bench  node ${process.version}  ${cpus().length} cpus  best of ${s.rounds} interleaved rounds per figure`,
    `pipelined: ${s.pipelinedMeasureMs} ms per round after a ${s.pipelinedWarmupMs} ms warm-up; ` +
      `sequential: ${s.sequentialCallsPerRound} calls per round after ${s.sequentialWarmupCalls}; ` +
      `callbacks: ${s.callbackCount} per round after ${s.callbackWarmupCount}`,
    run.pinning.description,
    'ratios: value / bare-ws value (same transport, same metric); higher is better for /s, lower for us',
    '',
    resultsTable(input),
    '',
    'targets (a MISS is reported, not fatal)',
    targetsSection(input),
    '',
    'notes',
    ...notes(run).map((n) => `  ${n}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}
