import type { Call } from './runtime-api.js';
import { defined } from '../util/values.js';

type Params = Record<string, unknown>;
type Result = Record<string, unknown>;

/** `host.*`: agents, devices, approvals and the live event stream (`host.event` notifications). */
export function hostApi(call: Call) {
  return {
    subscribe: () => call<Result>('host.subscribe', {}),
    agents: () => call<Result[]>('host.agents', {}),
    devices: () => call<Result[]>('host.devices', {}),
    events: (limit?: number) => call<{ events: Result[] }>('host.events', defined({ limit })),
    approvals: () => call<{ approvals: Result[] }>('host.approvals', {}),
    registerAgent: (agent: Params) => call<Result>('host.register_agent', agent),
    unregisterAgent: (agentId: string) => call<{ ok: boolean }>('host.unregister_agent', { agent_id: agentId }),
    setStatus: (agentId: string, status: string, extra: Params = {}) =>
      call<Result>('host.set_status', { agent_id: agentId, status, ...extra }),
    notify: (event: Params = {}) => call<Result>('host.notify', event),
    registerDevice: (device: Params) => call<Result>('host.register_device', device),
    updateDevice: (deviceId: string, changes: Params) => call<Result>('host.update_device', { device_id: deviceId, ...changes }),
    requestApproval: (request: Params) => call<Result>('host.request_approval', request),
    resolveApproval: (approvalId: string, approved: boolean, notes?: string) =>
      call<Result>('host.resolve_approval', defined({ approval_id: approvalId, approved, notes })),
  };
}

/** `supervision.*` and `admission.status`. */
export function supervisionApi(call: Call) {
  return {
    subscribe: (filter?: { tools?: string[]; sessions?: string[]; min_reversibility?: string }) =>
      call<{ subscribed: true; decision_timeout_ms: number; supervisors: number }>('supervision.subscribe', defined({ filter })),
    unsubscribe: () => call<{ subscribed: false; was_subscribed: boolean }>('supervision.unsubscribe', {}),
    pending: () => call<{ intents: Result[] }>('supervision.pending', {}),
    decide: (intentId: string, kind: 'allow' | 'deny' | 'escalate', reason?: string) =>
      call<{ decided: true }>('supervision.decide', { intent_id: intentId, decision: defined({ kind, reason }) }),
    admissionStatus: () => call<Result>('admission.status', {}),
  };
}

/** `runs.*`: durable run traces. */
export function runsApi(call: Call) {
  return {
    start: (intent: string, options: Params = {}) => call<{ run_id: string; agent_id: string }>('runs.start', { intent, ...options }),
    recordTurns: (runId: string, turns: Params[]) => call<Result>('runs.record_turns', { run_id: runId, turns }),
    complete: (runId: string, outcome: Params) => call<{ run_id: string; ok: boolean }>('runs.complete', { run_id: runId, outcome }),
    subscribe: (runId: string) => call<Result>('runs.subscribe', { run_id: runId }),
    unsubscribe: (runId: string) => call<Result>('runs.unsubscribe', { run_id: runId }),
    list: (agentId: string) => call<{ agent_id: string; runs: Result[] }>('runs.list', { agent_id: agentId }),
    getTrace: (runId: string, cursor?: number) => call<Result>('runs.get_trace', defined({ run_id: runId, cursor })),
  };
}

/** `registry.*`: file-based discovery of running services. */
export function registryApi(call: Call) {
  return {
    register: (entry: Params) => call<null>('registry.register', { entry }),
    heartbeat: (name: string) => call<{ refreshed: boolean }>('registry.heartbeat', { name }),
    unregister: (name: string) => call<null>('registry.unregister', { name }),
    list: () => call<Result[]>('registry.list', {}),
    reap: (maxAgeSecs?: number) => call<string[]>('registry.reap', defined({ max_age_secs: maxAgeSecs })),
  };
}
