import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setUpPinning } from './affinity.js';
import { errorMessage, log } from './log.js';
import { runMemoryBench } from './memory.js';
import { runMcpBench } from './mcp.js';
import { runHostBench } from './host.js';
import { runA2aBench } from './a2a.js';
import { runAgentsBench } from './agents.js';
import { runInferenceBench } from './inference.js';
import { measureAll } from './phases.js';
import { runProposalBench } from './proposal.js';
import { runScheduleBench } from './schedule.js';
import { printReport, Results } from './report.js';
import { killAllChildrenSync } from './spawn.js';
import { SERVERS, startTarget, type Target } from './targets.js';
import { runVerifyBench } from './verify.js';
import { runVoiceBench } from './voice.js';
import { runFramesBench } from './frames.js';

/**
 * Orchestrator: pin, start every server under test with a connected client, run the phases,
 * print the report, and always kill the children, whatever happened.
 */

/** Hard stop, far above a normal run (every section together takes 4–5 minutes on a busy 2-core machine). */
const WATCHDOG_MS = 480_000;

const SECTIONS = ['dispatch', 'verify', 'proposal', 'schedule', 'memory', 'mcp', 'host', 'inference', 'agents', 'a2a', 'voice', 'frames'] as const;
type Section = (typeof SECTIONS)[number];

/** `BENCH_SECTIONS=dispatch,proposal` runs only those sections; all of them by default. */
function selectedSections(): ReadonlySet<Section> {
  const raw = process.env.BENCH_SECTIONS?.trim();
  if (!raw) return new Set(SECTIONS);
  const picked = raw.split(',').map((s) => s.trim());
  const unknown = picked.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length > 0) throw new Error(`BENCH_SECTIONS: unknown section(s) ${unknown.join(', ')}; known: ${SECTIONS.join(', ')}`);
  return new Set(picked as Section[]);
}

async function main(): Promise<void> {
  const started = performance.now();
  const watchdog = setTimeout(() => {
    log(`watchdog: still running after ${WATCHDOG_MS} ms; killing the servers`);
    killAllChildrenSync();
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  process.on('exit', killAllChildrenSync);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      killAllChildrenSync();
      process.exit(130);
    });
  }

  const sections = selectedSections();
  const pinning = setUpPinning();
  const dir = mkdtempSync(join(tmpdir(), 'car-bench-'));
  const targets: Target[] = [];
  const startFailures: string[] = [];
  try {
    log('starting servers');
    const pairs = SERVERS.flatMap((spec) => spec.transports.map((transport) => ({ spec, transport })));
    const settled = await Promise.allSettled(pairs.map((p) => startTarget(p.spec, p.transport, dir, pinning.server)));
    settled.forEach((s, i) => {
      const p = pairs[i];
      if (s.status === 'fulfilled') targets.push(s.value);
      else if (p) startFailures.push(`${p.spec.name}/${p.transport}: start: ${errorMessage(s.reason)}`);
    });
    if (sections.has('dispatch')) {
      const results = new Results();
      await measureAll(targets, results);
      printReport({ targets, startFailures, results, pinning, elapsedMs: performance.now() - started });
    }
    if (sections.has('verify')) runVerifyBench();
    if (sections.has('proposal')) await runProposalBench(targets);
    if (sections.has('schedule')) await runScheduleBench();
    if (sections.has('memory')) await runMemoryBench();
    if (sections.has('mcp')) await runMcpBench();
    if (sections.has('host')) await runHostBench();
    if (sections.has('inference')) await runInferenceBench();
    if (sections.has('a2a')) await runA2aBench();
    if (sections.has('agents')) await runAgentsBench();
    if (sections.has('voice')) await runVoiceBench();
    if (sections.has('frames')) await runFramesBench();
  } finally {
    for (const t of targets) t.client.close();
    await Promise.all(targets.map((t) => t.child.kill()));
    killAllChildrenSync();
    rmSync(dir, { recursive: true, force: true });
    clearTimeout(watchdog);
  }
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  killAllChildrenSync();
  process.exitCode = 1;
});
