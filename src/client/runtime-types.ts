/** Wire shapes of the runtime methods (proposals, verify, policies, permissions, events). */

export type {
  ActionResult,
  ActionStatus,
  PolicyViolation,
  ProposalCost,
  ProposalResult,
} from '../engine/executor/types.js';

/** A proposal as sent: only `actions` is required; the daemon fills the defaults. */
export interface ProposalInput {
  id?: string;
  source?: string;
  timestamp?: string;
  actions: ActionInput[];
  context?: Record<string, unknown>;
}

export interface ActionInput {
  id?: string;
  type: 'tool_call' | 'state_write' | 'state_read' | 'assertion';
  tool?: string;
  parameters?: Record<string, unknown>;
  dependencies?: string[];
  preconditions?: { key: string; operator?: string; value?: unknown; description?: string }[];
  expected_effects?: Record<string, unknown>;
  state_dependencies?: string[];
  invocation_mode?: 'one_shot' | 'streaming' | 'long_running';
  reversibility?: 'reversible' | 'compensable' | 'irreversible';
  compensation?: { type: 'tool'; tool: string; parameters?: Record<string, unknown> } | { type: 'action_ref'; action_id: string };
  idempotent?: boolean;
  max_retries?: number;
  failure_behavior?: 'abort' | 'retry' | 'skip';
  timeout_ms?: number;
  metadata?: Record<string, unknown>;
  [extra: string]: unknown;
}

export interface SubmitOptions {
  /** A policy sub-context opened with `session.policy.open`. */
  session_id?: string;
  scope?: { callerId?: string; tenantId?: string; claims?: unknown };
}

export interface VerifyIssue {
  action_id: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
  tier: 'decision_procedure' | 'heuristic' | 'sampled';
}

export interface VerifyResult {
  valid: boolean;
  issues: VerifyIssue[];
  simulated_state: Record<string, unknown>;
  execution_levels: string[][];
  conflicts: [string, string, string][];
  evidence: Record<string, unknown>;
}

export interface PolicyInput {
  name: string;
  rule: 'deny_tool' | 'deny_tool_param' | 'require_state';
  target?: string;
  key?: string;
  pattern?: string;
  value?: unknown;
  session_id?: string;
}

export type Tier = 'read_only' | 'sandbox_edit' | 'full_access';

export interface PermissionDecision {
  action_id: string;
  fingerprint: string;
  decision: 'allow' | 'needs_approval' | 'deny';
  required: Tier;
  reversibility: string;
  granted?: Tier;
  reason?: string;
}

/** One event as `events.query` returns it. */
export type { RuntimeEvent as RuntimeEventRecord } from '../engine/event-log.js';

export interface EventQuery {
  kinds?: string[];
  action_id?: string;
  proposal_id?: string;
  since?: string;
  until?: string;
  data_matches?: Record<string, unknown>;
  limit?: number;
}
