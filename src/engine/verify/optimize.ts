import { writesOf } from '../dag.js';
import type { ActionProposal } from '../ir.js';

export interface OptimizeResult {
  proposal: ActionProposal;
  /** Per action, the state_dependencies that were dropped (only actions that lost some). */
  pruned: Record<string, string[]>;
}

/**
 * Drop every state dependency on a key that no action of the proposal writes: it orders nothing
 * but still keeps the action out of earlier levels. Actions are never reordered or removed, and
 * the input is left untouched.
 */
export function optimize(proposal: ActionProposal): OptimizeResult {
  const written = new Set<string>();
  for (const a of proposal.actions) for (const key of writesOf(a)) written.add(key);
  const pruned: [string, string[]][] = [];
  const actions = proposal.actions.map((a) => {
    const dropped = a.state_dependencies.filter((k) => !written.has(k));
    if (dropped.length === 0) return a;
    pruned.push([a.id, dropped]);
    return { ...a, state_dependencies: a.state_dependencies.filter((k) => written.has(k)) };
  });
  return { proposal: { ...proposal, actions }, pruned: Object.fromEntries(pruned) };
}
