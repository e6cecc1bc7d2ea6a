/** Static verification of proposals: verify, simulate, equivalent, optimize and monte carlo. */
export { verify, DEFAULT_MAX_ACTIONS } from './verify.js';
export { simulate, simulateTrace, type SimulationTrace } from './simulate.js';
export { equivalent, MAX_TEST_STATES, type EquivalenceResult } from './equivalent.js';
export { optimize, type OptimizeResult } from './optimize.js';
export {
  monteCarlo,
  DEFAULT_RATE_WINDOW_DAYS,
  DEFAULT_SEED,
  DEFAULT_SUCCESS_RATE,
  DEFAULT_TRIALS,
  MAX_TRIALS,
  MAX_TRIAL_STEPS,
  type MonteCarloConfig,
  type MonteCarloOptions,
  type MonteCarloResult,
  type RateSource,
  type ToolHistory,
  type Block,
  type Distribution,
  type RateProvenance,
} from './monte-carlo.js';
export { parseGoal, UNDERIVABLE_GOALS, type Goal } from './goal.js';
export { schemaViolations, type SchemaViolation } from './schema.js';
export { SplitMix64 } from './splitmix64.js';
export { REPEATED_CALL_THRESHOLD } from './checks/loops.js';
export { MAX_CONFLICTS } from './checks/conflicts.js';
export * from './types.js';
