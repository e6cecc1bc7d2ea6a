import type { z } from 'zod';
import type { McpHost } from './host.js';

/** The four behaviour hints every tool carries (`openWorldHint` is never set: all tools are local). */
export interface ToolHints {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
}

/** Per-MCP-session state a tool may keep (one per HTTP session, one per stdio process). */
export interface McpSessionState {
  readonly id: string;
  /** The proactive status slot, per tenant (`memory_update_status`). */
  readonly status: Map<string, { id: string; body: string; tenant_id?: string }>;
}

export interface ToolContext {
  readonly host: McpHost;
  readonly session: McpSessionState;
  readonly signal: AbortSignal;
}

/** One MCP tool as data: its schemas, hints and what it does over the engines. */
export interface McpTool<I extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  input: I;
  /** Object results only; the tool's structured result must match it. */
  output: z.ZodObject;
  hints: ToolHints;
  /** Served by the daemon only; `car-mcp` does not list it. */
  daemonOnly?: boolean;
  run(args: z.infer<z.ZodObject<I>>, ctx: ToolContext): Promise<Record<string, unknown>> | Record<string, unknown>;
}

export function defineTool<I extends z.ZodRawShape>(tool: McpTool<I>): McpTool {
  return tool as unknown as McpTool;
}

export const READ_ONLY: ToolHints = { readOnlyHint: true, destructiveHint: false, idempotentHint: true };
export const WRITES: ToolHints = { readOnlyHint: false, destructiveHint: false, idempotentHint: false };
