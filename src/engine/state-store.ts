import { CarError } from '../util/errors.js';

const TENANT_PREFIX = 'tenant:';

/** Raised when a state operation is refused; `field` names the offending input. */
export class StateError extends CarError {
  declare readonly field: string;

  constructor(message: string, field: string, kind: 'invalid' | 'limit' = 'invalid', limit?: number) {
    super(kind, message, { field, limit });
    this.name = 'StateError';
  }
}

/**
 * A session's key/value state. Tenant views share one map under the internal prefix
 * `tenant:<id>:`; the unscoped view neither sees nor may write keys under that prefix, so
 * scoped and unscoped data are isolated both ways.
 */
export class StateStore {
  private readonly map = new Map<string, unknown>();

  constructor(private readonly maxKeys: number = Number.POSITIVE_INFINITY) {}

  /** The view for a tenant; `null`, `undefined` or `''` is the unscoped view. */
  view(tenantId?: string | null): StateView {
    if (tenantId === undefined || tenantId === null || tenantId === '') return new StateView(this, '');
    if (tenantId.includes(':')) throw new StateError(`tenant_id must not contain ':' (got '${tenantId}')`, 'tenant_id');
    return new StateView(this, `${TENANT_PREFIX}${tenantId}:`);
  }

  get size(): number {
    return this.map.size;
  }

  /** Every raw entry, tenant keys included (for snapshots taken by the runtime). */
  entries(): IterableIterator<[string, unknown]> {
    return this.map.entries();
  }

  /** Replace the whole map (rollback). */
  restore(entries: Iterable<[string, unknown]>): void {
    this.map.clear();
    for (const [k, v] of entries) this.map.set(k, v);
  }

  /** @internal */ rawGet(key: string): unknown {
    return this.map.get(key);
  }
  /** @internal */ rawHas(key: string): boolean {
    return this.map.has(key);
  }
  /** @internal */ rawSet(key: string, value: unknown): void {
    if (!this.map.has(key) && this.map.size >= this.maxKeys) {
      throw new StateError(`state is full: at most ${this.maxKeys} keys per session`, 'key', 'limit', this.maxKeys);
    }
    this.map.set(key, value);
  }
  /** @internal */ rawDelete(key: string): boolean {
    return this.map.delete(key);
  }
  /** @internal */ rawKeys(): IterableIterator<string> {
    return this.map.keys();
  }
}

export class StateView {
  constructor(
    private readonly store: StateStore,
    private readonly prefix: string,
  ) {}

  get scoped(): boolean {
    return this.prefix !== '';
  }

  private visible(key: string): boolean {
    return this.scoped || !key.startsWith(TENANT_PREFIX);
  }

  get(key: string): unknown {
    if (!this.visible(key)) return null;
    const value = this.store.rawGet(this.prefix + key);
    return value === undefined ? null : value;
  }

  has(key: string): boolean {
    return this.visible(key) && this.store.rawHas(this.prefix + key);
  }

  set(key: string, value: unknown): void {
    if (!this.visible(key)) {
      throw new StateError(`key '${key}' uses the reserved '${TENANT_PREFIX}' prefix; pass tenant_id instead`, 'key');
    }
    this.store.rawSet(this.prefix + key, value === undefined ? null : value);
  }

  delete(key: string): boolean {
    return this.visible(key) && this.store.rawDelete(this.prefix + key);
  }

  keys(): string[] {
    const out: string[] = [];
    for (const raw of this.store.rawKeys()) {
      if (this.scoped) {
        if (raw.startsWith(this.prefix)) out.push(raw.slice(this.prefix.length));
      } else if (!raw.startsWith(TENANT_PREFIX)) {
        out.push(raw);
      }
    }
    return out;
  }

  snapshot(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of this.keys()) out[key] = this.store.rawGet(this.prefix + key);
    return out;
  }
}
