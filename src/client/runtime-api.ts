import type { JsonRpcParams } from '../rpc/messages.js';
import type {
  EventQuery,
  PermissionDecision,
  PolicyInput,
  ProposalInput,
  ProposalResult,
  RuntimeEventRecord,
  SubmitOptions,
  Tier,
  VerifyResult,
} from './runtime-types.js';
import type { ToolDefinitionInput } from './types.js';
import { defined } from '../util/values.js';

export type Call = <T>(method: string, params?: JsonRpcParams) => Promise<T>;

/** `session.init`, `session.policy.*`. */
export function sessionApi(call: Call) {
  return {
    init: (tools: ToolDefinitionInput[], policies?: PolicyInput[]) =>
      call<{ session_id: string; tools_registered: number; policies_registered: number }>(
        'session.init',
        defined({ tools, policies }),
      ),
    openPolicyContext: () => call<{ session_id: string }>('session.policy.open', {}),
    closePolicyContext: (sessionId: string) => call<{ closed: boolean }>('session.policy.close', { session_id: sessionId }),
  };
}

/** `policy.*`. */
export function policyApi(call: Call) {
  return {
    register: (policy: PolicyInput) =>
      call<{ registered: string; scope: 'global' | { session_id: string } }>('policy.register', defined({ ...policy })),
    unregister: (name: string, sessionId?: string) =>
      call<{ unregistered: string; removed: number; scope: unknown }>('policy.unregister', defined({ name, session_id: sessionId })),
    list: (sessionId?: string) =>
      call<{ policies: { name: string; description: string }[]; scope: unknown }>(
        'policy.list',
        defined({ session_id: sessionId }),
      ),
  };
}

/** `proposal.submit`, `verify`, `verify.monte_carlo`. */
export function proposalApi(call: Call) {
  return {
    submit: (proposal: ProposalInput, options: SubmitOptions = {}) =>
      call<ProposalResult>('proposal.submit', defined({ proposal, ...options })),
    verify: (proposal: ProposalInput, initialState?: Record<string, unknown>) =>
      call<VerifyResult>('verify', defined({ proposal, initial_state: initialState })),
    monteCarlo: (proposal: ProposalInput, options: Record<string, unknown> = {}) =>
      call<Record<string, unknown>>('verify.monte_carlo', { proposal, ...options }),
  };
}

/** `permission.*`. */
export function permissionApi(call: Call) {
  return {
    getTier: () => call<{ granted_tier: Tier }>('permission.get_tier', {}),
    setTier: (tier: Tier) => call<{ granted_tier: Tier }>('permission.set_tier', { tier }),
    classify: (proposal: ProposalInput) =>
      call<{ classifications: Record<string, unknown>[]; declared_rollback_contract: string }>('permission.classify', {
        proposal,
      }),
    evaluate: (proposal: ProposalInput, skill?: unknown) =>
      call<{ decisions: PermissionDecision[]; skill_ceiling?: Tier }>('permission.evaluate', defined({ proposal, skill })),
    pending: (proposal: ProposalInput, skill?: unknown) =>
      call<{ pending: PermissionDecision[] }>('permission.pending', defined({ proposal, skill })),
    approve: (decision: { fingerprint: string; required_tier: Tier } | { action: unknown }, reason?: string) =>
      call<Record<string, unknown>>('permission.approve', defined({ ...decision, reason })),
    reject: (decision: { fingerprint: string; required_tier: Tier } | { action: unknown }, reason?: string) =>
      call<Record<string, unknown>>('permission.reject', defined({ ...decision, reason })),
  };
}

/** `events.*`, `metrics.*`, `replan.set_config`. */
export function eventsApi(call: Call) {
  return {
    count: () => call<number>('events.count', {}),
    query: (query: EventQuery = {}) =>
      call<{ count: number; events: RuntimeEventRecord[] }>('events.query', defined({ ...query })),
    enableChain: () => call<{ ok: true }>('events.chain.enable', {}),
    verifyChain: () => call<{ verified: number } | { tampered_at: number }>('events.chain.verify', {}),
    retention: (policy?: { max_events?: number; max_age_secs?: number }) =>
      call<{ policy: unknown; removed?: number }>('events.retention', defined({ policy })),
    costByAgent: () => call<Record<string, unknown>[]>('events.cost_by_agent', {}),
    summary: () => call<Record<string, unknown>>('metrics.summary', {}),
    alerts: (thresholds: Record<string, number> = {}) =>
      call<{ summary: Record<string, unknown>; alerts: Record<string, unknown>[] }>('metrics.alerts', thresholds),
    setReplanConfig: (config: {
      max_replans: number;
      delay_ms: number;
      verify_before_execute: boolean;
      replan_on_rejected?: boolean;
    }) => call<null>('replan.set_config', config),
  };
}
