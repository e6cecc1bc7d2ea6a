export { executeProposal, DEFAULT_MAX_CONCURRENCY } from './execute.js';
export { interpolate, InterpolationError, type Resolution, type Resolver } from './interpolation.js';
export { toolErrorOf } from './action-runners.js';
export type {
  ActionResult,
  ActionStatus,
  AttemptAuthorizer,
  EventSink,
  ExecuteOptions,
  PolicyChecker,
  PolicyDenial,
  PolicyViolation,
  ProposalCost,
  ProposalResult,
} from './types.js';
export { ToolResultCache, DEFAULT_TOOL_CACHE_LIMITS, type ToolCacheLimits, type CacheHit } from './tool-cache.js';
export { ToolRateLimiter, rateLimitOf, type RateLimit } from '../rate-limit.js';
