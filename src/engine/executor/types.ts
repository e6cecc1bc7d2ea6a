import type { EventFields } from '../event-log.js';
import type { StateLookup } from '../preconditions.js';
import type { StateStore } from '../state-store.js';
import type { ToolExecutor } from '../tool-executor.js';
import type { ToolDefinition } from '../tool-registry.js';
import type { PolicySubject } from '../policy/rules.js';
import type { Action } from '../ir.js';
import type { ToolRateLimiter } from '../rate-limit.js';
import type { ToolResultCache } from './tool-cache.js';

/** Where an action ended up. `proposed`, `validated` and `executing` are never final. */
export type ActionStatus = 'proposed' | 'validated' | 'rejected' | 'executing' | 'succeeded' | 'failed' | 'skipped';

/** One action's outcome, in the upstream agent-ir shape. */
export interface ActionResult {
  action_id: string;
  status: ActionStatus;
  output: unknown;
  error: string | null;
  /** Keys this action wrote, with the values written. */
  state_changes: Record<string, unknown>;
  duration_ms: number;
  /** When the outcome was settled (RFC 3339). */
  timestamp: string;
  /** Present (true) only on earlier successes of a proposal that was aborted. */
  rolled_back?: true;
  /** Present (true) on the action whose tool raised a terminal error (fail-stop). */
  terminal?: true;
}

export interface ProposalCost {
  /** Tool invocations, retries included. */
  tool_calls: number;
  /** Actions that ran: succeeded plus failed. */
  actions_executed: number;
  /** Actions blocked before running (validator or policy). */
  actions_rejected: number;
  /** Actions never attempted, or skipped after a failure under `skip`. */
  actions_skipped: number;
  total_duration_ms: number;
  /** Attempts beyond each action's first. */
  retries: number;
}

export interface PolicyViolation {
  policy_name: string;
  action_id: string;
  reason: string;
}

export interface ProposalResult {
  proposal_id: string;
  /** Every action, in proposal order. */
  results: ActionResult[];
  cost: ProposalCost;
  /** Present only when some policy denied an action. */
  violations?: PolicyViolation[];
  /** Present (true) when a terminal tool error stopped the proposal: the session should halt. */
  halted?: true;
}

export interface PolicyDenial {
  policy_name: string;
  reason: string;
}

/** The policy check the executor runs at dispatch; a PolicySet fits. */
export interface PolicyChecker {
  check(subject: PolicySubject, state: StateLookup): readonly PolicyDenial[];
}

/**
 * Asked before every attempt with the parameters it will dispatch with: a reason to reject the
 * action, or null to let it run.
 */
export type AttemptAuthorizer = (action: Action, parameters: Record<string, unknown>, attempt: number) => string | null;

/** Where the executor records what it did; an EventLog fits. */
export interface EventSink {
  append(kind: string, fields?: EventFields): unknown;
}

export interface ExecuteOptions {
  /** Runs `tool_call` actions. */
  executor: ToolExecutor;
  /** The session's state; reads and writes go through the tenant's view. */
  store: StateStore;
  /** Tenant whose view the proposal sees (`scope.tenantId`); none = the unscoped view. */
  tenant?: string | null | undefined;
  /** Checked before every attempt, on the dispatched parameters and the current state. */
  policies?: PolicyChecker | undefined;
  /** Checked before every attempt after the policies (the permission tier). */
  authorize?: AttemptAuthorizer | undefined;
  events?: EventSink | undefined;
  /**
   * Registered tools. When given, a `tool_call` naming an unregistered tool is rejected; when
   * absent every tool name is accepted.
   */
  tools?: ((name: string) => ToolDefinition | undefined) | undefined;
  /** Results of idempotent tools with `cache_ttl_secs` (the session's cache). */
  toolCache?: ToolResultCache | undefined;
  /** Enforces each tool's declared `rate_limit` (the session's counts). */
  rateLimiter?: ToolRateLimiter | undefined;
  /** Optional parameter check against a registered tool's schema: messages, empty when fine. */
  checkParameters?: ((tool: ToolDefinition, parameters: Record<string, unknown>) => readonly string[]) | undefined;
  /** Most actions running at once. Default 64. */
  maxConcurrency?: number | undefined;
  /**
   * `eager` (default): an action starts as soon as its predecessors settled. `levels`: whole DAG
   * levels one after the other, as the upstream runs them.
   */
  schedule?: 'eager' | 'levels' | undefined;
  /** Cancels the proposal: actions not yet started are skipped, in-flight calls are told to stop. */
  signal?: AbortSignal | undefined;
  /** Stamped on every tool call (the policy or runtime session). */
  sessionId?: string | undefined;
  /**
   * The tool executor cannot run `streaming` / `long_running` actions; this names it in the
   * failure message. Default "this executor".
   */
  executorLabel?: string | undefined;
}
