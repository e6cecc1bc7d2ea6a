/**
 * How the executor may re-plan a proposal that failed (or, optionally, was rejected): up to
 * `max_replans` new attempts, `delay_ms` apart, each optionally checked by `verify` before it
 * runs. Stored per session by `replan.set_config`; re-planning needs a model to write the new
 * proposal, so nothing acts on it until inference is wired in.
 */
export interface ReplanConfig {
  /** 0 turns re-planning off. */
  max_replans: number;
  delay_ms: number;
  verify_before_execute: boolean;
  replan_on_rejected: boolean;
}

export const DEFAULT_REPLAN_CONFIG: Readonly<ReplanConfig> = Object.freeze({
  max_replans: 0,
  delay_ms: 0,
  verify_before_execute: false,
  replan_on_rejected: false,
});

/** Upper bounds that keep a misconfigured client from parking a session for days. */
export const MAX_REPLANS = 100;
export const MAX_REPLAN_DELAY_MS = 10 * 60 * 1000;
