import type { IssueSeverity, IssueTier, VerifyIssue } from '../types.js';

/** What every check hands back to verify: whether it ran and what it found. */

export type CheckName =
  | 'action_limit'
  | 'unknown_tools'
  | 'parameter_schemas'
  | 'output_references'
  | 'dependency_cycles'
  | 'preconditions'
  | 'state_reads'
  | 'policies'
  | 'write_conflicts'
  | 'repeated_calls';

export interface CheckRun {
  name: CheckName;
  ran: boolean;
  issues: VerifyIssue[];
  /** Why the check did not run, or what it had to leave out. */
  note?: string;
}

export function issue(
  action_id: string,
  severity: IssueSeverity,
  message: string,
  tier: IssueTier = 'decision_procedure',
): VerifyIssue {
  return { action_id, severity, message, tier };
}

/** `'a', 'b', 'c'` with at most `max` names shown; `total` counts names beyond those passed. */
export function nameList(ids: readonly string[], max = 5, total = ids.length): string {
  const shown = ids.slice(0, max).map((id) => `'${id}'`);
  return total > shown.length ? `${shown.join(', ')} and ${total - shown.length} more` : shown.join(', ');
}
