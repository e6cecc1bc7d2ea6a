import { canonicalJson } from '../../util/canonical-json.js';

export interface ToolCacheLimits {
  /** Most cached results held at once; past it the least recently used go. */
  maxEntries: number;
  /** Most bytes (key plus JSON output) held at once; a larger single result is not cached. */
  maxBytes: number;
}

export const DEFAULT_TOOL_CACHE_LIMITS: ToolCacheLimits = { maxEntries: 1024, maxBytes: 16 * 1024 * 1024 };

interface Entry {
  output: unknown;
  bytes: number;
  storedAt: number;
  expiresAt: number;
}

/** A cache hit: the stored output and how old it is. */
export interface CacheHit {
  output: unknown;
  ageMs: number;
}

/**
 * Results of a session's idempotent tools that declared `cache_ttl_secs`, keyed by tool name and
 * the canonical JSON of the parameters, kept for the TTL. Bounded by entry count and bytes,
 * least recently used first out.
 */
export class ToolResultCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly limits: ToolCacheLimits = DEFAULT_TOOL_CACHE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  static key(tool: string, parameters: Record<string, unknown>): string {
    return `${tool}\u0000${canonicalJson(parameters)}`;
  }

  get size(): number {
    return this.entries.size;
  }

  get byteSize(): number {
    return this.bytes;
  }

  get(key: string): CacheHit | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const now = this.now();
    if (now >= entry.expiresAt) {
      this.remove(key, entry);
      return undefined;
    }
    // Refresh its place in the LRU order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return { output: entry.output, ageMs: now - entry.storedAt };
  }

  /** Store a result for `ttlMs`; false when it alone is larger than the byte bound. */
  set(key: string, output: unknown, ttlMs: number): boolean {
    const bytes = key.length + (JSON.stringify(output) ?? 'null').length;
    if (bytes > this.limits.maxBytes) return false;
    const old = this.entries.get(key);
    if (old !== undefined) this.remove(key, old);
    const now = this.now();
    this.entries.set(key, { output, bytes, storedAt: now, expiresAt: now + ttlMs });
    this.bytes += bytes;
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.limits.maxEntries && this.bytes <= this.limits.maxBytes) break;
      this.remove(k, e);
    }
    return true;
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }
}
