import type { Action } from './ir.js';

/** State keys an action writes: a state_write's key, its declared effects and write_set. */
export function writesOf(action: Action): string[] {
  const keys = new Set<string>(Object.keys(action.expected_effects));
  for (const k of action.write_set) keys.add(k);
  if (action.type === 'state_write' && typeof action.parameters.key === 'string') keys.add(action.parameters.key);
  return [...keys];
}

/** State keys an action reads: its state_dependencies, read_set and a state_read's key. */
export function readsOf(action: Action): string[] {
  const keys = new Set<string>(action.state_dependencies);
  for (const k of action.read_set) keys.add(k);
  if (action.type === 'state_read' && typeof action.parameters.key === 'string') keys.add(action.parameters.key);
  return [...keys];
}

export interface Dag {
  /** State key → ids of the actions that write it, in proposal order. */
  writers: Map<string, string[]>;
  /** Action ids that must finish before each action (explicit dependencies plus state ordering). */
  predecessors: Map<string, Set<string>>;
  /** The reverse of `predecessors`: the actions waiting on each action, in proposal order. */
  successors: Map<string, string[]>;
  /** Topological levels, each in proposal order; actions in one level are independent. */
  levels: string[][];
  /** Ids caught in a dependency cycle (empty when the graph is acyclic); they are in no level. */
  cyclic: string[];
}

/**
 * Order a proposal's actions: `dependencies` are explicit edges; each `state_dependencies` key
 * orders the action after every other action that writes that key.
 */
const NO_PREDECESSORS: Set<string> = new Set();

/** Whether the action writes state at all (most tool calls do not): spares the key sets. */
function writesAny(action: Action): boolean {
  return action.type === 'state_write' || action.write_set.length > 0 || Object.keys(action.expected_effects).length > 0;
}

export function buildDag(actions: readonly Action[]): Dag {
  const writers = new Map<string, string[]>();
  for (const a of actions) {
    if (!writesAny(a)) continue;
    for (const key of writesOf(a)) {
      const list = writers.get(key);
      if (list) list.push(a.id);
      else writers.set(key, [a.id]);
    }
  }
  const predecessors = new Map<string, Set<string>>();
  for (const a of actions) {
    if (a.dependencies.length === 0 && a.state_dependencies.length === 0) {
      // Shared, never written: every consumer only reads predecessor sets.
      predecessors.set(a.id, NO_PREDECESSORS);
      continue;
    }
    const preds = new Set<string>(a.dependencies);
    for (const key of a.state_dependencies) {
      for (const w of writers.get(key) ?? []) if (w !== a.id) preds.add(w);
    }
    preds.delete(a.id);
    predecessors.set(a.id, preds);
  }

  const remaining = new Map<string, number>();
  const successors = new Map<string, string[]>();
  for (const a of actions) {
    const preds = predecessors.get(a.id) as Set<string>;
    remaining.set(a.id, preds.size);
    if (preds.size === 0) continue;
    for (const p of preds) {
      const list = successors.get(p);
      if (list) list.push(a.id);
      else successors.set(p, [a.id]);
    }
  }
  let order: Map<string, number> | undefined;
  const byOrder = (x: string, y: string): number => {
    order ??= new Map(actions.map((a, i) => [a.id, i]));
    return (order.get(x) as number) - (order.get(y) as number);
  };
  const levels: string[][] = [];
  let current: string[] = [];
  for (const a of actions) if (remaining.get(a.id) === 0) current.push(a.id);
  let placed = 0;
  while (current.length > 0) {
    levels.push(current);
    placed += current.length;
    const next: string[] = [];
    for (const id of current) {
      const waiting = successors.get(id);
      if (waiting === undefined) continue;
      for (const s of waiting) {
        const left = (remaining.get(s) as number) - 1;
        remaining.set(s, left);
        if (left === 0) next.push(s);
      }
    }
    current = next.length > 1 ? next.sort(byOrder) : next;
  }
  const cyclic = placed === actions.length ? [] : actions.filter((a) => (remaining.get(a.id) as number) > 0).map((a) => a.id);
  return { writers, predecessors, successors, levels, cyclic };
}
