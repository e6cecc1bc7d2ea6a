import { randomUUID } from 'node:crypto';
import { RunFiles, sortNewestFirst, statusOf, summarize } from './run-files.js';
import { readTurns, turnTooLarge } from './turns.js';
import {
  RUN_LIMITS,
  RunError,
  type EndedRecord,
  type RecordTurnsResult,
  type RunOutcome,
  type RunRecord,
  type RunStatus,
  type RunSummary,
  type StartedRecord,
  type TraceEvent,
  type TraceSnapshot,
  type TurnRecord,
} from './types.js';

/** Delivers one event to a subscriber without blocking; false when its channel was full (the event is lost). */
export type TraceSink = (event: TraceEvent) => boolean;

/** Finished runs kept in memory by default. */
export const DEFAULT_FINISHED_IN_MEMORY = 1000;

export interface RunStoreOptions {
  /** Root of the JSONL traces; null keeps runs in memory only. */
  runsDir: string | null;
  /** How long an open run outlives its connection before it is ended `incomplete`. */
  completeGraceMs: number;
  /** Finished runs kept in memory (for `get_trace` without a runs dir); oldest evicted first. */
  maxFinishedInMemory?: number;
  onError?: (err: unknown, runId: string) => void;
}

export interface StartInput {
  intent: string;
  agentId: string;
  outcomeDescription?: string;
  idempotencyKey?: string;
  /** The connection starting it: its drop ends the run `incomplete` after the grace. */
  clientId: string;
}

interface LiveRun {
  readonly started: StartedRecord;
  readonly turns: TurnRecord[];
  ended: EndedRecord | null;
  clientId: string | null;
  readonly subscribers: Map<string, TraceSink>;
  /** The tail of this run's ordered disk appends. */
  write: Promise<void>;
}

const now = (): string => new Date().toISOString();

/**
 * Durable run traces: `started`, then turns, then `ended`, appended in order and fsynced per
 * record; live runs are in memory, finished ones are read back from disk. Knows nothing of
 * sockets: subscribers are sinks, callers are ids.
 */
export class RunStore {
  private readonly runs = new Map<string, LiveRun>();
  private readonly finishedOrder: string[] = [];
  private readonly starting = new Map<string, Promise<{ run_id: string; agent_id: string }>>();
  private readonly graceTimers = new Map<ReturnType<typeof setTimeout>, string>();
  private readonly files: RunFiles | null;
  private readonly maxFinished: number;

  constructor(private readonly options: RunStoreOptions) {
    this.files = options.runsDir === null ? null : new RunFiles(options.runsDir);
    this.maxFinished = options.maxFinishedInMemory ?? DEFAULT_FINISHED_IN_MEMORY;
  }

  /**
   * Start a run, or return the existing one when `idempotencyKey` names a known run of the same
   * agent. A key naming another agent's run is refused without saying whose it is.
   */
  async start(input: StartInput): Promise<{ run_id: string; agent_id: string }> {
    const key = input.idempotencyKey;
    if (key === undefined) return this.create(randomUUID(), input);
    const existing = this.runs.get(key);
    if (existing) return this.sameAgent(key, existing.started.agent_id, input);
    const pending = this.starting.get(key);
    if (pending) return pending.then((r) => this.sameAgent(key, r.agent_id, input));
    const p = this.startKeyed(key, input).finally(() => this.starting.delete(key));
    this.starting.set(key, p);
    return p;
  }

  private async startKeyed(runId: string, input: StartInput): Promise<{ run_id: string; agent_id: string }> {
    const found = this.files === null ? null : await this.files.find(runId);
    if (found === null) return this.create(runId, input);
    const result = this.sameAgent(runId, found.agentId, input);
    if (!this.runs.has(runId)) this.revive(found.records, input.clientId);
    return result;
  }

  private sameAgent(runId: string, agentId: string, input: StartInput): { run_id: string; agent_id: string } {
    if (agentId !== input.agentId) {
      throw new RunError('conflict', `idempotency_key '${runId}' already names a run of another agent; pick another key`);
    }
    return { run_id: runId, agent_id: agentId };
  }

  /** Bring a run read from disk back into memory; a finished one stays on disk only. */
  private revive(records: RunRecord[], clientId: string): LiveRun | null {
    const started = records[0];
    if (started?.kind !== 'started' || statusOf(records) !== 'in_progress') return null;
    const run: LiveRun = {
      started,
      turns: records.filter((r): r is TurnRecord => r.kind === 'turn'),
      ended: null,
      clientId,
      subscribers: new Map(),
      write: Promise.resolve(),
    };
    this.runs.set(started.run_id, run);
    return run;
  }

  private async create(runId: string, input: StartInput): Promise<{ run_id: string; agent_id: string }> {
    const started: StartedRecord = { kind: 'started', run_id: runId, agent_id: input.agentId, intent: input.intent, started_at: now() };
    if (input.outcomeDescription !== undefined) started.outcome_description = input.outcomeDescription;
    const run: LiveRun = { started, turns: [], ended: null, clientId: input.clientId, subscribers: new Map(), write: Promise.resolve() };
    this.runs.set(runId, run);
    await this.persist(run, [started]);
    return { run_id: runId, agent_id: input.agentId };
  }

  /**
   * Who may write to a live run: only a caller bound to the run's agent. The connection that
   * started it has no say of its own, and unbound (or host) sessions none at all.
   */
  isOwner(runId: string, caller: { agentId: string | null; clientId: string }): boolean {
    const run = this.runs.get(runId);
    if (!run) return false;
    return caller.agentId !== null && caller.agentId === run.started.agent_id;
  }

  /**
   * Append turns (validated and truncated; indexes stamped here). Non-owners get `run_not_found`,
   * as if the run did not exist. Throws RunError('invalid_turns') on malformed input.
   */
  async recordTurns(runId: string, rawTurns: unknown, caller: { agentId: string | null; clientId: string }): Promise<RecordTurnsResult> {
    const inputs = readTurns(rawTurns);
    const refuse = (dropped: 'run_not_found' | 'run_terminal' | 'run_turn_limit' | 'turn_too_large'): RecordTurnsResult =>
      ({ run_id: runId, base_index: 0, count: 0, ok: false, dropped });
    const run = this.runs.get(runId);
    if (!run || !this.isOwner(runId, caller)) return refuse('run_not_found');
    if (run.ended !== null) return refuse('run_terminal');
    if (run.turns.length + inputs.length > RUN_LIMITS.maxTurnsPerRun) return refuse('run_turn_limit');
    if (inputs.some(turnTooLarge)) return refuse('turn_too_large');
    const base = run.turns.length;
    const at = now();
    const records = inputs.map((t, i): TurnRecord => ({ kind: 'turn', index: base + i, ...t, recorded_at: at }));
    for (const record of records) {
      run.turns.push(record);
      this.fanOut(run, record);
    }
    await this.persist(run, records);
    return { run_id: runId, base_index: base, count: records.length, ok: true };
  }

  /** End a run `completed`, as its owner. Unknown, not the caller's (told apart from unknown by no one) or already ended → RunError. */
  async complete(runId: string, outcome: RunOutcome, caller: { agentId: string | null; clientId: string }): Promise<{ run_id: string; ok: true }> {
    let run = this.runs.get(runId);
    if (!run && this.files !== null) {
      // A run left open by a daemon that died is its owner's to end after a restart.
      const found = await this.files.find(runId);
      if (found !== null && found.agentId === caller.agentId && statusOf(found.records) === 'in_progress') {
        run = this.runs.get(runId) ?? this.revive(found.records, caller.clientId) ?? undefined;
      }
    }
    if (run && !this.isOwner(runId, caller)) throw new RunError('not_found', `run '${runId}' not found`);
    if (!run) {
      const onDisk = this.files === null ? null : await this.files.find(runId);
      if (onDisk !== null && statusOf(onDisk.records) !== 'in_progress') {
        throw new RunError('terminal', `run '${runId}' has already ended`);
      }
      throw new RunError('not_found', `run '${runId}' not found`);
    }
    if (run.ended !== null) throw new RunError('terminal', `run '${runId}' has already ended`);
    await this.end(run, 'completed', outcome);
    return { run_id: runId, ok: true };
  }

  private async end(run: LiveRun, status: 'completed' | 'incomplete', outcome: RunOutcome): Promise<void> {
    const ended: EndedRecord = { kind: 'ended', status, outcome, ended_at: now() };
    run.ended = ended;
    this.fanOut(run, ended);
    run.subscribers.clear();
    this.finishedOrder.push(run.started.run_id);
    while (this.finishedOrder.length > this.maxFinished) this.runs.delete(this.finishedOrder.shift()!);
    await this.persist(run, [ended]);
  }

  private fanOut(run: LiveRun, record: RunRecord): void {
    const event: TraceEvent = {
      run_id: run.started.run_id,
      agent_id: run.started.agent_id,
      record,
      cursor: run.turns.length,
      status: statusOfRun(run),
    };
    for (const sink of run.subscribers.values()) sink(event);
  }

  private persist(run: LiveRun, records: RunRecord[]): Promise<void> {
    const files = this.files;
    if (files === null) return Promise.resolve();
    const { agent_id, run_id } = run.started;
    const done = run.write.then(() => files.append(agent_id, run_id, records));
    run.write = done.catch((err) => this.options.onError?.(err, run_id));
    return done.catch((err) => {
      // The file system's message names the file; the caller gets the error code only.
      const code = (err as NodeJS.ErrnoException).code ?? 'I/O error';
      throw new RunError('storage', `run '${run_id}' could not be written (${code})`);
    });
  }

  /** The agent a run belongs to, from memory or disk; null when unknown. */
  async agentOf(runId: string): Promise<string | null> {
    const run = this.runs.get(runId);
    if (run) return run.started.agent_id;
    return (await this.files?.find(runId))?.agentId ?? null;
  }

  /**
   * Snapshot a run and register `sink` for what follows, in one step (nothing can land between
   * them). A run no longer live gets its stored snapshot and no registration. Null when unknown.
   */
  async subscribe(runId: string, subscriberId: string, sink: TraceSink): Promise<TraceSnapshot | null> {
    const run = this.runs.get(runId);
    if (run) {
      if (run.ended === null) run.subscribers.set(subscriberId, sink);
      return { run_id: runId, agent_id: run.started.agent_id, turns_so_far: [...run.turns], cursor: run.turns.length, status: statusOfRun(run) };
    }
    const found = await this.files?.find(runId);
    if (!found) return null;
    const turns = found.records.filter((r): r is TurnRecord => r.kind === 'turn');
    return { run_id: runId, agent_id: found.agentId, turns_so_far: turns, cursor: turns.length, status: statusOf(found.records) };
  }

  unsubscribe(runId: string, subscriberId: string): boolean {
    return this.runs.get(runId)?.subscribers.delete(subscriberId) ?? false;
  }

  /** Runs of one agent, newest first (from disk when there is a runs dir). */
  async list(agentId: string): Promise<RunSummary[]> {
    if (this.files !== null) return this.files.list(agentId);
    const out: RunSummary[] = [];
    for (const run of this.runs.values()) {
      if (run.started.agent_id === agentId) out.push(summarize(recordsOf(run))!);
    }
    return sortNewestFirst(out);
  }

  /** Every record of a run from `cursor` (a record offset) on; null when unknown. */
  async trace(runId: string, cursor = 0): Promise<{ agent_id: string; records: RunRecord[]; cursor: number } | null> {
    const run = this.runs.get(runId);
    let records: RunRecord[];
    let agentId: string;
    if (run) {
      await run.write;
      records = recordsOf(run);
      agentId = run.started.agent_id;
    } else {
      const found = await this.files?.find(runId);
      if (!found) return null;
      records = found.records;
      agentId = found.agentId;
    }
    return { agent_id: agentId, records: records.slice(Math.max(0, cursor)), cursor: records.length };
  }

  /** A connection dropped: its open runs end `incomplete` unless completed within the grace. */
  connectionClosed(clientId: string): void {
    let open = false;
    for (const run of this.runs.values()) {
      for (const id of [...run.subscribers.keys()]) if (id === clientId) run.subscribers.delete(id);
      if (run.clientId === clientId && run.ended === null) open = true;
    }
    if (!open) return;
    const timer = setTimeout(() => {
      this.graceTimers.delete(timer);
      this.endAbandoned(clientId);
    }, this.options.completeGraceMs);
    this.graceTimers.set(timer, clientId);
  }

  private endAbandoned(clientId: string): Promise<unknown> {
    const ends: Promise<void>[] = [];
    for (const run of [...this.runs.values()]) {
      if (run.clientId !== clientId || run.ended !== null) continue;
      const outcome: RunOutcome = { status: 'incomplete', summary: 'the connection closed before runs.complete', timestamp: now() };
      ends.push(this.end(run, 'incomplete', outcome).catch((err) => this.options.onError?.(err, run.started.run_id)));
    }
    return Promise.all(ends);
  }

  /**
   * At boot: every stored run left `in_progress` by a daemon that is gone is ended `incomplete`,
   * with the reason. Returns how many were closed.
   */
  async recoverOrphans(): Promise<number> {
    if (this.files === null) return 0;
    let closed = 0;
    for await (const { agentId, runId } of this.files.unfinished()) {
      if (this.runs.has(runId)) continue;
      const ended: EndedRecord = {
        kind: 'ended',
        status: 'incomplete',
        outcome: { status: 'incomplete', summary: 'the daemon stopped before the run ended (found open at start)', timestamp: now() },
        ended_at: now(),
      };
      try {
        await this.files.append(agentId, runId, [ended]);
        closed++;
      } catch (err) {
        this.options.onError?.(err, runId);
      }
    }
    return closed;
  }

  /**
   * Shutdown: every run still open is ended `incomplete` now, whatever its connection is doing
   * (abandoned ones without waiting for their grace); pending writes finish.
   */
  async close(): Promise<void> {
    for (const timer of this.graceTimers.keys()) clearTimeout(timer);
    this.graceTimers.clear();
    const ends: Promise<void>[] = [];
    for (const run of [...this.runs.values()]) {
      if (run.ended !== null) continue;
      const outcome: RunOutcome = { status: 'incomplete', summary: 'the daemon stopped before runs.complete', timestamp: now() };
      ends.push(this.end(run, 'incomplete', outcome).catch((err) => this.options.onError?.(err, run.started.run_id)));
    }
    await Promise.all(ends);
    await Promise.all([...this.runs.values()].map((r) => r.write));
  }
}

function statusOfRun(run: LiveRun): RunStatus {
  return run.ended?.status ?? 'in_progress';
}

function recordsOf(run: LiveRun): RunRecord[] {
  return run.ended === null ? [run.started, ...run.turns] : [run.started, ...run.turns, run.ended];
}

export { RunError };
