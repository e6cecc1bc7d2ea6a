export { CarClient, type ConnectOptions, type CallOptions, type RequestContext, type RequestHandler, type NotificationHandler, type ToolHandler, type ToolCallHandler } from './client.js';
export { discoverToken, discoverHostToken, defaultTokenFile, type TokenLookup } from './token.js';
export type * from './types.js';
export { RemoteError, RequestAbortedError, ErrorCode } from '../rpc/errors.js';
export type * from './runtime-types.js';
export type { MemoryApi } from './memory-api.js';
export type * from './memory.js';
export type { InferenceApi, InferParams, InferStream, InferStreamResult, RunnerCall, RunnerHandler } from './inference-api.js';
export type { GenerateResult, StreamEvent, ToolCall, Usage, RouteDecision, ModelProfile, UnifiedModel } from './inference-api.js';
