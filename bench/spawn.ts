import { fork, type ChildProcess } from 'node:child_process';
import { pin } from './affinity.js';
import type { ChildMessage, ParentMessage, TransportName } from './protocol.js';

/** Server CPU time (user + system) in microseconds. */
export type CpuProbe = () => Promise<number>;

export interface ServerChild {
  readonly name: string;
  readonly transport: TransportName;
  readonly url: string;
  /** The child's own CPU usage so far, asked over IPC. */
  cpu: CpuProbe;
  kill(): Promise<void>;
}

const live = new Set<ChildProcess>();

/** Last-resort cleanup: no server child outlives the bench process. */
export function killAllChildrenSync(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/**
 * Fork one compiled server script (`<script> <tcp|uds> [socket path]`), pin it to `cpus` when
 * given, and wait for it to report the URL it listens on. Extra node flags for the children (e.g. `--cpu-prof`) come from
 * BENCH_SERVER_NODE_ARGS.
 */
export function startServer(
  name: string,
  script: string,
  transport: TransportName,
  socketPath: string,
  cpus: string | undefined,
  readyTimeoutMs = 15_000,
): Promise<ServerChild> {
  const execArgv = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== '');
  const args = transport === 'uds' ? [transport, socketPath] : [transport];
  const child = fork(script, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  // Pin at once, before the server starts listening; threads started later inherit the mask.
  if (cpus !== undefined && child.pid !== undefined) pin(child.pid, cpus);

  let seq = 0;
  const cpuWaiters = new Map<number, (us: number) => void>();
  child.on('message', (raw: unknown) => {
    const msg = raw as ChildMessage;
    if (msg.type === 'cpu') {
      cpuWaiters.get(msg.seq)?.(msg.user + msg.system);
      cpuWaiters.delete(msg.seq);
    }
  });
  const cpu: CpuProbe = () =>
    new Promise((resolve, reject) => {
      const n = ++seq;
      const timer = setTimeout(() => {
        cpuWaiters.delete(n);
        reject(new Error(`${name}/${transport}: no CPU probe answer`));
      }, 5_000);
      cpuWaiters.set(n, (us) => {
        clearTimeout(timer);
        resolve(us);
      });
      const probe: ParentMessage = { type: 'cpu', seq: n };
      child.send(probe);
    });
  const kill = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const hard = setTimeout(() => child.kill('SIGKILL'), 2_000);
      child.once('exit', () => {
        clearTimeout(hard);
        resolve();
      });
      child.kill('SIGTERM');
    });

  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.off('exit', onExit);
      void kill();
      reject(err);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      fail(new Error(`${name}/${transport}: exited early (${code ?? signal ?? '?'})`));
    const timer = setTimeout(() => fail(new Error(`${name}/${transport}: not ready within ${readyTimeoutMs} ms`)), readyTimeoutMs);
    child.once('exit', onExit);
    child.on('message', (raw: unknown) => {
      const msg = raw as ChildMessage;
      if (msg.type === 'error') fail(new Error(msg.message));
      else if (msg.type === 'ready' && !settled) {
        settled = true;
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve({ name, transport, url: msg.url, cpu, kill });
      }
    });
  });
}
