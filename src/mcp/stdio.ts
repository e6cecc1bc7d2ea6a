import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { MemoryService } from '../memory/service.js';
import type { MemoryScope } from '../memory/scope.js';
import type { Logger } from '../util/logger.js';
import { SharedFactFile } from './fact-file.js';
import type { McpHost, McpLimits } from './host.js';
import { McpSession } from './server.js';
import { sharedTools } from './tools.js';

export interface StdioHostOptions {
  version: string;
  /** Directory of this process's own memory file; `null` keeps everything in memory. */
  memoryDir: string | null;
  policyDirs: readonly string[];
  limits: McpLimits;
  logger: Logger;
  /** How long a write waits while another car-mcp process writes the same file (default 10 s). */
  factsLockWaitMs?: number;
}

/**
 * The host of a stdio MCP process: a graph of its own, in memory, seeded at start from its memory
 * file. Only `memory_add_fact` reaches that file (fsynced before the tool answers); everything
 * else lives as long as the process, as upstream's stdio server does. Several car-mcp processes
 * may share the file: each write re-reads it under a lock (see SharedFactFile).
 */
export async function openStdioHost(opts: StdioHostOptions): Promise<McpHost & { close(): Promise<void> }> {
  const live = new MemoryService({ memoryDir: null, logger: opts.logger });
  const graph: MemoryScope = await live.forBinding({ memoryNamespace: null, agentId: null });
  const file = opts.memoryDir === null ? null : new SharedFactFile(opts.memoryDir, opts.logger, opts.factsLockWaitMs);
  const seed = file === null ? null : await file.read();
  if (seed !== null && seed.facts.length > 0) graph.engine.reset(seed);
  return {
    name: 'stdio',
    version: opts.version,
    limits: opts.limits,
    logger: opts.logger,
    policyDirs: opts.policyDirs,
    memory: () => Promise.resolve(graph),
    async factAdded(fact) {
      await file?.add(fact);
    },
    async close() {
      // Nothing is held open: every write closed the file behind it.
    },
  };
}

/** Serve MCP on a pair of streams (the process's stdin and stdout for `car-mcp`). */
export async function serveStdio(host: McpHost, input: Readable, output: Writable): Promise<McpSession> {
  const session = new McpSession(host, sharedTools());
  await session.server.connect(new StdioServerTransport(input, output));
  return session;
}
