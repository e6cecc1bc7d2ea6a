import { pathToFileURL } from 'node:url';
import { parseProposal, type ActionProposal } from '../src/engine/ir.js';
import type { ToolDefinition } from '../src/engine/tool-registry.js';
import { SplitMix64, verify } from '../src/engine/verify/index.js';
import { log } from './log.js';
import { percentile } from './stats.js';
import { formatNumber, formatTable } from './table.js';

/**
 * In-process bench of static verification: `verify` over a 1,000-action proposal that mixes tool
 * calls with dependencies and schemas, state writes and reads, preconditions and output
 * references. No server is involved.
 */

export const VERIFY_SETTINGS = {
  actions: 1000,
  warmupRuns: 30,
  measuredRuns: 200,
  targetP95Ms: 20,
} as const;

const TOOLS: ToolDefinition[] = ['fetch', 'transform', 'store', 'notify'].map((name) => ({
  name,
  description: '',
  idempotent: false,
  parameters: {
    type: 'object',
    required: ['id'],
    properties: { id: { type: 'integer' }, input: { type: ['string', 'null'] }, opts: { type: 'object', properties: { retries: { type: 'integer' } } } },
  },
}));

/**
 * A deterministic acyclic mixed proposal: about 60% tool calls, 25% state writes, 15% state
 * reads. It is cut into segments of 100 actions; each segment writes its own 128 keys, and reads
 * and preconditions name keys of the segment before, so the graph is layered like a real plan.
 */
export function benchProposal(size: number, seed = 1): ActionProposal {
  const rng = new SplitMix64(seed);
  const pick = (n: number): number => Math.floor(rng.nextFloat() * n);
  const written: string[][] = [];
  /** A key of this segment for writes; for reads, one the segment before really wrote. */
  const writeKey = (segment: number): string => {
    const k = `s${segment}.k${pick(128)}`;
    (written[segment] ??= []).push(k);
    return k;
  };
  const readKey = (segment: number): string | undefined => {
    const pool = written[segment - 1];
    return pool === undefined ? undefined : pool[pick(pool.length)];
  };
  const actions: Record<string, unknown>[] = [];
  for (let i = 0; i < size; i++) {
    const id = `a${i}`;
    const segment = Math.floor(i / 100);
    const roll = rng.nextFloat();
    const deps = i > 0 && rng.nextFloat() < 0.7 ? [`a${Math.max(0, i - 1 - pick(20))}`] : [];
    const readable = readKey(segment);
    if (roll < 0.6) {
      const action: Record<string, unknown> = {
        id,
        type: 'tool_call',
        tool: TOOLS[pick(TOOLS.length)]?.name,
        dependencies: deps,
        parameters: { id: i, input: deps.length > 0 ? `$${deps[0]}.output` : null, opts: { retries: pick(3) } },
        expected_effects: { [writeKey(segment)]: i },
      };
      if (readable !== undefined && rng.nextFloat() < 0.3) {
        action.preconditions = [{ key: readable, operator: 'exists' }];
        action.state_dependencies = [readable];
      }
      actions.push(action);
    } else if (roll < 0.85 || readable === undefined) {
      actions.push({ id, type: 'state_write', dependencies: deps, parameters: { key: writeKey(segment), value: i } });
    } else {
      actions.push({ id, type: 'state_read', parameters: { key: readable }, state_dependencies: [readable] });
    }
  }
  return parseProposal({ id: 'bench', actions });
}

export interface VerifyBenchResult {
  p50Ms: number;
  p95Ms: number;
  issues: number;
  levels: number;
  conflicts: number;
}

export function measureVerify(): VerifyBenchResult {
  const s = VERIFY_SETTINGS;
  const proposal = benchProposal(s.actions);
  const byName = new Map(TOOLS.map((t) => [t.name, t]));
  const opts = { tools: (name: string) => byName.get(name) };
  log(`verify: ${s.warmupRuns} warm-up runs, ${s.measuredRuns} measured`);
  let last = verify(proposal, opts);
  for (let i = 0; i < s.warmupRuns; i++) last = verify(proposal, opts);
  const samples: number[] = [];
  for (let i = 0; i < s.measuredRuns; i++) {
    const t0 = performance.now();
    last = verify(proposal, opts);
    samples.push(performance.now() - t0);
  }
  return {
    p50Ms: percentile(samples, 0.5),
    p95Ms: percentile(samples, 0.95),
    issues: last.issues.length,
    levels: last.execution_levels.length,
    conflicts: last.conflicts.length,
  };
}

export function verifySection(r: VerifyBenchResult): string {
  const s = VERIFY_SETTINGS;
  const table = formatTable(
    ['phase', 'p50 ms', 'p95 ms'],
    [[`verify ${s.actions.toLocaleString('en-US')}-action proposal`, formatNumber(r.p50Ms), formatNumber(r.p95Ms)]],
    ['left', 'right', 'right'],
  );
  const pass = r.p95Ms <= s.targetP95Ms;
  return [
    `in-process engine figures (${s.measuredRuns} runs after ${s.warmupRuns} warm-up)`,
    table,
    `${pass ? 'PASS' : 'MISS'}  verify ${s.actions.toLocaleString('en-US')}-action proposal p95 ≤ ${s.targetP95Ms} ms`,
    `  (${r.levels} levels, ${r.issues} issues, ${r.conflicts} conflicts in the bench proposal)`,
  ].join('\n');
}

/** Measure and print the verify section; used by run.ts after the server phases. */
export function runVerifyBench(): void {
  process.stdout.write(`\n${verifySection(measureVerify())}\n`);
}

// Run on its own with `node build/bench/verify.js`.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) runVerifyBench();
