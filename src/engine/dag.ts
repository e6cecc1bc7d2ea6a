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
  if (action.type === 'state_write' || action.write_set.length > 0) return true;
  for (const key in action.expected_effects) if (Object.hasOwn(action.expected_effects, key)) return true;
  return false;
}

/** The same graph over action positions (proposal order): what the executor walks. */
export interface DagIndex {
  /** State key → positions of the actions that write it, in proposal order. */
  writers: Map<string, number[]>;
  /** Positions each action waits for: its dependencies, then the writers of its state_dependencies. */
  predecessors: (readonly number[])[];
  /** Positions waiting on each action, in proposal order. */
  successors: (readonly number[])[];
  /** Topological levels of positions, each in proposal order. */
  levels: number[][];
  /** Positions caught in a dependency cycle, in proposal order. */
  cyclic: number[];
}

const NONE: readonly number[] = Object.freeze([]) as readonly number[];

/**
 * Order a proposal's actions by position. An action naming an id the proposal does not have
 * (a parsed proposal never does) can never start: it ends up among the cyclic ones.
 */
export function dagIndex(actions: readonly Action[]): DagIndex {
  const n = actions.length;
  const writers = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const a = actions[i] as Action;
    if (!writesAny(a)) continue;
    for (const key of writesOf(a)) {
      const list = writers.get(key);
      if (list) list.push(i);
      else writers.set(key, [i]);
    }
  }
  // Ids are looked up only when some action names another.
  let positions: Map<string, number> | undefined;
  const remaining = new Int32Array(n);
  const predecessors: (readonly number[])[] = new Array<readonly number[]>(n);
  const successors: number[][] = new Array<number[]>(n);
  for (let i = 0; i < n; i++) {
    const a = actions[i] as Action;
    if (a.dependencies.length === 0 && a.state_dependencies.length === 0) {
      predecessors[i] = NONE;
      continue;
    }
    positions ??= new Map(actions.map((b, j) => [b.id, j]));
    const preds = new Set<number>();
    let unknown = 0;
    for (const dep of a.dependencies) {
      const p = positions.get(dep);
      if (p === undefined) unknown++;
      else preds.add(p);
    }
    for (const key of a.state_dependencies) {
      const list = writers.get(key);
      if (list !== undefined) for (const w of list) if (w !== i) preds.add(w);
    }
    preds.delete(i);
    const list = [...preds];
    predecessors[i] = list.length === 0 ? NONE : list;
    remaining[i] = list.length + unknown;
    for (const p of list) (successors[p] ??= []).push(i);
  }
  for (let i = 0; i < n; i++) successors[i] ??= NONE as number[];

  const levels: number[][] = [];
  let current: number[] = [];
  for (let i = 0; i < n; i++) if (remaining[i] === 0) current.push(i);
  let placed = 0;
  while (current.length > 0) {
    levels.push(current);
    placed += current.length;
    const next: number[] = [];
    for (let k = 0; k < current.length; k++) {
      const waiting = successors[current[k] as number] as number[];
      for (let w = 0; w < waiting.length; w++) if (--remaining[waiting[w] as number]! === 0) next.push(waiting[w] as number);
    }
    current = next.length > 1 ? next.sort((x, y) => x - y) : next;
  }
  const cyclic: number[] = [];
  if (placed < n) for (let i = 0; i < n; i++) if (remaining[i]! > 0) cyclic.push(i);
  return { writers, predecessors, successors, levels, cyclic };
}

/** The graph by action id (see `dagIndex`). */
export function buildDag(actions: readonly Action[]): Dag {
  const d = dagIndex(actions);
  const id = (i: number): string => (actions[i] as Action).id;
  const writers = new Map<string, string[]>();
  for (const [key, list] of d.writers) writers.set(key, list.map(id));
  const predecessors = new Map<string, Set<string>>();
  const successors = new Map<string, string[]>();
  actions.forEach((a, i) => {
    const preds = d.predecessors[i] as readonly number[];
    // Shared, never written: every consumer only reads predecessor sets.
    predecessors.set(a.id, preds.length === 0 ? NO_PREDECESSORS : new Set(preds.map(id)));
    const next = d.successors[i] as readonly number[];
    if (next.length > 0) successors.set(a.id, next.map(id));
  });
  return { writers, predecessors, successors, levels: d.levels.map((level) => level.map(id)), cyclic: d.cyclic.map(id) };
}
