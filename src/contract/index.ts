/** The method contract: everything a method file needs to declare a method and read its context. */
export { defineMethod, MethodTable, type MethodSpec, type MethodRoute, type ProposalParams, type TablePolicy } from './method.js';
export type { MethodContext, ServerContext, SessionContext, SessionChannel, HandlerConfig, LocalRequestHandler, SessionHalt } from './context.js';
export { ROLE_RANK, type Role } from './roles.js';
export { GATE_ORDER, matchesNameList, type GateName } from './gates.js';
export { mayCall, hostCheckOff } from './access.js';
export { buildOpenRpcDocument } from './openrpc.js';
export { PROTOCOL_VERSION, DEFAULT_GATED_METHODS } from './protocol.js';
