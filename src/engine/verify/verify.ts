import { buildDag } from '../dag.js';
import type { ActionProposal } from '../ir.js';
import { outputReferences, parameterSchemas, unknownTools } from './checks/actions.js';
import { issue, type CheckRun } from './checks/check.js';
import { writeConflicts } from './checks/conflicts.js';
import { dependencyCycles } from './checks/cycles.js';
import { repeatedCalls } from './checks/loops.js';
import { walk } from './checks/walk.js';
import { buildEvidence } from './evidence.js';
import type { VerifyOptions, VerifyResult } from './types.js';

export const DEFAULT_MAX_ACTIONS = 1000;

function actionLimit(proposal: ActionProposal, max: number): CheckRun {
  const over = proposal.actions[max];
  const issues =
    over === undefined
      ? []
      : [issue(over.id, 'error', `the proposal has ${proposal.actions.length} actions; at most ${max} are allowed`)];
  return { name: 'action_limit', ran: true, issues };
}

/**
 * Static verification: every check runs over what the proposal declares, no tool is called, and
 * all problems are reported in one pass. `valid` is false exactly when some issue is an error.
 */
export function verify(proposal: ActionProposal, opts: VerifyOptions = {}): VerifyResult {
  const actions = proposal.actions;
  const dag = buildDag(actions);
  const levelOf = new Map<string, number>();
  dag.levels.forEach((level, i) => {
    for (const id of level) levelOf.set(id, i);
  });

  const walked = walk(actions, dag, opts);
  const conflicts = writeConflicts(actions, dag);
  const runs: CheckRun[] = [
    actionLimit(proposal, opts.maxActions ?? DEFAULT_MAX_ACTIONS),
    unknownTools(actions, opts.tools),
    parameterSchemas(actions, opts.tools),
    outputReferences(actions, levelOf),
    dependencyCycles(actions, dag),
    walked.preconditions,
    walked.stateReads,
    walked.policies,
    conflicts,
    repeatedCalls(actions),
  ];
  const issues = runs.flatMap((r) => r.issues);
  return {
    valid: !issues.some((i) => i.severity === 'error'),
    issues,
    simulated_state: walked.state.snapshot(),
    execution_levels: dag.levels,
    conflicts: conflicts.conflicts,
    evidence: buildEvidence(actions, runs, walked.undecided),
  };
}
