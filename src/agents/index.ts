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
export { ChatHub, CHAT_EVENT_KINDS, type ChatEvent, type ChatEventKind, type ChatRoute, type ChatSession, type ChatEnd, type ChatHubOptions } from './chat.js';
export { GoalStore, normalizeGoal, GOAL_ITERATIONS, type ChatGoal } from './goals.js';
export { GoalLoop, judgePrompt, parseVerdict, type Judge, type GoalVerdict, type GoalLoopOptions } from './goal-loop.js';
export { suggestGoal, type GoalSuggestion } from './verifier.js';
