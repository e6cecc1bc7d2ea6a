import { randomBytes } from 'node:crypto';
import { PidLock } from '../util/pid-lock.js';
import { CarError } from '../util/errors.js';
import { AgentLogs } from './logs.js';
import { ManifestStore, type ManifestEntry } from './manifest.js';
import { AgentProcess } from './process.js';
import { checkDir, findExecutable, resolveInterpreter } from './resolve.js';
import {
  SPEC_DEFAULTS,
  type AgentCapabilities,
  type AgentHealth,
  type AgentSpec,
  type ManagedAgent,
  type ManagedStatus,
  type RestartPolicy,
  type TailRequest,
  type TailResult,
} from './types.js';

export const AGENT_ID = /^[A-Za-z0-9._-]+$/;

export interface SupervisorOptions {
  /** `agents.json`; `null` keeps the manifest (and the agents' tokens) in memory. */
  manifestPath: string | null;
  /** Where each agent's stdout/stderr files go; `null` keeps the last `logTailBytes` in memory. */
  logDir: string | null;
  maxAgents: number;
  stopGraceMs: number;
  backoffMaxMs: number;
  logTailBytes: number;
  /** The environment agents start from; its PATH resolves commands and interpreters. */
  baseEnv: Readonly<Record<string, string | undefined>>;
  /** The connection an agent id is attached on, if any. */
  attachedSession: (agentId: string) => string | undefined;
  /** Every status change of a supervised agent (the daemon reports them as host events). */
  onStatus?: (agentId: string, status: ManagedStatus, agent: ManagedAgent) => void;
}

export interface AgentSpecInput {
  id: string;
  name?: string;
  command: string;
  args?: string[];
  cwd?: string;
  env?: Record<string, string>;
  restart?: RestartPolicy;
  max_restarts?: number;
  backoff_secs?: number;
  auto_start?: boolean;
  interpreter?: string;
}

interface Agent {
  spec: AgentSpec;
  token: string;
  proc: AgentProcess;
  logs: AgentLogs;
}

type Mode = { kind: 'owner'; lock: PidLock | null } | { kind: 'observer'; heldBy: number };

/**
 * Supervised agents: a durable manifest, one process per agent with its restart policy, logs,
 * and each agent's own token. The manifest is taken with `<manifest>.lock` on first use; when
 * another daemon holds it this one only observes (list and health read the file). Nothing is
 * read or started until first use, and no agent runs unless asked (`start`, or `startAutoStart`).
 */
export class AgentSupervisor {
  private mode: Mode | null = null;
  private readonly agents = new Map<string, Agent>();
  private readonly store: ManifestStore;
  /** `ws://host:port` of the daemon, handed to agents as CAR_DAEMON_URL. */
  daemonUrl: string | null = null;

  constructor(private readonly opts: SupervisorOptions) {
    this.store = new ManifestStore(opts.manifestPath);
  }

  get manifestPath(): string | null {
    return this.opts.manifestPath;
  }

  /** Take the manifest (or become an observer) and load it. Idempotent. */
  open(): 'owner' | 'observer' {
    if (this.mode === null) {
      const path = this.opts.manifestPath;
      if (path === null) this.mode = { kind: 'owner', lock: null };
      else {
        const lock = PidLock.acquire(`${path}.lock`);
        if (lock instanceof PidLock) {
          this.mode = { kind: 'owner', lock };
          for (const entry of this.store.read()) this.adopt(entry);
        } else this.mode = { kind: 'observer', heldBy: lock.heldBy };
      }
    }
    return this.mode.kind;
  }

  /** Where this daemon stands on the manifest, without taking it: none until first use. */
  get role(): 'owner' | 'observer' | 'none' {
    return this.mode?.kind ?? 'none';
  }

  get observing(): boolean {
    return this.open() === 'observer';
  }

  /** The agent's own token, for `session.auth {agent_id, token}`; undefined for an unknown agent. */
  tokenFor(id: string): string | undefined {
    if (this.open() === 'observer') return this.store.read().find((e) => e.spec.id === id)?.token;
    return this.agents.get(id)?.token;
  }

  list(): ManagedAgent[] {
    if (this.open() === 'observer') return this.store.read().map((e) => this.observedView(e.spec));
    return [...this.agents.values()].map((a) => this.view(a));
  }

  get(id: string): ManagedAgent {
    this.owner();
    return this.view(this.find(id));
  }

  health(): AgentHealth[] {
    const specs = this.open() === 'observer' ? this.store.read().map((e) => e.spec) : [...this.agents.values()].map((a) => a.spec);
    return specs.map((spec) => {
      const agent = this.agents.get(spec.id);
      const reason = this.problem(spec, agent?.proc);
      return reason === null ? { id: spec.id, command: spec.command, ok: true } : { id: spec.id, command: spec.command, ok: false, reason };
    });
  }

  /** Create or replace an agent's spec (persisted, not started); its token is minted once and kept. */
  async upsert(input: AgentSpecInput): Promise<ManagedAgent> {
    this.owner();
    const spec = this.normalize(input);
    const existing = this.agents.get(spec.id);
    if (existing === undefined && this.agents.size >= this.opts.maxAgents) {
      throw new CarError('limit', `too many supervised agents (limit ${this.opts.maxAgents})`, { limit: this.opts.maxAgents });
    }
    const agent = existing ?? this.adopt({ spec, token: mintAgentToken() });
    const previous = agent.spec;
    agent.spec = spec;
    agent.proc.spec = spec;
    try {
      await this.persist();
    } catch (err) {
      if (existing === undefined) this.agents.delete(spec.id);
      else {
        agent.spec = previous;
        agent.proc.spec = previous;
      }
      throw err;
    }
    return this.view(agent);
  }

  /**
   * Install an agent from its manifest: every required capability must be served (or nothing is
   * installed); missing optional ones are reported.
   */
  async install(
    input: AgentSpecInput & { capabilities?: Partial<AgentCapabilities> },
    serves: (capability: string) => boolean,
  ): Promise<{ report: { missingOptional: string[] }; agent: ManagedAgent }> {
    this.owner();
    const required = input.capabilities?.required ?? [];
    const missing = required.filter((c) => !serves(c));
    if (missing.length > 0) {
      throw new CarError('unavailable', `agent '${input.id}' requires capabilities this daemon does not serve: ${missing.join(', ')}`, {
        field: 'capabilities.required',
        detail: { missing },
      });
    }
    const missingOptional = (input.capabilities?.optional ?? []).filter((c) => !serves(c));
    const { capabilities: _caps, ...spec } = input;
    return { report: { missingOptional }, agent: await this.upsert(spec) };
  }

  start(id: string): ManagedAgent {
    this.owner();
    const agent = this.find(id);
    agent.proc.start();
    return this.view(agent);
  }

  async stop(id: string, signal: 'term' | 'kill' = 'term'): Promise<ManagedAgent> {
    this.owner();
    const agent = this.find(id);
    await agent.proc.stop(signal);
    return this.view(agent);
  }

  async restart(id: string): Promise<ManagedAgent> {
    this.owner();
    const agent = this.find(id);
    await agent.proc.stop('term');
    agent.proc.start();
    return this.view(agent);
  }

  /** Resolve once the agent's status is one of `targets`; a timeout is `WaitTimeout`. */
  wait(id: string, targets: readonly ManagedStatus[], timeoutMs: number, signal?: AbortSignal): Promise<ManagedAgent> {
    this.owner();
    const agent = this.find(id);
    if (targets.includes(agent.proc.status)) return Promise.resolve(this.view(agent));
    return new Promise((resolve, reject) => {
      const proc = agent.proc;
      const cleanup = (): void => {
        clearTimeout(timer);
        proc.off('change', onChange);
        signal?.removeEventListener('abort', onAbort);
      };
      const onChange = (status: ManagedStatus): void => {
        if (!targets.includes(status)) return;
        cleanup();
        resolve(this.view(agent));
      };
      const onAbort = (): void => {
        cleanup();
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new CarError('timeout', `WaitTimeout: agent '${id}' did not reach ${targets.join('|')} within ${timeoutMs} ms (status ${proc.status})`, {
            detail: { error: 'WaitTimeout', status: proc.status },
          }),
        );
      }, timeoutMs);
      proc.on('change', onChange);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  tailLog(id: string, req: TailRequest): TailResult {
    this.owner();
    return this.find(id).logs.tail(req);
  }

  /** Stop the agent, then forget it and its token. Idempotent. */
  async remove(id: string): Promise<{ removed: boolean }> {
    this.owner();
    const agent = this.agents.get(id);
    if (agent === undefined) return { removed: false };
    await agent.proc.stop('term');
    this.agents.delete(id);
    await this.persist();
    return { removed: true };
  }

  /** Start every agent whose spec says `auto_start` (the binary calls this at boot). */
  startAutoStart(): string[] {
    if (this.open() === 'observer') return [];
    const started: string[] = [];
    for (const agent of this.agents.values()) {
      if (!agent.spec.auto_start) continue;
      agent.proc.start();
      started.push(agent.spec.id);
    }
    return started;
  }

  /** Stop every agent and release the manifest lock (the daemon is stopping). */
  async close(): Promise<void> {
    const mode = this.mode;
    if (mode === null) return;
    await Promise.all([...this.agents.values()].map((a) => a.proc.stop('term')));
    if (mode.kind === 'owner') mode.lock?.release();
    this.mode = null;
    this.agents.clear();
  }

  private owner(): void {
    const kind = this.open();
    if (kind === 'observer') {
      const mode = this.mode as { heldBy: number };
      throw new CarError('conflict', `agents are observe-only here: the manifest ${this.opts.manifestPath} is held by another daemon (pid ${mode.heldBy})`, {
        detail: { reason: 'observe-only', manifest: this.opts.manifestPath, holder_pid: mode.heldBy },
      });
    }
  }

  private find(id: string): Agent {
    const agent = this.agents.get(id);
    if (agent === undefined) throw new CarError('not_found', `NotFound: no supervised agent '${id}'`, { field: 'id', detail: { error: 'NotFound' } });
    return agent;
  }

  private adopt(entry: ManifestEntry): Agent {
    const logs = new AgentLogs(entry.spec.id, this.opts.logDir, this.opts.logTailBytes);
    const agent: Agent = {
      spec: entry.spec,
      token: entry.token,
      logs,
      proc: new AgentProcess(entry.spec, {
        stopGraceMs: this.opts.stopGraceMs,
        backoffMaxMs: this.opts.backoffMaxMs,
        logs,
        env: () => this.envFor(agent),
      }),
    };
    agent.proc.on('change', (status: ManagedStatus) => this.opts.onStatus?.(agent.spec.id, status, this.view(agent)));
    this.agents.set(entry.spec.id, agent);
    return agent;
  }

  private envFor(agent: Agent): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.opts.baseEnv)) if (v !== undefined) env[k] = v;
    Object.assign(env, agent.spec.env);
    env.CAR_AGENT_ID = agent.spec.id;
    env.CAR_AGENT_TOKEN = agent.token;
    if (this.daemonUrl !== null) env.CAR_DAEMON_URL = this.daemonUrl;
    return env;
  }

  private persist(): Promise<void> {
    return this.store.write([...this.agents.values()].map((a) => ({ spec: a.spec, token: a.token })));
  }

  private normalize(input: AgentSpecInput): AgentSpec {
    if (!AGENT_ID.test(input.id)) {
      throw new CarError('invalid', 'id may contain only letters, digits, ".", "_" and "-"', { field: 'id' });
    }
    const spec: AgentSpec = {
      id: input.id,
      name: input.name ?? input.id,
      command: input.command,
      args: input.args ?? [],
      env: input.env ?? {},
      restart: input.restart ?? SPEC_DEFAULTS.restart,
      max_restarts: input.max_restarts ?? SPEC_DEFAULTS.max_restarts,
      backoff_secs: input.backoff_secs ?? SPEC_DEFAULTS.backoff_secs,
      auto_start: input.auto_start ?? SPEC_DEFAULTS.auto_start,
    };
    if (input.cwd !== undefined) spec.cwd = input.cwd;
    if (input.interpreter !== undefined) {
      const found = resolveInterpreter(input.interpreter, this.opts.baseEnv.PATH);
      if (!('path' in found)) throw new CarError('invalid', found.reason, { field: 'interpreter' });
      spec.interpreter = found.path;
    }
    return spec;
  }

  private problem(spec: AgentSpec, proc: AgentProcess | undefined): string | null {
    if (spec.interpreter === undefined) {
      const found = findExecutable(spec.command, spec.env.PATH ?? this.opts.baseEnv.PATH);
      if (!('path' in found)) return found.reason;
    } else {
      const found = findExecutable(spec.interpreter, undefined);
      if (!('path' in found)) return found.reason;
    }
    if (spec.cwd !== undefined) {
      const bad = checkDir(spec.cwd);
      if (bad !== null) return bad;
    }
    if (proc?.status === 'errored') {
      return proc.lastError ?? `exited with code ${String(proc.lastExitCode)} and will not be restarted`;
    }
    return null;
  }

  private view(agent: Agent): ManagedAgent {
    const p = agent.proc;
    const session = this.opts.attachedSession(agent.spec.id);
    const out: ManagedAgent = { spec: agent.spec, status: p.status, restart_count: p.restartCount, attached: session !== undefined };
    if (p.pid !== undefined) out.pid = p.pid;
    if (p.lastExitCode !== undefined) out.last_exit_code = p.lastExitCode;
    if (p.startedAt !== undefined) out.started_at = p.startedAt.toISOString();
    if (p.lastError !== undefined) out.last_error = p.lastError;
    if (session !== undefined) out.session_id = session;
    return out;
  }

  private observedView(spec: AgentSpec): ManagedAgent {
    const session = this.opts.attachedSession(spec.id);
    const out: ManagedAgent = { spec, status: 'stopped', restart_count: 0, attached: session !== undefined };
    if (session !== undefined) out.session_id = session;
    return out;
  }
}

/** 32 random bytes, base64url: the same strength as the daemon token. */
export function mintAgentToken(): string {
  return randomBytes(32).toString('base64url');
}
