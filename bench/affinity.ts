import { spawnSync } from 'node:child_process';

/**
 * CPU pinning with taskset (util-linux), when available. Without it the scheduler decides per
 * run whether client and server share a CPU, and on small VMs a cross-CPU wake-up costs tens of
 * microseconds: the sequential latency then swings between two modes per target and the
 * comparison measures placement, not servers. Pinned, every target sees the same placement:
 * the client on one CPU, every server on another.
 */

export interface Pinning {
  /** CPU list for the client (this process), e.g. "0"; undefined when pinning is off. */
  client: string | undefined;
  server: string | undefined;
  /** One line for the report header. */
  description: string;
}

/** Expand a taskset CPU list such as "0-2,5" into CPU numbers. */
function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.split(',')) {
    const [lo, hi] = part.trim().split('-').map((n) => Number.parseInt(n, 10));
    if (lo === undefined || Number.isNaN(lo)) continue;
    for (let c = lo; c <= (hi === undefined || Number.isNaN(hi) ? lo : hi); c++) out.push(c);
  }
  return out;
}

function allowedCpus(): number[] | undefined {
  const r = spawnSync('taskset', ['-c', '-p', String(process.pid)], { encoding: 'utf8' });
  if (r.status !== 0 || typeof r.stdout !== 'string') return undefined;
  const list = r.stdout.split(':').pop();
  return list === undefined ? undefined : parseCpuList(list);
}

/** Pin every thread of `pid` to `cpus`; false when taskset failed. */
export function pin(pid: number, cpus: string): boolean {
  return spawnSync('taskset', ['-a', '-c', '-p', cpus, String(pid)], { stdio: 'ignore' }).status === 0;
}

/** Decide the placement and pin this process. BENCH_PIN=0 turns pinning off. */
export function setUpPinning(): Pinning {
  const off = (why: string): Pinning => ({ client: undefined, server: undefined, description: `pinning off (${why})` });
  if (process.env.BENCH_PIN === '0') return off('BENCH_PIN=0');
  const cpus = allowedCpus();
  if (cpus === undefined) return off('taskset not available');
  const [clientCpu, serverCpu] = cpus;
  if (clientCpu === undefined || serverCpu === undefined) return off('fewer than 2 CPUs allowed');
  if (!pin(process.pid, String(clientCpu))) return off('taskset refused');
  return {
    client: String(clientCpu),
    server: String(serverCpu),
    description: `pinned with taskset: client on cpu ${clientCpu}, each server on cpu ${serverCpu}`,
  };
}
