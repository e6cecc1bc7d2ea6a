/**
 * Event kinds the runtime records, and the `data` each carries. Producers (executor, permission
 * gate, inference) and consumers (events.query filters, metrics.summary) share this vocabulary.
 */
export const EventKind = {
  /** data: {source, actions: number} */
  ProposalReceived: 'ProposalReceived',
  /** data: {cost: {...}, status: 'completed'|'aborted'|'rejected'} */
  ProposalCompleted: 'ProposalCompleted',
  /** action_id set; data: {tool?, output_preview?, duration_ms, attempt} */
  ActionSucceeded: 'ActionSucceeded',
  /** action_id set; data: {tool?, error, duration_ms, attempt, will_retry: boolean} */
  ActionFailed: 'ActionFailed',
  /** action_id set; data: {tool?, reason} (validator, policy or permission) */
  ActionRejected: 'ActionRejected',
  /** action_id set; data: {reason} */
  ActionSkipped: 'ActionSkipped',
  /** action_id set; data: {rolled_back: true} on abort for earlier successes */
  ActionRolledBack: 'ActionRolledBack',
  /** action_id set; data: {policy_name, reason} */
  PolicyViolation: 'PolicyViolation',
  /** action_id set; data: {tool, age_ms, attempt}: a cached result answered the call, no callback sent */
  ToolCacheHit: 'ToolCacheHit',
  /**
   * A blocked action: action_id set, data {fingerprint, decision, required, granted, count: 1}.
   * The allowed actions of a proposal: one event, data {decision: 'allow', count, granted}.
   */
  PermissionDecision: 'PermissionDecision',
  /** data: {gate: 'permission'|'supervision'|'verify', reason, blocked?: [...]} */
  GateRejection: 'GateRejection',
  /** data: {fingerprint, decision: 'approved'|'rejected', required_tier, reviewer} */
  ApprovalRecorded: 'ApprovalRecorded',
  /** data: {agent, model?, tokens_in, tokens_out, cost_usd, latency_ms} */
  InferenceMetered: 'InferenceMetered',
  /** data: {met: boolean, grounded: boolean} */
  GoalEvaluated: 'goal_evaluated',
} as const;

export type EventKindName = (typeof EventKind)[keyof typeof EventKind];

const wireKinds = new Map<string, string>();

/** A kind as the wire names it: snake_case (`ActionSucceeded` → `action_succeeded`); snake_case stays as it is. */
export function wireKind(kind: string): string {
  let wire = wireKinds.get(kind);
  if (wire === undefined) {
    wire = kind.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2').toLowerCase();
    if (wireKinds.size < 4096) wireKinds.set(kind, wire);
  }
  return wire;
}
