export { McpHttpEndpoint, MCP_PATH, MCP_HEALTH_PATH, type McpHttpOptions } from './http.js';
export { McpSession } from './server.js';
export { sharedTools } from './tools.js';
export type { McpHost, McpLimits } from './host.js';
export type { McpTool, ToolContext, ToolHints, McpSessionState } from './tool.js';
export { AssistantRuns, type AssistantLimits, type AssistantModel } from './assistant.js';
export { assistantTools } from './tools-assistant.js';
