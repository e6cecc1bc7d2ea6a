import { RECORD_TURNS_USAGE, RUN_LIMITS, RunError, type RunTurn } from './types.js';
import { isObject } from '../../util/values.js';

const TRUNCATED = '…[truncated]';
const TURN_TOO_LARGE = `…[truncated: turn exceeded ${RUN_LIMITS.maxTurnBytes / 1024} KiB]`;
const STRING_FIELDS = ['prompt', 'tool', 'verifier_verdict'] as const;
const BULKY_FIELDS = ['prompt', 'tool', 'parameters', 'output', 'cli_outcome', 'policy_rejected'] as const;

/** A turn as the client sent it, validated but not yet stamped. */
export type TurnInput = Omit<RunTurn, 'index' | 'recorded_at'>;

/** Cut a string to the per-field limit (never splitting a surrogate pair), marking the cut. */
export function truncateString(s: string, max: number = RUN_LIMITS.maxStringChars): string {
  if (s.length <= max) return s;
  let end = max;
  const code = s.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return s.slice(0, end) + TRUNCATED;
}

/** Every string inside a JSON value truncated to the per-field limit. */
function truncateDeep(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return truncateString(v);
  if (depth > 64 || typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map((x) => truncateDeep(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = truncateDeep(x, depth + 1);
  return out;
}

/**
 * Validate the `turns` of one `runs.record_turns` call and apply the size limits: every string
 * truncated to ~16 KB, and a turn still over 256 KiB keeps only a marker in its bulky fields.
 * Throws RunError('invalid_turns') with the usage message on any malformed input.
 */
export function readTurns(raw: unknown): TurnInput[] {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > RUN_LIMITS.maxTurnsPerBatch) {
    throw new RunError('invalid_turns', RECORD_TURNS_USAGE);
  }
  return raw.map(readTurn);
}

function readTurn(raw: unknown): TurnInput {
  if (!isObject(raw)) throw new RunError('invalid_turns', RECORD_TURNS_USAGE);
  for (const key of STRING_FIELDS) {
    if (raw[key] !== undefined && typeof raw[key] !== 'string') throw new RunError('invalid_turns', RECORD_TURNS_USAGE);
  }
  if (raw.index !== undefined && typeof raw.index !== 'number') throw new RunError('invalid_turns', RECORD_TURNS_USAGE);
  const turn: TurnInput = { verifier_verdict: 'not_run' };
  if (raw.prompt !== undefined) turn.prompt = truncateString(raw.prompt as string);
  if (raw.tool !== undefined) turn.tool = truncateString(raw.tool as string);
  if (raw.parameters !== undefined) turn.parameters = truncateDeep(raw.parameters);
  if (raw.output !== undefined) turn.output = truncateDeep(raw.output);
  if (raw.cli_outcome !== undefined) turn.cli_outcome = truncateDeep(raw.cli_outcome);
  if (raw.verifier_verdict !== undefined) turn.verifier_verdict = truncateString(raw.verifier_verdict as string);
  if (raw.policy_rejected !== undefined) turn.policy_rejected = truncateDeep(raw.policy_rejected);
  if (Buffer.byteLength(JSON.stringify(turn), 'utf8') > RUN_LIMITS.maxTurnBytes) {
    for (const key of BULKY_FIELDS) if (turn[key] !== undefined) turn[key] = TURN_TOO_LARGE;
  }
  return turn;
}

/** True when a turn is still over the per-turn limit after the field replacement. */
export function turnTooLarge(turn: TurnInput): boolean {
  return Buffer.byteLength(JSON.stringify(turn), 'utf8') > RUN_LIMITS.maxTurnBytes;
}
