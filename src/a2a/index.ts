export { A2aService, type A2aServiceOptions, type A2aStartRequest, type A2aStatus } from './service.js';
export { A2aServer, STREAMING_METHODS, type A2aLimits } from './server.js';
export { A2aProtocolError } from './errors.js';
export { parseBind, isLoopbackHost } from './bind.js';
export { buildCard, signCard, cardSigningPayload, A2UI_EXTENSION_URI } from './card.js';
export { pushTargetRefusal } from './push.js';
export { ACKNOWLEDGED } from './executor.js';
export type { A2aRuntime, A2aTool } from './runtime.js';
export { filesystemTools, type BuiltinTool } from './files-tools.js';
