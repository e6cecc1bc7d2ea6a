export { executeProposal, DEFAULT_MAX_CONCURRENCY } from './execute.js';
export { interpolate, InterpolationError, type Resolution, type Resolver } from './interpolation.js';
export { toolErrorOf } from './action-runners.js';
export type {
  ActionResult,
  ActionStatus,
  EventSink,
  ExecuteOptions,
  PolicyChecker,
  PolicyViolation,
  ProposalCost,
  ProposalResult,
} from './types.js';
