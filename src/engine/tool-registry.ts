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

/** One session's registered tools, by name. Registering a name again replaces it. */
export class ToolRegistry {
  private readonly tools = new Map<string, ToolDefinition>();

  constructor(private readonly maxTools: number = Number.POSITIVE_INFINITY) {}

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
    return this.tools.get(name);
  }

  has(name: string): boolean {
    return this.tools.has(name);
  }

  /** Sorted by name. */
  list(): ToolDefinition[] {
    return [...this.tools.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  get size(): number {
    return this.tools.size;
  }
}
