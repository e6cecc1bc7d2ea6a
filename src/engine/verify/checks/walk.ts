import { readsOf, writesOf, type Dag } from '../../dag.js';
import type { Action, Precondition } from '../../ir.js';
import { describePrecondition } from '../../preconditions.js';
import { effectsOf, judge, SymbolicState } from '../model.js';
import type { VerifyIssue, VerifyOptions } from '../types.js';
import { issue, nameList, type CheckRun } from './check.js';

export interface WalkRun {
  preconditions: CheckRun;
  stateReads: CheckRun;
  policies: CheckRun;
  state: SymbolicState;
  /** Preconditions that test a value only known at run time (assumed to hold). */
  undecided: number;
}

/**
 * The forward walk: level by level, every action is checked against the state the levels before
 * it leave (actions of one level run concurrently, so none sees another's writes), then the
 * level's declared effects are applied — a failing action's too, so one pass reports every
 * problem instead of a cascade. Actions that can never run (cycles) are walked last.
 */
export function walk(actions: readonly Action[], dag: Dag, opts: VerifyOptions): WalkRun {
  const byId = new Map(actions.map((a) => [a.id, a]));
  const writers = dag.writers;
  /** Up to six writers of `key` other than `self`, and how many there are in all. */
  const otherWriters = (key: string, self: Action): { names: string[]; count: number } => {
    const all = writers.get(key) ?? [];
    const count = all.length - (writesOf(self).includes(key) ? 1 : 0);
    return { names: all.slice(0, 7).filter((w) => w !== self.id).slice(0, 6), count };
  };

  const state = new SymbolicState(opts.initialState);
  const pre: VerifyIssue[] = [];
  const reads: VerifyIssue[] = [];
  const denials: VerifyIssue[] = [];
  let undecided = 0;

  const failedPrecondition = (a: Action, p: Precondition): VerifyIssue => {
    const others = otherWriters(p.key, a);
    const what = describePrecondition(p);
    return others.count === 0
      ? issue(a.id, 'error', `${what} can never hold: no other action writes '${p.key}' and the initial state does not satisfy it`)
      : issue(a.id, 'error', `${what} does not hold before this action runs (writers of '${p.key}': ${nameList(others.names, 5, others.count)})`);
  };

  const check = (a: Action): void => {
    for (const p of a.preconditions) {
      const verdict = judge(p, state);
      if (verdict === 'fails') pre.push(failedPrecondition(a, p));
      else if (verdict === 'unknown') undecided++;
    }
    for (const key of readsOf(a)) {
      if (state.has(key)) continue;
      const others = otherWriters(key, a);
      reads.push(
        others.count === 0
          ? issue(a.id, 'error', `reads state key '${key}', which no other action writes and the initial state lacks`)
          : issue(
              a.id,
              'warning',
              `reads state key '${key}' before any action ordered ahead of it writes it (writers: ${nameList(others.names, 5, others.count)})`,
            ),
      );
    }
    if (opts.policyViolations) {
      for (const v of opts.policyViolations(a, state.values)) {
        denials.push(issue(a.id, 'error', `denied by policy '${v.policy_name}': ${v.reason}`));
      }
    }
  };
  const applyAll = (ids: readonly string[]): void => {
    for (const id of ids) {
      const a = byId.get(id);
      if (a) for (const e of effectsOf(a)) state.apply(e);
    }
  };

  for (const level of dag.levels) {
    for (const id of level) check(byId.get(id) as Action);
    applyAll(level);
  }
  for (const id of dag.cyclic) {
    check(byId.get(id) as Action);
    applyAll([id]);
  }

  return {
    preconditions: { name: 'preconditions', ran: true, issues: pre },
    stateReads: { name: 'state_reads', ran: true, issues: reads },
    policies: opts.policyViolations
      ? { name: 'policies', ran: true, issues: denials }
      : { name: 'policies', ran: false, issues: [], note: 'no policies were given' },
    state,
    undecided,
  };
}
