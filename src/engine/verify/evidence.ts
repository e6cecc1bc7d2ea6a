import type { Action } from '../ir.js';
import type { CheckName, CheckRun } from './checks/check.js';
import type { EvidenceCheck, IssueTier, VerifyEvidence } from './types.js';
import { round } from '../../util/values.js';

/** What each check establishes and where its knowledge ends, for the evidence block. */
const CHECKS: Record<CheckName, { verifies: string; cannot_verify: string; tier: IssueTier }> = {
  action_limit: {
    verifies: 'the proposal stays within the action limit',
    cannot_verify: 'how long the actions will take',
    tier: 'decision_procedure',
  },
  unknown_tools: {
    verifies: 'every tool call names a tool registered on this session',
    cannot_verify: 'that the client will still serve the tool when the proposal runs',
    tier: 'decision_procedure',
  },
  parameter_schemas: {
    verifies: "tool call parameters fit the registered schema's type and required rules",
    cannot_verify: 'other JSON Schema keywords, values filled in from earlier outputs at run time',
    tier: 'decision_procedure',
  },
  output_references: {
    verifies: "'$<id>.output' references name an action of the proposal that is not scheduled after the reader",
    cannot_verify: 'the shape of the output that will be substituted',
    tier: 'decision_procedure',
  },
  dependency_cycles: {
    verifies: 'the dependency graph (explicit and state-derived edges) is acyclic',
    cannot_verify: 'ordering that tools impose on each other outside the proposal',
    tier: 'decision_procedure',
  },
  preconditions: {
    verifies: 'each precondition holds given the initial state and the declared effects of the actions ordered before it',
    cannot_verify: 'effects a tool has but did not declare, and conditions on values only known at run time',
    tier: 'decision_procedure',
  },
  state_reads: {
    verifies: 'every state key an action reads exists by the time it runs, given the declared writes',
    cannot_verify: 'keys other sessions or tools write while the proposal runs',
    tier: 'decision_procedure',
  },
  policies: {
    verifies: 'no registered policy denies an action in the state the walk reaches before it',
    cannot_verify: 'policies registered after verification',
    tier: 'decision_procedure',
  },
  write_conflicts: {
    verifies: 'no two unordered actions write the same state key',
    cannot_verify: 'writes tools perform without declaring them',
    tier: 'decision_procedure',
  },
  repeated_calls: {
    verifies: 'no tool is called three or more times with identical parameters',
    cannot_verify: 'whether the repetition is intended',
    tier: 'heuristic',
  },
};

/** Assemble the evidence block from the check runs and what the walk could not decide. */
export function buildEvidence(actions: readonly Action[], runs: readonly CheckRun[], undecided: number): VerifyEvidence {
  const checks: EvidenceCheck[] = runs.map((r) => ({
    name: r.name,
    ran: r.ran,
    ...CHECKS[r.name],
    findings: r.issues.length,
  }));
  const assumptions = [
    'tools change state only as their expected_effects declare',
    'actions in one level run concurrently and see only the writes of earlier levels',
  ];
  if (undecided > 0) {
    assumptions.push(`${undecided} precondition(s) test values only known at run time and were assumed to hold`);
  }
  const untested: string[] = [];
  const silent = actions.filter((a) => a.type === 'tool_call' && Object.keys(a.expected_effects).length === 0);
  if (silent.length > 0) untested.push(`${silent.length} tool call(s) declare no expected_effects; their state changes are unknown`);
  for (const r of runs) if (!r.ran && r.note) untested.push(`${r.name}: ${r.note}`);

  const risks = ['tool outputs, failures and timeouts are not modelled (use verify.monte_carlo for failure odds)'];
  for (const r of runs) if (r.ran && r.note) risks.push(`${r.name}: ${r.note}`);

  // Start from the share of checks that ran, then discount tool calls whose effects are unknown.
  const ranShare = runs.length === 0 ? 1 : runs.filter((r) => r.ran).length / runs.length;
  const toolCalls = actions.filter((a) => a.type === 'tool_call').length;
  const opaqueShare = toolCalls === 0 ? 0 : silent.length / actions.length;
  const confidence = round(ranShare * (1 - 0.5 * opaqueShare), 2);
  return { checks, assumptions, untested_regions: untested, residual_risks: risks, confidence };
}
