export type { AgentSpec, AgentOutput, BudgetLimits, RunUsage, AgentRunnerFn, RunHooks } from './types.js';
export { Budget } from './budget.js';
export { MultiRunner, normalizeOutput, refusedOutput, type MultiRunnerOptions } from './runner.js';
export { swarm, pipeline, supervisor, mapReduce, vote, tournament, subtask, parseSubtasks, type SwarmMode } from './patterns.js';
