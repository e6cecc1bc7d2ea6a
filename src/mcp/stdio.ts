import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { MemoryService } from '../memory/service.js';
import type { MemoryScope } from '../memory/scope.js';
import { snapshotOf } from '../memory/snapshot.js';
import type { Logger } from '../util/logger.js';
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
}

/** The durable graph only `memory_add_fact` writes to. */
const FACTS_NAMESPACE = 'mcp-stdio';

/**
 * The host of a stdio MCP process: a graph of its own, in memory, seeded at start from its memory
 * file. Only `memory_add_fact` reaches that file (fsynced before the tool answers); everything
 * else lives as long as the process, as upstream's stdio server does.
 */
export async function openStdioHost(opts: StdioHostOptions): Promise<McpHost & { close(): Promise<void> }> {
  const live = new MemoryService({ memoryDir: null, logger: opts.logger });
  const durable = opts.memoryDir === null ? null : new MemoryService({ memoryDir: opts.memoryDir, logger: opts.logger });
  const graph: MemoryScope = await live.forBinding({ memoryNamespace: null, agentId: null });
  const file = durable === null ? null : await durable.namespace(FACTS_NAMESPACE);
  if (file !== null && file.engine.factCount > 0) graph.engine.reset(snapshotOf(file.engine));
  return {
    name: 'stdio',
    version: opts.version,
    limits: opts.limits,
    logger: opts.logger,
    policyDirs: opts.policyDirs,
    memory: () => Promise.resolve(graph),
    async factAdded(fact) {
      await file?.addFact(fact, 'mcp');
    },
    async close() {
      await durable?.close();
    },
  };
}

/** Serve MCP on a pair of streams (the process's stdin and stdout for `car-mcp`). */
export async function serveStdio(host: McpHost, input: Readable, output: Writable): Promise<McpSession> {
  const session = new McpSession(host, sharedTools());
  await session.server.connect(new StdioServerTransport(input, output));
  return session;
}
