import { join } from 'node:path';
import { AssistantRuns, assistantTools, McpHttpEndpoint, sharedTools, type AssistantModel, type McpHost, type McpTool } from './mcp/index.js';
import type { ServerState } from './server/state.js';

/**
 * The daemon's side of MCP: tools run on the same shared memory graph as WS sessions without a
 * binding. File policies come from `$CAR_HOME/policies` when the state has a home.
 */
export function daemonMcpHost(state: ServerState): McpHost {
  const config = state.config;
  return {
    name: 'daemon',
    version: config.serverVersion,
    limits: { maxVerifyActions: config.maxVerifyActions, resourcePageSize: config.mcpResourcePageSize, policyFileMaxBytes: config.policyFileMaxBytes },
    logger: config.logger.child({ component: 'mcp' }),
    memory: () => state.memory.forBinding({ memoryNamespace: null, agentId: null }),
    policyDirs: config.carHome === null ? [] : [join(config.carHome, 'policies')],
  };
}

/** One assistant model turn: through the admission gate, on the configured model or a routed one. */
function assistantModel(state: ServerState): AssistantModel {
  return async (req, { local, signal }) =>
    state.admission.withPermit(async () => {
      const { result } = await state.inference.generate(req, {
        model: state.config.mcpAssistantModel,
        signal,
        intent: { task: 'code', prefer_local: local, require: ['tool_use'] },
      });
      return result;
    }, signal);
}

export interface McpEndpointOptions {
  /** Host names accepted besides loopback ones (give the bind address when it is not loopback). */
  allowedHosts?: readonly string[];
  /** Tools served besides the shared ones and the assistant. */
  extraTools?: readonly McpTool[];
}

/**
 * The MCP endpoint over a daemon state, not listening yet: call `listen(host, port)`, or route
 * `/mcp` and `/mcp/health` of a server of your own to its `handle`.
 */
export function createMcpEndpoint(state: ServerState, opts: McpEndpointOptions = {}): McpHttpEndpoint {
  const config = state.config;
  const base = daemonMcpHost(state);
  const tools = sharedTools();
  const assistant = new AssistantRuns(base, tools, assistantModel(state), {
    maxRuns: config.mcpAssistantMaxRuns,
    idleMs: config.mcpAssistantIdleMs,
    maxEvents: config.mcpAssistantMaxEvents,
    maxTurns: config.mcpAssistantMaxTurns,
  });
  return new McpHttpEndpoint({
    host: { ...base, assistant },
    tools: [...tools, ...assistantTools, ...(opts.extraTools ?? [])],
    maxSessions: config.mcpMaxSessions,
    sessionIdleMs: config.mcpSessionIdleMs,
    maxBodyBytes: config.mcpMaxBodyBytes,
    allowedHosts: opts.allowedHosts,
  });
}
