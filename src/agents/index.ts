export { AgentSupervisor, mintAgentToken, AGENT_ID, type SupervisorOptions, type AgentSpecInput } from './supervisor.js';
export { AGENT_STATUSES, SPEC_DEFAULTS } from './types.js';
export type {
  AgentSpec,
  AgentHealth,
  AgentCapabilities,
  ManagedAgent,
  ManagedStatus,
  RestartPolicy,
  LogStream,
  TailRequest,
  TailResult,
} from './types.js';
