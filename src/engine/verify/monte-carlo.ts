import { buildDag } from '../dag.js';
import type { Action, ActionProposal, Precondition } from '../ir.js';
import { jsonEqual } from '../json-equal.js';
import { canonicalJson } from '../../util/canonical-json.js';
import { effectsOf, type Effect } from './model.js';
import { SlotState } from './slot-state.js';
import { SplitMix64 } from './splitmix64.js';
import { VerifyInputError } from './types.js';

export const DEFAULT_TRIALS = 1000;
export const DEFAULT_SEED = 42;
export const DEFAULT_SUCCESS_RATE = 0.5;
export const MAX_TRIALS = 100_000;
/** Most trials × actions one run may walk, so one call cannot hog the event loop. */
export const MAX_TRIAL_STEPS = 10_000_000;

export interface MonteCarloConfig {
  trials?: number;
  seed?: number;
  default_success_rate?: number;
  /** Extra attempts a failing `retry`-mode tool call gets before the trial aborts. */
  retry_attempts?: number;
}

/** A tool's recorded outcomes over the rate window. */
export interface ToolHistory {
  successes: number;
  failures: number;
}

export interface MonteCarloOptions {
  initialState?: Record<string, unknown>;
  /** Caller-supplied success probability per tool; wins over history. */
  toolSuccessRates?: Record<string, number>;
  /** Keys and values the final state must hold for a trial to reach the goal. */
  goal?: Record<string, unknown>;
  /** Past outcomes per tool; turned into a rate with Laplace smoothing. */
  historicRates?: Record<string, ToolHistory>;
  /** The window `historicRates` was gathered over; echoed in the result. */
  rateWindowDays?: number;
  config?: MonteCarloConfig;
}

export type RateSource = 'caller' | 'history' | 'default';

export interface ActionOutcomeShare {
  succeeded: number;
  failed: number;
  skipped: number;
}

export interface MonteCarloResult {
  trials: number;
  seed: number;
  /** Share of trials whose final state holds the goal; null without a goal. */
  p_goal_reached: number | null;
  /** Share of trials in which every action with declared effects succeeded and nothing rolled back. */
  p_all_effects_landed: number;
  /** Mean tool calls (attempts) per trial. */
  tool_calls: number;
  /** Mean actions that ran per trial (a tool was called, or a state action executed). */
  actions_executed: number;
  /** Per key, canonical JSON of each final value → share of trials; absent keys make up the rest. */
  state_distribution: Record<string, Record<string, number>>;
  action_outcomes: Record<string, ActionOutcomeShare>;
  tool_success_rates: Record<string, number>;
  rate_provenance: Record<string, RateSource>;
  rate_window_days?: number;
}

const SUCCEEDED = 1;
const FAILED = 2;
const SKIPPED = 3;

interface Step {
  action: Action;
  index: number;
  preds: number[];
  preconditions: { p: Precondition; slot: number }[];
  effects: { slot: number; value: unknown; known: boolean }[];
  /** Success probability when it is a tool call, otherwise undefined. */
  rate: number | undefined;
}

function isRate(v: unknown): v is number {
  return typeof v === 'number' && v >= 0 && v <= 1;
}

function checkConfig(opts: MonteCarloOptions, actions: number): Required<MonteCarloConfig> {
  const c = opts.config ?? {};
  const trials = c.trials ?? DEFAULT_TRIALS;
  const seed = c.seed ?? DEFAULT_SEED;
  const rate = c.default_success_rate ?? DEFAULT_SUCCESS_RATE;
  const retries = c.retry_attempts ?? 0;
  if (!Number.isInteger(trials) || trials < 1 || trials > MAX_TRIALS) {
    throw new VerifyInputError(`trials must be an integer from 1 to ${MAX_TRIALS}`, 'config.trials');
  }
  if (trials * Math.max(1, actions) > MAX_TRIAL_STEPS) {
    throw new VerifyInputError(
      `trials × actions must stay within ${MAX_TRIAL_STEPS} (got ${trials} × ${actions})`,
      'config.trials',
    );
  }
  if (!Number.isSafeInteger(seed) || seed < 0) throw new VerifyInputError('seed must be a non-negative integer', 'config.seed');
  if (!isRate(rate)) throw new VerifyInputError('default_success_rate must be within 0..1', 'config.default_success_rate');
  if (!Number.isInteger(retries) || retries < 0) {
    throw new VerifyInputError('retry_attempts must be a non-negative integer', 'config.retry_attempts');
  }
  for (const [tool, r] of Object.entries(opts.toolSuccessRates ?? {})) {
    if (!isRate(r)) throw new VerifyInputError(`the success rate of '${tool}' must be within 0..1`, 'tool_success_rates');
  }
  return { trials, seed, default_success_rate: rate, retry_attempts: retries };
}

function rateFor(
  tool: string,
  opts: MonteCarloOptions,
  fallback: number,
): { rate: number; source: RateSource } {
  const caller = opts.toolSuccessRates;
  if (caller && Object.hasOwn(caller, tool)) return { rate: caller[tool] as number, source: 'caller' };
  const history = opts.historicRates;
  if (history && Object.hasOwn(history, tool)) {
    const h = history[tool] as ToolHistory;
    return { rate: (h.successes + 1) / (h.successes + h.failures + 2), source: 'history' };
  }
  return { rate: fallback, source: 'default' };
}

/** The success rate of every tool the proposal calls, in first-call order. */
function resolveRates(
  actions: readonly Action[],
  opts: MonteCarloOptions,
  fallback: number,
): Map<string, { rate: number; source: RateSource }> {
  const rates = new Map<string, { rate: number; source: RateSource }>();
  for (const a of actions) {
    if (a.type === 'tool_call' && a.tool !== undefined && !rates.has(a.tool)) rates.set(a.tool, rateFor(a.tool, opts, fallback));
  }
  return rates;
}

/**
 * Run the proposal many times against seeded random tool failures. Within a trial, levels run in
 * order and every action of a level sees the state the earlier levels left; the actions of a level
 * start together, so an abort stops only the levels after it. Outcomes follow the executor: a
 * failing precondition or tool call fails the action, then failure_behavior decides — `skip`
 * marks it skipped and carries on, `abort` ends the trial and rolls the state back, `retry`
 * re-rolls a failed tool call up to `retry_attempts` times before aborting. Actions waiting on
 * one that did not succeed, and everything after an abort, are skipped. As in the executor, a
 * state read of a missing key does not fail.
 */
export function monteCarlo(proposal: ActionProposal, opts: MonteCarloOptions = {}): MonteCarloResult {
  const actions = proposal.actions;
  const config = checkConfig(opts, actions.length);
  const dag = buildDag(actions);
  const indexOf = new Map(actions.map((a, i) => [a.id, i]));

  const rates = resolveRates(actions, opts, config.default_success_rate);
  const effects = actions.map(effectsOf);
  const keys = new Set<string>([...effects.flat().map((e) => e.key), ...Object.keys(opts.goal ?? {})]);
  for (const a of actions) for (const p of a.preconditions) keys.add(p.key);
  const state = new SlotState(keys, opts.initialState);
  const steps: Step[] = actions.map((action, index) => ({
    action,
    index,
    preds: [...(dag.predecessors.get(action.id) ?? [])].map((p) => indexOf.get(p) as number),
    preconditions: action.preconditions.map((p) => ({ p, slot: state.slot(p.key) })),
    effects: (effects[index] as Effect[]).map((e) => ({ slot: state.slot(e.key), value: e.value, known: e.known })),
    rate: action.type === 'tool_call' && action.tool !== undefined ? rates.get(action.tool)?.rate : undefined,
  }));
  const goal = opts.goal && Object.keys(opts.goal).length > 0
    ? Object.entries(opts.goal).map(([k, v]) => ({ slot: state.slot(k), value: v }))
    : undefined;
  const levels = dag.levels.map((level) => level.map((id) => steps[indexOf.get(id) as number] as Step));
  const withEffects = steps.filter((s) => s.effects.length > 0).map((s) => s.index);

  const rng = new SplitMix64(config.seed);
  const outcome = new Uint8Array(actions.length);
  const counts = actions.map(() => ({ succeeded: 0, failed: 0, skipped: 0 }));
  /** Per slot, final value → trials, keyed by identity (every value comes from the proposal or the initial state). */
  const finals = state.keys.map(() => new Map<unknown, number>());
  let goalHits = 0;
  let allLanded = 0;
  let toolCalls = 0;
  let executed = 0;

  for (let t = 0; t < config.trials; t++) {
    outcome.fill(0);
    state.reset();
    let aborted = false;
    for (const level of levels) {
      if (aborted) break;
      const landed: Step[] = [];
      for (const step of level) {
        const a = step.action;
        let reached = true;
        for (const p of step.preds) if (outcome[p] !== SUCCEEDED) reached = false;
        if (!reached) {
          outcome[step.index] = SKIPPED;
          continue;
        }
        let ok = true;
        for (const c of step.preconditions) if (state.judge(c.p, c.slot) === 'fails') ok = false;
        if (ok) {
          executed++;
          if (step.rate !== undefined) {
            const attempts = a.failure_behavior === 'retry' ? 1 + config.retry_attempts : 1;
            ok = false;
            for (let i = 0; i < attempts && !ok; i++) {
              toolCalls++;
              ok = rng.nextFloat() < step.rate;
            }
          }
        }
        if (ok) {
          outcome[step.index] = SUCCEEDED;
          landed.push(step);
        } else if (a.failure_behavior === 'skip') {
          outcome[step.index] = SKIPPED;
        } else {
          outcome[step.index] = FAILED;
          aborted = true;
        }
      }
      if (!aborted) for (const step of landed) for (const e of step.effects) state.apply(e.slot, e.value, e.known);
    }
    if (aborted) state.reset();
    for (let i = 0; i < outcome.length; i++) {
      const c = counts[i] as ActionOutcomeShare;
      if (outcome[i] === SUCCEEDED) c.succeeded++;
      else if (outcome[i] === FAILED) c.failed++;
      else c.skipped++;
    }
    if (!aborted && withEffects.every((i) => outcome[i] === SUCCEEDED)) allLanded++;
    if (goal && goal.every((g) => state.isKnown(g.slot) && jsonEqual(state.values[g.slot], g.value))) goalHits++;
    for (let s = 0; s < finals.length; s++) {
      if (!state.isKnown(s)) continue;
      const seen = finals[s] as Map<unknown, number>;
      const v = state.values[s];
      seen.set(v, (seen.get(v) ?? 0) + 1);
    }
  }

  const n = config.trials;
  const share = (count: number): number => count / n;
  const byKey: [string, Record<string, number>][] = [];
  finals.forEach((seen, s) => {
    if (seen.size === 0) return;
    const byText = new Map<string, number>();
    for (const [v, count] of seen) {
      const text = canonicalJson(v);
      byText.set(text, (byText.get(text) ?? 0) + count);
    }
    const texts = [...byText.keys()].sort();
    byKey.push([state.keys[s] as string, Object.fromEntries(texts.map((text) => [text, share(byText.get(text) as number)]))]);
  });
  byKey.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const result: MonteCarloResult = {
    trials: n,
    seed: config.seed,
    p_goal_reached: goal ? share(goalHits) : null,
    p_all_effects_landed: share(allLanded),
    tool_calls: share(toolCalls),
    actions_executed: share(executed),
    state_distribution: Object.fromEntries(byKey),
    action_outcomes: Object.fromEntries(
      actions.map((a, i) => {
        const c = counts[i] as ActionOutcomeShare;
        return [a.id, { succeeded: share(c.succeeded), failed: share(c.failed), skipped: share(c.skipped) }];
      }),
    ),
    tool_success_rates: Object.fromEntries([...rates].map(([tool, r]) => [tool, r.rate])),
    rate_provenance: Object.fromEntries([...rates].map(([tool, r]) => [tool, r.source])),
  };
  if (opts.rateWindowDays !== undefined) result.rate_window_days = opts.rateWindowDays;
  return result;
}
