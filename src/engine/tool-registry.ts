import { CarError } from '../util/errors.js';

/** A tool the client registered; the daemon calls it back with `tools.execute`. */
export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON Schema of the tool's parameters, kept as sent. */
  parameters: unknown;
  returns?: unknown;
  idempotent: boolean;
  cache_ttl_secs?: number;
  rate_limit?: unknown;
}

export class ToolLimitError extends CarError {
  constructor(message: string, limit: number) {
    super('limit', message, { limit });
    this.name = 'ToolLimitError';
  }
}

/**
 * One session's tools, by name: the built-ins it starts with, and the ones the client registered.
 * Registering a name again replaces it (a registered tool shadows a built-in of the same name;
 * unregistering it brings the built-in back). Built-ins do not count against `maxTools`.
 */
export class ToolRegistry {
  private readonly tools = new Map<string, ToolDefinition>();
  private readonly builtins = new Map<string, ToolDefinition>();

  constructor(
    private readonly maxTools: number = Number.POSITIVE_INFINITY,
    builtins: readonly ToolDefinition[] = [],
  ) {
    for (const def of builtins) this.builtins.set(def.name, def);
  }

  register(defs: readonly ToolDefinition[]): number {
    const fresh = new Set(defs.map((d) => d.name).filter((n) => !this.tools.has(n)));
    if (this.tools.size + fresh.size > this.maxTools) {
      throw new ToolLimitError(`too many tools: at most ${this.maxTools} per session`, this.maxTools);
    }
    for (const def of defs) this.tools.set(def.name, def);
    return defs.length;
  }

  unregister(name: string): number {
    return this.tools.delete(name) ? 1 : 0;
  }

  get(name: string): ToolDefinition | undefined {
    return this.tools.get(name) ?? this.builtins.get(name);
  }

  has(name: string): boolean {
    return this.tools.has(name) || this.builtins.has(name);
  }

  /** Whether `name` is served by the built-in (not shadowed by a registered tool). */
  isBuiltin(name: string): boolean {
    return this.builtins.has(name) && !this.tools.has(name);
  }

  /** Sorted by name. */
  list(): ToolDefinition[] {
    const all = [...this.tools.values()];
    for (const [name, def] of this.builtins) if (!this.tools.has(name)) all.push(def);
    return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Tools listed, built-ins included. */
  get size(): number {
    let n = this.tools.size;
    for (const name of this.builtins.keys()) if (!this.tools.has(name)) n++;
    return n;
  }
}
