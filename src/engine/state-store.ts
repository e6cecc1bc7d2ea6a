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
export interface StateLimits {
  /** Most keys, all tenants together. */
  maxKeys?: number;
  /** Most bytes (key plus JSON of the value), all keys together. */
  maxBytes?: number;
  /** Most bytes of one value's JSON. */
  maxValueBytes?: number;
}

/** Bytes one entry counts for: its key and its value's JSON text (UTF-16 units, an upper bound of neither). */
export function entryBytes(key: string, value: unknown): number {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  return key.length + (json?.length ?? 0);
}

export class StateStore {
  private readonly map = new Map<string, unknown>();
  private readonly sizes = new Map<string, number>();
  private totalBytes = 0;
  private readonly maxKeys: number;
  private readonly maxBytes: number;
  private readonly maxValueBytes: number;

  constructor(limits: StateLimits | number = {}) {
    const l = typeof limits === 'number' ? { maxKeys: limits } : limits;
    this.maxKeys = l.maxKeys ?? Number.POSITIVE_INFINITY;
    this.maxBytes = l.maxBytes ?? Number.POSITIVE_INFINITY;
    this.maxValueBytes = l.maxValueBytes ?? Number.POSITIVE_INFINITY;
  }

  /** Bytes held, as counted against `maxBytes`. */
  get bytes(): number {
    return this.totalBytes;
  }

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
    this.sizes.clear();
    this.totalBytes = 0;
    for (const [k, v] of entries) {
      const size = entryBytes(k, v);
      this.map.set(k, v);
      this.sizes.set(k, size);
      this.totalBytes += size;
    }
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
    const size = entryBytes(key, value);
    if (size - key.length > this.maxValueBytes) {
      throw new StateError(
        `value of '${truncated(key)}' is ${size - key.length} bytes of JSON; one value may hold at most ${this.maxValueBytes}`,
        'value',
        'limit',
        this.maxValueBytes,
      );
    }
    const total = this.totalBytes - (this.sizes.get(key) ?? 0) + size;
    if (total > this.maxBytes) {
      throw new StateError(
        `state is full: this write would bring the session to ${total} bytes, over its ${this.maxBytes}`,
        'value',
        'limit',
        this.maxBytes,
      );
    }
    this.map.set(key, value);
    this.sizes.set(key, size);
    this.totalBytes = total;
  }
  /** @internal */ rawDelete(key: string): boolean {
    this.totalBytes -= this.sizes.get(key) ?? 0;
    this.sizes.delete(key);
    return this.map.delete(key);
  }
  /** @internal */ rawKeys(): IterableIterator<string> {
    return this.map.keys();
  }
}

function truncated(key: string): string {
  return key.length > 64 ? `${key.slice(0, 64)}…` : key;
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
