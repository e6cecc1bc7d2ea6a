import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { silentLogger, type Logger } from '../util/logger.js';
import type { ConsolidationReport } from './consolidation.js';
import { DurableStore } from './durable-log.js';
import type { Embedder } from './embedder.js';
import { MemoryEngine } from './engine.js';
import { agentSnapshotPath, namespaceSnapshotPath } from './namespaces.js';
import { resolveSandboxed } from './sandbox.js';
import { MemoryScope, type ScopeKind } from './scope.js';
import { MemoryError } from './types.js';
import { DEFAULT_UTILITY, type UtilitySettings } from './utility.js';

export interface MemoryServiceOptions {
  /** Root for durable memory (`$CAR_HOME/memory`); `null` keeps every graph in memory only. */
  memoryDir: string | null;
  /**
   * Snapshot path of the shared graph (its log sits beside it), e.g. `$CAR_HOME/memory/shared.json`;
   * `null` (the default) keeps the shared graph in memory only.
   */
  sharedPath?: string | null;
  logger?: Logger;
  /** Durable log size that triggers a snapshot (see DurableStore). */
  compactMinBytes?: number;
}

/**
 * Every memory graph of one daemon: the shared graph unbound sessions use, one private graph per
 * `memory_namespace`, one per bound `agent_id`. Graphs are created on first use; durable ones are
 * loaded from disk then. Constructing the service touches nothing.
 */
export class MemoryService {
  /** Global utility knobs (`memory.utility_set`): shared by every graph, not persisted. */
  readonly utility: UtilitySettings = { ...DEFAULT_UTILITY };
  private readonly opened = new Map<string, Promise<MemoryScope>>();
  private readonly logger: Logger;
  private embedder: Embedder | null = null;

  constructor(private readonly opts: MemoryServiceOptions) {
    this.logger = opts.logger ?? silentLogger;
  }

  /** Give every graph (open now or later) vector similarity from `embedder`. Optional. */
  async useEmbedder(embedder: Embedder): Promise<void> {
    this.embedder = embedder;
    for (const scope of await this.scopes()) scope.useEmbedder(embedder);
  }

  get memoryDir(): string | null {
    return this.opts.memoryDir;
  }

  /** The daemon-wide graph: durable at `sharedPath` when one is configured, in memory otherwise. */
  shared(): Promise<MemoryScope> {
    const path = this.opts.sharedPath ?? null;
    return this.open('shared', null, path === null ? null : () => path);
  }

  namespace(ns: string): Promise<MemoryScope> {
    return this.open('namespace', ns, (dir) => namespaceSnapshotPath(dir, ns));
  }

  agent(agentId: string): Promise<MemoryScope> {
    return this.open('agent', agentId, (dir) => agentSnapshotPath(dir, agentId));
  }

  /** Scope precedence: a namespace binding, then an agent binding, then the shared graph. */
  forBinding(binding: { memoryNamespace: string | null; agentId: string | null }): Promise<MemoryScope> {
    if (binding.memoryNamespace !== null) return this.namespace(binding.memoryNamespace);
    if (binding.agentId !== null) return this.agent(binding.agentId);
    return this.shared();
  }

  /** Scopes opened so far (the shared one only once used). */
  async scopes(): Promise<MemoryScope[]> {
    const out: MemoryScope[] = [];
    for (const p of this.opened.values()) {
      const scope = await p.catch(() => null);
      if (scope) out.push(scope);
    }
    return out;
  }

  /**
   * Resolve a `memory.persist` / `memory.load` name inside the export folder
   * (`<memoryDir>/exports`). The graphs' own files live elsewhere, so no name reaches them.
   */
  async exportPath(requested: string, verb: 'persist' | 'load'): Promise<string> {
    if (this.opts.memoryDir === null) {
      throw new MemoryError(
        `memory.${verb} is unavailable: this daemon keeps memory in memory only (no memory directory configured)`,
        'unavailable',
      );
    }
    return resolveSandboxed(join(this.opts.memoryDir, EXPORT_DIR), requested, verb);
  }

  /** One dream pass over every open graph, one after the other. */
  async consolidateAll(): Promise<{ scope: string; report: ConsolidationReport }[]> {
    const out: { scope: string; report: ConsolidationReport }[] = [];
    for (const scope of await this.scopes()) out.push({ scope: scope.label, report: await scope.consolidate() });
    return out;
  }

  /** Flush and close durable graphs. The service can be used again afterwards (graphs reopen). */
  async close(): Promise<void> {
    const scopes = await this.scopes();
    this.opened.clear();
    await Promise.all(
      scopes.map((s) => s.close().catch((err: unknown) => this.logger.warn({ err, scope: s.label }, 'closing memory failed'))),
    );
  }

  private newEngine(): MemoryEngine {
    return new MemoryEngine({ utility: this.utility });
  }

  private open(kind: ScopeKind, key: string | null, pathOf: ((dir: string) => string) | null): Promise<MemoryScope> {
    const id = `${kind}\u0000${key ?? ''}`;
    let pending = this.opened.get(id);
    if (!pending) {
      pending = this.load(kind, key, pathOf);
      this.opened.set(id, pending);
      pending.catch(() => {
        if (this.opened.get(id) === pending) this.opened.delete(id);
      });
    }
    return pending;
  }

  private async load(kind: ScopeKind, key: string | null, pathOf: ((dir: string) => string) | null): Promise<MemoryScope> {
    const engine = this.newEngine();
    const dir = this.opts.memoryDir;
    const path = pathOf === null ? null : kind === 'shared' ? pathOf('') : dir === null ? null : pathOf(dir);
    if (path === null) return new MemoryScope(kind, key, engine, null, this.embedder);
    const label = this.display(path);
    const { store, recovery } = await DurableStore.open(path, engine, {
      compactMinBytes: this.opts.compactMinBytes,
      logger: this.logger,
      label,
    });
    const scope = new MemoryScope(kind, key, engine, store, this.embedder);
    scope.recovery = recovery;
    this.logger.info({ scope: scope.label, file: label, facts: engine.factCount, base: recovery.base, replayed: recovery.replayed, skipped: recovery.skipped.length }, 'memory graph loaded');
    return scope;
  }

  /** A durable file as messages show it: relative to the memory directory's parent (CAR_HOME in the binary). */
  private display(path: string): string {
    const dir = this.opts.memoryDir;
    if (dir === null) return basename(path);
    const rel = relative(dirname(dir), path);
    return rel.startsWith('..') || isAbsolute(rel) ? basename(path) : rel;
  }
}

/** Where `memory.persist` writes and `memory.load` reads, under the memory directory. */
export const EXPORT_DIR = 'exports';
