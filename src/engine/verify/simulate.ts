import { buildDag, readsOf } from '../dag.js';
import type { ActionProposal } from '../ir.js';
import { effectsOf, judge, SymbolicState } from './model.js';

export interface SimulationTrace {
  final_state: Record<string, unknown>;
  /** Actions whose effects were applied, in walk order. */
  applied: string[];
  /** Actions stopped by a failing precondition or a missing state key. */
  blocked: string[];
  /** Actions that never ran because something they wait on did not (cycles included). */
  dropped: string[];
}

/**
 * Replay the declared effects level by level. An action whose preconditions fail, or which reads
 * a key that is not there, contributes nothing, and everything ordered after it drops out.
 * A precondition on a value only known at run time is taken to hold. `failure_behavior` plays no
 * part: nothing fails here except by the declarations.
 */
export function simulateTrace(proposal: ActionProposal, initialState?: Record<string, unknown>): SimulationTrace {
  const dag = buildDag(proposal.actions);
  const byId = new Map(proposal.actions.map((a) => [a.id, a]));
  const state = new SymbolicState(initialState);
  const trace: SimulationTrace = { final_state: {}, applied: [], blocked: [], dropped: [] };
  const notRun = new Set<string>();
  for (const level of dag.levels) {
    const runnable = [];
    for (const id of level) {
      const a = byId.get(id);
      if (!a) continue;
      let waitsOnFailure = false;
      for (const p of dag.predecessors.get(id) ?? []) if (notRun.has(p)) waitsOnFailure = true;
      if (waitsOnFailure) {
        notRun.add(id);
        trace.dropped.push(id);
      } else if (a.preconditions.some((p) => judge(p, state) === 'fails') || readsOf(a).some((k) => !state.has(k))) {
        notRun.add(id);
        trace.blocked.push(id);
      } else {
        runnable.push(a);
      }
    }
    for (const a of runnable) {
      for (const e of effectsOf(a)) state.apply(e);
      trace.applied.push(a.id);
    }
  }
  trace.dropped.push(...dag.cyclic);
  trace.final_state = state.snapshot();
  return trace;
}

/** The state a proposal leaves behind, from its declarations alone. */
export function simulate(proposal: ActionProposal, initialState?: Record<string, unknown>): Record<string, unknown> {
  return simulateTrace(proposal, initialState).final_state;
}
