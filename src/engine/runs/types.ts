import { CarError, type CarErrorKind } from '../../util/errors.js';

/** `in_progress` until `runs.complete` (→ completed) or a dropped connection (→ incomplete). */
export type RunStatus = 'in_progress' | 'completed' | 'incomplete';

export interface RunOutcome {
  status: string;
  summary?: string;
  evidence?: unknown[];
  metrics?: Record<string, unknown>;
  timestamp?: string | number;
}

/** One stored turn; `index` is stamped by the store, never taken from the client. */
export interface RunTurn {
  index: number;
  prompt?: string;
  tool?: string;
  parameters?: unknown;
  output?: unknown;
  cli_outcome?: unknown;
  verifier_verdict: string;
  policy_rejected?: unknown;
  recorded_at: string;
}

export interface StartedRecord {
  kind: 'started';
  run_id: string;
  agent_id: string;
  intent: string;
  outcome_description?: string;
  started_at: string;
}

export interface TurnRecord extends RunTurn {
  kind: 'turn';
}

export interface EndedRecord {
  kind: 'ended';
  status: Exclude<RunStatus, 'in_progress'>;
  outcome: RunOutcome;
  ended_at: string;
}

/** One line of a run's JSONL file. */
export type RunRecord = StartedRecord | TurnRecord | EndedRecord;

export interface RunSummary {
  run_id: string;
  agent_id: string;
  intent: string;
  started_at: string;
  ended_at?: string;
  status: RunStatus;
  turn_count: number;
}

/** Why `recordTurns` refused a batch. */
export type DropReason = 'run_not_found' | 'run_terminal' | 'run_turn_limit' | 'turn_too_large';

export type RecordTurnsResult =
  | { run_id: string; base_index: number; count: number; ok: true }
  | { run_id: string; base_index: 0; count: 0; ok: false; dropped: DropReason };

/** `runs.trace.event` params. `cursor` counts the turns stored so far. */
export interface TraceEvent {
  run_id: string;
  agent_id: string;
  record: RunRecord;
  cursor: number;
  status: RunStatus;
}

export interface TraceSnapshot {
  run_id: string;
  agent_id: string;
  turns_so_far: TurnRecord[];
  cursor: number;
  status: RunStatus;
}

export type RunErrorReason = 'no_identity' | 'not_found' | 'terminal' | 'invalid_turns' | 'storage' | 'conflict';

const RUN_ERROR_KINDS: Readonly<Record<RunErrorReason, CarErrorKind>> = {
  no_identity: 'invalid',
  not_found: 'not_found',
  terminal: 'conflict',
  invalid_turns: 'invalid',
  storage: 'unavailable',
  conflict: 'conflict',
};

export class RunError extends CarError {
  constructor(
    readonly reason: RunErrorReason,
    message: string,
  ) {
    // The record_turns usage line is the protocol's own wording, sent as is.
    super(RUN_ERROR_KINDS[reason], message, { verbatim: reason === 'invalid_turns' });
    this.name = 'RunError';
  }
}

export const RUN_LIMITS = {
  /** Characters kept of one string before `…[truncated]` is appended. */
  maxStringChars: 16 * 1024,
  maxTurnBytes: 256 * 1024,
  maxTurnsPerBatch: 256,
  maxTurnsPerRun: 2000,
} as const;

export const RECORD_TURNS_USAGE = 'runs.record_turns requires { run_id, turns: [RunTurn] }';
