import type { Dag } from '../../dag.js';
import type { Action } from '../../ir.js';
import { cycles } from '../graph.js';
import { issue, nameList, type CheckRun } from './check.js';

/**
 * Dependency cycles. Actions on a cycle can never start, and neither can anything waiting on
 * them; both are errors. A dependency on itself is dropped by the scheduler, so it only warns.
 */
export function dependencyCycles(actions: readonly Action[], dag: Dag): CheckRun {
  const issues = [];
  for (const a of actions) {
    if (a.dependencies.includes(a.id)) issues.push(issue(a.id, 'warning', 'lists itself in dependencies (ignored)'));
  }
  if (dag.cyclic.length > 0) {
    const onCycle = new Set<string>();
    for (const component of cycles(dag.cyclic, dag.predecessors)) {
      // Only the first few names are shown, so take a short head instead of filtering per member.
      const head = component.slice(0, 6);
      for (const id of component) {
        onCycle.add(id);
        const shown = head.filter((other) => other !== id).slice(0, 5);
        const partners = nameList(shown, 5, component.length - 1);
        issues.push(issue(id, 'error', `is on a dependency cycle with ${partners}; it can never run`));
      }
    }
    for (const id of dag.cyclic) {
      if (!onCycle.has(id)) issues.push(issue(id, 'error', 'waits on actions caught in a dependency cycle; it can never run'));
    }
  }
  return { name: 'dependency_cycles', ran: true, issues };
}
