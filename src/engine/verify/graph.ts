/** Graph questions verify asks of the DAG beyond its levels: cycles and reachability. */

/**
 * Strongly connected components with more than one member among `nodes`, each listed in
 * `nodes` order. Edges run from each predecessor to the node; edges leaving `nodes` are ignored.
 * Iterative Tarjan, so long chains cannot overflow the stack.
 */
export function cycles(nodes: readonly string[], predecessors: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const inSet = new Set(nodes);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const found: string[][] = [];
  let counter = 0;
  const position = new Map(nodes.map((n, i) => [n, i]));

  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: { node: string; edges: string[]; next: number }[] = [];
    const enter = (node: string): void => {
      index.set(node, counter);
      low.set(node, counter);
      counter++;
      stack.push(node);
      onStack.add(node);
      const edges = [...(predecessors.get(node) ?? [])].filter((p) => inSet.has(p));
      work.push({ node, edges, next: 0 });
    };
    enter(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as (typeof work)[number];
      if (frame.next < frame.edges.length) {
        const to = frame.edges[frame.next++] as string;
        if (!index.has(to)) enter(to);
        else if (onStack.has(to)) low.set(frame.node, Math.min(low.get(frame.node) as number, index.get(to) as number));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node) as number, low.get(frame.node) as number));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop() as string;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        if (component.length > 1) {
          found.push(component.sort((a, b) => (position.get(a) as number) - (position.get(b) as number)));
        }
      }
    }
  }
  return found.sort((a, b) => (position.get(a[0] as string) as number) - (position.get(b[0] as string) as number));
}

/**
 * Which of a chosen set of "tracked" actions come before each action. One bit row per action,
 * one bit per tracked action, filled along the topological order: O(edges × tracked / 32).
 */
export class TrackedAncestors {
  private readonly words: number;
  private readonly bits: Uint32Array;
  private readonly row = new Map<string, number>();
  private readonly column = new Map<string, number>();

  constructor(
    order: readonly string[],
    predecessors: ReadonlyMap<string, ReadonlySet<string>>,
    tracked: readonly string[],
  ) {
    tracked.forEach((id, i) => this.column.set(id, i));
    this.words = Math.max(1, Math.ceil(tracked.length / 32));
    this.bits = new Uint32Array(order.length * this.words);
    order.forEach((id, i) => this.row.set(id, i));
    const w = this.words;
    for (let r = 0; r < order.length; r++) {
      const base = r * w;
      for (const pred of predecessors.get(order[r] as string) ?? []) {
        const pr = this.row.get(pred);
        if (pr === undefined) continue;
        const pbase = pr * w;
        for (let k = 0; k < w; k++) this.bits[base + k] = (this.bits[base + k] as number) | (this.bits[pbase + k] as number);
        const col = this.column.get(pred);
        if (col !== undefined) this.bits[base + (col >>> 5)] = (this.bits[base + (col >>> 5)] as number) | (1 << (col & 31));
      }
    }
  }

  /** Bytes a table for this many actions and tracked actions would take. */
  static cost(actions: number, tracked: number): number {
    return actions * Math.max(1, Math.ceil(tracked / 32)) * 4;
  }

  /** Whether tracked action `before` must finish before `id` starts. */
  precedes(before: string, id: string): boolean {
    const col = this.column.get(before);
    const r = this.row.get(id);
    if (col === undefined || r === undefined) return false;
    return ((this.bits[r * this.words + (col >>> 5)] as number) & (1 << (col & 31))) !== 0;
  }
}
