import { buildDag } from '../dag.js';
import type { Action, ActionProposal, Precondition } from '../ir.js';
import { canonicalJson } from '../../util/canonical-json.js';
import { goalHolds, goalKeys, parseGoal, underivable, type Goal } from './goal.js';
import { effectsOf, type Effect } from './model.js';
import { SlotState } from './slot-state.js';
import { SplitMix64 } from './splitmix64.js';
import { VerifyInputError } from './types.js';

export const DEFAULT_TRIALS = 1000;
export const DEFAULT_SEED = 42;
export const DEFAULT_SUCCESS_RATE = 0.5;
export const DEFAULT_RATE_WINDOW_DAYS = 30;
export const MAX_TRIALS = 100_000;
/** Most trials × actions one run may walk, so one call cannot hog the event loop. */
export const MAX_TRIAL_STEPS = 10_000_000;

export interface MonteCarloConfig {
  trials?: number;
  seed?: number;
  default_success_rate?: number;
  /** Extra independent draws every dispatched tool call gets before it counts as failed. */
  retry_attempts?: number;
}

/** A tool's dispatch-conditional counts over the rate window. */
export interface ToolHistory {
  succeeded: number;
  dispatched: number;
}

/** Why an action can never run, decided before the simulation (a policy denial, the permission gate). */
export interface Block {
  gate: 'policy' | 'permission';
  reason: string;
}

export interface MonteCarloOptions {
  initialState?: Record<string, unknown>;
  /** Caller-supplied success probability per tool (clamped to 0..1); merges over the history per tool. */
  toolSuccessRates?: Record<string, number>;
  /** A GoalCondition (or a flat `{key: value}` map) the final state of a trial must satisfy. */
  goal?: unknown;
  /** Past dispatch outcomes per tool; turned into a rate with Laplace smoothing. Null: no history kept. */
  history?: ReadonlyMap<string, ToolHistory> | null;
  /** The window `history` was gathered over; echoed in `rate_provenance`. */
  rateWindowDays?: number;
  /** Whether an outcome history is kept at all (default: whether `history` was given). */
  trajectoriesAvailable?: boolean;
  /** Actions rejected before dispatch in every trial, by id. */
  blocked?: ReadonlyMap<string, Block>;
  /** The whole proposal is refused before any action runs (the permission gate): every action is rejected. */
  proposalBlock?: Block;
  /** A policy check on the state a trial reached, for actions the static `blocked` cannot decide. */
  policyCheck?: (action: Action, state: Record<string, unknown>) => string | null;
  config?: MonteCarloConfig;
}

export type RateSource = 'caller' | 'trajectories' | 'default';

export interface Distribution {
  mean: number;
  min: number;
  p50: number;
  p95: number;
  max: number;
}

export interface ActionOutcome {
  action_id: string;
  /** Never dispatched: a dependency did not land, or a policy or the permission gate refused it. */
  p_rejected: number;
  /** Dispatched (or its precondition checked) and failed. */
  p_failed: number;
  /** Succeeded and its effects stayed (no later abort rolled them back). */
  p_effects_landed: number;
  /** In the trials where it failed: the mean number of its transitive dependents rejected. */
  mean_blast_radius: number;
  p_succeeded: number;
  /** Not reached at all: an earlier abort ended the trial first. */
  p_skipped: number;
  blocked_by?: Block;
}

export interface StateValueShare {
  value: unknown;
  probability: number;
}

export interface StateKeyDistribution {
  key: string;
  p_present: number;
  values: StateValueShare[];
}

export interface ToolRate {
  tool: string;
  rate: number;
  source: RateSource;
  succeeded: number | null;
  dispatched: number | null;
}

export interface RateProvenance {
  window_days: number;
  trajectories_available: boolean;
  overridden_by_caller: string[];
  tools: ToolRate[];
}

export interface MonteCarloResult {
  trials: number;
  seed: number;
  /** Share of trials whose final state satisfies the goal; null without a goal. */
  p_goal_reached: number | null;
  goal_underivable_conditions: string[];
  /** Share of trials in which every action with declared effects succeeded and nothing rolled back. */
  p_all_effects_landed: number;
  /** Tool dispatch attempts per trial, retries included. */
  tool_calls: Distribution;
  /** Actions that ran per trial (a tool was called, or a state action executed). */
  actions_executed: Distribution;
  state_distribution: StateKeyDistribution[];
  action_outcomes: ActionOutcome[];
  rate_provenance: RateProvenance;
  /** Each tool's rate, as in `rate_provenance.tools`. */
  tool_success_rates: Record<string, number>;
}

const SUCCEEDED = 1;
const FAILED = 2;
const REJECTED = 3;

interface Step {
  action: Action;
  index: number;
  preds: number[];
  preconditions: { p: Precondition; slot: number }[];
  effects: { slot: number; value: unknown; known: boolean }[];
  /** Success probability when it is a tool call, otherwise undefined. */
  rate: number | undefined;
  blocked: Block | undefined;
}

function isRate(v: unknown): v is number {
  return typeof v === 'number' && v >= 0 && v <= 1;
}

const clamp = (r: number): number => (Number.isNaN(r) ? 0 : Math.min(1, Math.max(0, r)));

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
    throw new VerifyInputError(`trials × actions must stay within ${MAX_TRIAL_STEPS} (got ${trials} × ${actions})`, 'config.trials');
  }
  if (!Number.isSafeInteger(seed) || seed < 0) throw new VerifyInputError('seed must be a non-negative integer', 'config.seed');
  if (!isRate(rate)) throw new VerifyInputError('default_success_rate must be within 0..1', 'config.default_success_rate');
  if (!Number.isInteger(retries) || retries < 0) {
    throw new VerifyInputError('retry_attempts must be a non-negative integer', 'config.retry_attempts');
  }
  return { trials, seed, default_success_rate: rate, retry_attempts: retries };
}

/** The rate of every tool the proposal calls, in first-call order, with where it came from. */
function resolveRates(actions: readonly Action[], opts: MonteCarloOptions, fallback: number): Map<string, ToolRate> {
  const rates = new Map<string, ToolRate>();
  const caller = opts.toolSuccessRates ?? {};
  for (const a of actions) {
    if (a.type !== 'tool_call' || a.tool === undefined || rates.has(a.tool)) continue;
    const h = opts.history?.get(a.tool);
    const counts = { succeeded: h?.succeeded ?? null, dispatched: h?.dispatched ?? null };
    if (Object.hasOwn(caller, a.tool)) rates.set(a.tool, { tool: a.tool, rate: clamp(caller[a.tool] as number), source: 'caller', ...counts });
    else if (h !== undefined && h.dispatched > 0) {
      rates.set(a.tool, { tool: a.tool, rate: (h.succeeded + 1) / (h.dispatched + 2), source: 'trajectories', ...counts });
    } else rates.set(a.tool, { tool: a.tool, rate: fallback, source: 'default', ...counts });
  }
  return rates;
}

function distribution(samples: Uint32Array): Distribution {
  const n = samples.length;
  const sorted = samples.slice().sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const rank = (p: number): number => sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))] as number;
  return { mean: sum / n, min: sorted[0] as number, p50: rank(0.5), p95: rank(0.95), max: sorted[n - 1] as number };
}

/** For each action, the indices of every action that depends on it, directly or not. */
function transitiveDependents(steps: readonly Step[]): number[][] {
  const direct = steps.map(() => [] as number[]);
  for (const s of steps) for (const p of s.preds) direct[p]!.push(s.index);
  return steps.map((s) => {
    const seen = new Set<number>();
    const stack = [...direct[s.index]!];
    while (stack.length > 0) {
      const i = stack.pop()!;
      if (seen.has(i)) continue;
      seen.add(i);
      stack.push(...direct[i]!);
    }
    return [...seen];
  });
}

/**
 * Run the proposal many times against seeded random tool failures. Within a trial, levels run in
 * order and every action of a level sees the state the earlier levels left; the actions of a level
 * start together, so an abort stops only the levels after it. Outcomes follow the executor: an
 * action whose dependency did not land, or that a policy or the permission gate refuses, is
 * rejected without dispatch; a failing precondition or tool call (after `retry_attempts` extra
 * draws) fails it; then failure_behavior decides — `skip` carries on, anything else ends the trial
 * and rolls the state back. As in the executor, a state read of a missing key does not fail.
 */
export function monteCarlo(proposal: ActionProposal, opts: MonteCarloOptions = {}): MonteCarloResult {
  const actions = proposal.actions;
  const config = checkConfig(opts, actions.length);
  const dag = buildDag(actions);
  const indexOf = new Map(actions.map((a, i) => [a.id, i]));

  const rates = resolveRates(actions, opts, config.default_success_rate);
  const goal: Goal | undefined = opts.goal === undefined || opts.goal === null ? undefined : parseGoal(opts.goal);
  const effects = actions.map(effectsOf);
  const keys = new Set<string>([...effects.flat().map((e) => e.key), ...(goal ? goalKeys(goal) : [])]);
  for (const a of actions) for (const p of a.preconditions) keys.add(p.key);
  const state = new SlotState(keys, opts.initialState);
  const steps: Step[] = actions.map((action, index) => ({
    action,
    index,
    preds: [...(dag.predecessors.get(action.id) ?? [])].map((p) => indexOf.get(p) as number),
    preconditions: action.preconditions.map((p) => ({ p, slot: state.slot(p.key) })),
    effects: (effects[index] as Effect[]).map((e) => ({ slot: state.slot(e.key), value: e.value, known: e.known })),
    rate: action.type === 'tool_call' && action.tool !== undefined ? rates.get(action.tool)?.rate : undefined,
    blocked: opts.proposalBlock ?? opts.blocked?.get(action.id),
  }));
  const dependents = transitiveDependents(steps);
  const levels = dag.levels.map((level) => level.map((id) => steps[indexOf.get(id) as number] as Step));
  const withEffects = steps.filter((s) => s.effects.length > 0).map((s) => s.index);
  const holds = (p: Precondition): boolean => state.judge(p, state.slot(p.key)) === 'holds';
  const record = (): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    state.keys.forEach((k, s) => {
      if (state.isKnown(s)) out[k] = state.values[s];
    });
    return out;
  };

  const rng = new SplitMix64(config.seed);
  const outcome = new Uint8Array(actions.length);
  const landed = new Uint8Array(actions.length);
  const counts = actions.map(() => ({ succeeded: 0, failed: 0, rejected: 0, landed: 0, blast: 0 }));
  /** Per slot, final value → trials, keyed by identity (every value comes from the proposal or the initial state). */
  const finals = state.keys.map(() => new Map<unknown, number>());
  const present = new Uint32Array(state.keys.length);
  const callsPerTrial = new Uint32Array(config.trials);
  const executedPerTrial = new Uint32Array(config.trials);
  let goalHits = 0;
  let allLanded = 0;

  for (let t = 0; t < config.trials; t++) {
    outcome.fill(0);
    landed.fill(0);
    state.reset();
    let aborted = false;
    let calls = 0;
    let executed = 0;
    if (opts.proposalBlock !== undefined) outcome.fill(REJECTED);
    for (const level of levels) {
      if (aborted || opts.proposalBlock !== undefined) break;
      const done: Step[] = [];
      for (const step of level) {
        const a = step.action;
        let reached = true;
        for (const p of step.preds) if (outcome[p] !== SUCCEEDED) reached = false;
        let refused = !reached || step.blocked !== undefined;
        if (!refused && opts.policyCheck !== undefined && opts.policyCheck(a, record()) !== null) refused = true;
        if (refused) {
          outcome[step.index] = REJECTED;
          // A refusal by a gate is the executor's rejection: it aborts unless the action may be skipped.
          if (reached && a.failure_behavior !== 'skip') aborted = true;
          continue;
        }
        let ok = true;
        for (const c of step.preconditions) if (state.judge(c.p, c.slot) === 'fails') ok = false;
        if (ok) {
          executed++;
          if (step.rate !== undefined) {
            ok = false;
            for (let i = 0; i <= config.retry_attempts && !ok; i++) {
              calls++;
              ok = rng.nextFloat() < step.rate;
            }
          }
        }
        if (ok) {
          outcome[step.index] = SUCCEEDED;
          done.push(step);
        } else {
          outcome[step.index] = FAILED;
          if (a.failure_behavior !== 'skip') aborted = true;
        }
      }
      if (!aborted) {
        for (const step of done) {
          for (const e of step.effects) state.apply(e.slot, e.value, e.known);
          landed[step.index] = 1;
        }
      }
    }
    if (aborted) {
      state.reset();
      landed.fill(0);
    }
    callsPerTrial[t] = calls;
    executedPerTrial[t] = executed;
    for (let i = 0; i < outcome.length; i++) {
      const c = counts[i]!;
      if (outcome[i] === SUCCEEDED) c.succeeded++;
      else if (outcome[i] === REJECTED) c.rejected++;
      else if (outcome[i] === FAILED) {
        c.failed++;
        for (const d of dependents[i]!) if (outcome[d] === REJECTED) c.blast++;
      }
      if (landed[i] === 1) c.landed++;
    }
    if (!aborted && withEffects.every((i) => outcome[i] === SUCCEEDED)) allLanded++;
    if (goal && goalHolds(goal, holds)) goalHits++;
    for (let s = 0; s < finals.length; s++) {
      if (!state.has(s)) continue;
      present[s]!++;
      if (!state.isKnown(s)) continue;
      const seen = finals[s] as Map<unknown, number>;
      const v = state.values[s];
      seen.set(v, (seen.get(v) ?? 0) + 1);
    }
  }

  const n = config.trials;
  const share = (count: number): number => count / n;
  const byKey: StateKeyDistribution[] = [];
  finals.forEach((seen, s) => {
    if (present[s] === 0) return;
    const byText = new Map<string, { value: unknown; count: number }>();
    for (const [v, count] of seen) {
      const text = canonicalJson(v);
      const entry = byText.get(text);
      if (entry) entry.count += count;
      else byText.set(text, { value: v, count });
    }
    const values = [...byText.entries()]
      .sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([, e]) => ({ value: e.value, probability: share(e.count) }));
    byKey.push({ key: state.keys[s] as string, p_present: share(present[s] as number), values });
  });
  byKey.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const tools = [...rates.values()];
  return {
    trials: n,
    seed: config.seed,
    p_goal_reached: goal ? share(goalHits) : null,
    goal_underivable_conditions: goal ? underivable(goal) : [],
    p_all_effects_landed: share(allLanded),
    tool_calls: distribution(callsPerTrial),
    actions_executed: distribution(executedPerTrial),
    state_distribution: byKey,
    action_outcomes: actions.map((a, i) => {
      const c = counts[i]!;
      const row: ActionOutcome = {
        action_id: a.id,
        p_rejected: share(c.rejected),
        p_failed: share(c.failed),
        p_effects_landed: share(c.landed),
        mean_blast_radius: c.failed === 0 ? 0 : c.blast / c.failed,
        p_succeeded: share(c.succeeded),
        p_skipped: share(n - c.succeeded - c.failed - c.rejected),
      };
      const blocked = steps[i]!.blocked;
      if (blocked !== undefined) row.blocked_by = blocked;
      return row;
    }),
    rate_provenance: {
      window_days: opts.rateWindowDays ?? DEFAULT_RATE_WINDOW_DAYS,
      trajectories_available: opts.trajectoriesAvailable ?? (opts.history !== undefined && opts.history !== null),
      overridden_by_caller: tools.filter((r) => r.source === 'caller').map((r) => r.tool).sort(),
      tools,
    },
    tool_success_rates: Object.fromEntries(tools.map((r) => [r.tool, r.rate])),
  };
}
