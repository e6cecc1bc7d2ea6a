import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import type { AgentLogs } from './logs.js';
import type { AgentSpec, ManagedStatus } from './types.js';

export interface ProcessOptions {
  stopGraceMs: number;
  backoffMaxMs: number;
  /** The environment the child starts with (base, spec, and the CAR_AGENT_* variables). */
  env: () => Record<string, string>;
  logs: AgentLogs;
}

/**
 * One supervised agent's process and its restart policy: `spawn` on start, on an exit the policy
 * decides between `stopped`, `errored` and a restart after an exponential back-off
 * (`backoff_secs · 2^restarts`, capped), at most `max_restarts` times. Emits `change` on every
 * status change.
 */
export class AgentProcess extends EventEmitter {
  status: ManagedStatus = 'stopped';
  pid: number | undefined;
  lastExitCode: number | null | undefined;
  restartCount = 0;
  startedAt: Date | undefined;
  lastError: string | undefined;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private backoff: NodeJS.Timeout | null = null;
  private stopping = false;

  constructor(
    public spec: AgentSpec,
    private readonly opts: ProcessOptions,
  ) {
    super();
  }

  get alive(): boolean {
    return this.child !== null;
  }

  /** Start unless already starting or running; a pending back-off restart happens now. */
  start(): void {
    if (this.child !== null) return;
    this.clearBackoff();
    this.restartCount = 0;
    this.spawnChild();
  }

  /** Stop the process (SIGTERM escalating to SIGKILL after the grace, or SIGKILL at once) and cancel any restart. */
  async stop(signal: 'term' | 'kill' = 'term'): Promise<void> {
    this.clearBackoff();
    const child = this.child;
    if (child === null) {
      if (this.status === 'backoff' || this.status === 'starting') this.set('stopped');
      return;
    }
    this.stopping = true;
    const exited = this.exited;
    let escalate: NodeJS.Timeout | null = null;
    if (signal === 'kill') killGroup(child, 'SIGKILL');
    else {
      killGroup(child, 'SIGTERM');
      escalate = setTimeout(() => killGroup(child, 'SIGKILL'), this.opts.stopGraceMs);
    }
    try {
      await exited;
    } finally {
      if (escalate !== null) clearTimeout(escalate);
      this.stopping = false;
    }
  }

  private spawnChild(): void {
    const { spec } = this;
    const { logs } = this.opts;
    const file = spec.interpreter ?? spec.command;
    const args = spec.interpreter === undefined ? spec.args : [spec.command, ...spec.args];
    let io: ReturnType<AgentLogs['open']>;
    try {
      io = logs.open();
    } catch (err) {
      this.lastError = `cannot open logs: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      this.set('errored');
      return;
    }
    this.lastError = undefined;
    this.set('starting');
    let child: ChildProcess;
    try {
      child = spawn(file, args, { cwd: spec.cwd, env: this.opts.env(), stdio: io.stdio, detached: process.platform !== 'win32' });
    } catch (err) {
      io.release();
      this.lastError = (err as Error).message;
      this.set('errored');
      return;
    }
    io.release();
    logs.collect(child.stdout, child.stderr);
    this.child = child;
    this.exited = new Promise<void>((resolve) => {
      let done = false;
      const finish = (code: number | null, failure?: string): void => {
        if (done) return;
        done = true;
        this.onExit(child, code, failure);
        resolve();
      };
      child.once('spawn', () => {
        this.pid = child.pid;
        this.startedAt = new Date();
        this.set('running');
      });
      child.once('error', (err) => finish(null, err.message));
      child.once('exit', (code, sig) => finish(code ?? (sig === null ? null : 128 + (constants.signals[sig] ?? 0))));
    });
  }

  private onExit(child: ChildProcess, code: number | null, failure: string | undefined): void {
    if (this.child !== child) return;
    this.child = null;
    this.pid = undefined;
    this.lastExitCode = code;
    if (failure !== undefined) this.lastError = failure;
    if (this.stopping) {
      this.set('stopped');
      return;
    }
    const failed = code !== 0;
    const policy = this.spec.restart;
    const wants = policy === 'always' || (policy === 'on_failure' && failed);
    if (wants && this.restartCount < this.spec.max_restarts) {
      const delay = Math.min(this.spec.backoff_secs * 1000 * 2 ** this.restartCount, this.opts.backoffMaxMs);
      this.set('backoff');
      this.backoff = setTimeout(() => {
        this.backoff = null;
        this.restartCount++;
        this.spawnChild();
      }, delay);
      return;
    }
    this.set(failed ? 'errored' : 'stopped');
  }

  private clearBackoff(): void {
    if (this.backoff !== null) clearTimeout(this.backoff);
    this.backoff = null;
  }

  private set(status: ManagedStatus): void {
    this.status = status;
    this.emit('change', status);
  }
}

/** Signal the agent's whole process group (it is started detached), or just the child where that fails. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid !== undefined && process.platform !== 'win32') {
    try {
      process.kill(-child.pid, signal);
      return;
    } catch {
      // The group is gone or was never made; fall back to the child itself.
    }
  }
  child.kill(signal);
}
