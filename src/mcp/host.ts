import type { FactInput } from '../memory/types.js';
import type { AssistantRuns } from './assistant.js';
import type { MemoryScope } from '../memory/scope.js';
import type { Logger } from '../util/logger.js';

/** The limits an MCP endpoint enforces; the daemon takes them from `ServerStateConfig`. */
export interface McpLimits {
  /** Most actions `verify` accepts in one proposal. */
  maxVerifyActions: number;
  /** Resources per `resources/list` page. */
  resourcePageSize: number;
  /** Largest policy file `policy_check` reads. */
  policyFileMaxBytes: number;
}

/**
 * What the MCP tools run on. The daemon's host hands out its shared memory graph (the one WS
 * sessions without a binding use); `car-mcp` hands out a graph of its own.
 */
export interface McpHost {
  readonly name: 'daemon' | 'stdio';
  readonly version: string;
  readonly limits: McpLimits;
  readonly logger: Logger;
  /** The graph every MCP tool reads and writes. */
  memory(): Promise<MemoryScope>;
  /**
   * Called after `memory_add_fact` applied a fact, for hosts that keep those facts durable on
   * their own (stdio); the daemon's graph is durable as a whole and leaves this out.
   */
  factAdded?(fact: FactInput): Promise<void>;
  /** Where `policy_check` reads file rules from (in order); none configured means no rules. */
  readonly policyDirs: readonly string[];
  /** The daemon's assistant runs (`assistant_*`); absent over stdio. */
  readonly assistant?: AssistantRuns;
}
