import { writesOf, type Dag } from '../../dag.js';
import type { Action } from '../../ir.js';
import { TrackedAncestors } from '../graph.js';
import type { WriteConflict } from '../types.js';
import { issue, type CheckRun } from './check.js';

/** Most conflict triples reported; past it the check says how many it left out. */
export const MAX_CONFLICTS = 1000;
/** Largest reachability table (bytes) the check builds; bigger proposals skip it. */
const MAX_TABLE_BYTES = 16 * 1024 * 1024;

export interface ConflictRun extends CheckRun {
  conflicts: WriteConflict[];
}

/**
 * Pairs of actions that write the same key with neither ordered before the other, so the final
 * value depends on timing. Only keys with two or more writers are examined, and reachability is
 * tracked only for those writers. Actions that can never run (cycles) are left out.
 */
export function writeConflicts(actions: readonly Action[], dag: Dag): ConflictRun {
  const blocked = new Set(dag.cyclic);
  const writers = new Map<string, string[]>();
  for (const a of actions) {
    if (blocked.has(a.id)) continue;
    for (const key of writesOf(a)) {
      const list = writers.get(key);
      if (list) list.push(a.id);
      else writers.set(key, [a.id]);
    }
  }
  const shared = [...writers].filter(([, ids]) => ids.length > 1);
  if (shared.length === 0) return { name: 'write_conflicts', ran: true, issues: [], conflicts: [] };

  const tracked = [...new Set(shared.flatMap(([, ids]) => ids))];
  const order = dag.levels.flat();
  if (TrackedAncestors.cost(order.length, tracked.length) > MAX_TABLE_BYTES) {
    return {
      name: 'write_conflicts',
      ran: false,
      issues: [],
      conflicts: [],
      note: `${tracked.length} actions share written keys across ${order.length} actions: too large to analyse`,
    };
  }
  const ancestors = new TrackedAncestors(order, dag.predecessors, tracked);
  const conflicts: WriteConflict[] = [];
  let truncated = false;
  scan: for (const [key, ids] of shared) {
    for (let j = 1; j < ids.length; j++) {
      const b = ids[j] as string;
      for (let i = 0; i < j; i++) {
        const a = ids[i] as string;
        if (ancestors.precedes(a, b) || ancestors.precedes(b, a)) continue;
        if (conflicts.length === MAX_CONFLICTS) {
          truncated = true;
          break scan;
        }
        conflicts.push([a, b, key]);
      }
    }
  }
  const issues = conflicts.map(([a, b, key]) =>
    issue(b, 'warning', `writes '${key}', as '${a}' does, and neither is ordered before the other`),
  );
  const run: ConflictRun = { name: 'write_conflicts', ran: true, issues, conflicts };
  if (truncated) run.note = `only the first ${MAX_CONFLICTS} conflicts are listed`;
  return run;
}
