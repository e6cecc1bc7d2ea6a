import type { ActionResult, ProposalCost } from './types.js';
import { jsonPreview } from '../../util/json-preview.js';
import { round } from '../../util/values.js';

const PREVIEW_CHARS = 200;

/** Milliseconds with microsecond resolution. */
export function roundMs(ms: number): number {
  return round(ms, 3);
}

let isoMs = -1;
let isoText = '';

/** The current time as RFC 3339; formatted once per millisecond, however many actions settle in it. */
export function nowIso(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

/** A short text form of an output for the event log; undefined for null/absent outputs. */
export function outputPreview(output: unknown): string | undefined {
  return jsonPreview(output, PREVIEW_CHARS);
}

/** Shared by every unsettled result: settling an action always gives it its own change set. */
const UNSETTLED_CHANGES: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** A result that has not been settled yet; every action starts here. */
export function pendingResult(actionId: string): ActionResult {
  return { action_id: actionId, status: 'proposed', output: null, error: null, state_changes: UNSETTLED_CHANGES, duration_ms: 0, timestamp: '' };
}

export interface Counters {
  toolCalls: number;
  retries: number;
}

/** The cost summary, counted from the settled results. */
export function buildCost(results: readonly ActionResult[], counters: Counters, totalMs: number): ProposalCost {
  let executed = 0;
  let rejected = 0;
  let skipped = 0;
  for (let i = 0; i < results.length; i++) {
    const r = results[i] as ActionResult;
    if (r.status === 'succeeded' || r.status === 'failed') executed++;
    else if (r.status === 'rejected') rejected++;
    else if (r.status === 'skipped') skipped++;
  }
  return {
    tool_calls: counters.toolCalls,
    actions_executed: executed,
    actions_rejected: rejected,
    actions_skipped: skipped,
    total_duration_ms: roundMs(totalMs),
    retries: counters.retries,
  };
}
