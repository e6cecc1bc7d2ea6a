import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/durable-file.js';
import { CarError } from '../util/errors.js';

export const REGISTRY_STATUSES = ['running', 'idle', 'errored', 'stopping'] as const;
export type RegistryStatus = (typeof REGISTRY_STATUSES)[number];

/** One product registered with the daemon, stored as `<dir>/<name>.json`. */
export interface RegistryEntry {
  name: string;
  dashboard_url: string;
  status: RegistryStatus;
  display_name?: string;
  capability?: string;
  port?: number;
  pid?: number;
  /** Unix seconds; filled in on register when missing or zero. */
  registered_at: number;
  /** Unix seconds; refreshed by `heartbeat`. */
  last_heartbeat_at: number;
  /** The same instant as `last_heartbeat_at` in RFC 3339 with milliseconds; compared by `reap`. */
  last_heartbeat: string;
}

/** A timestamp as a client may send it: Unix seconds (0 means "now") or RFC 3339. */
export type RegistryTime = number | string;

export type RegistryEntryInput = Omit<RegistryEntry, 'status' | 'registered_at' | 'last_heartbeat_at' | 'last_heartbeat'> & {
  status?: RegistryStatus;
  registered_at?: RegistryTime;
  last_heartbeat_at?: RegistryTime;
  last_heartbeat?: RegistryTime;
};

/** Milliseconds since the epoch of a client timestamp; null when missing, zero or unreadable. */
function millisOf(t: RegistryTime | undefined): number | null {
  if (t === undefined || t === 0 || t === '') return null;
  const ms = typeof t === 'number' ? t * 1000 : Date.parse(t);
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

/** Names become file names: letters, digits, `.`, `_`, `-`, not starting with a dot. */
export const REGISTRY_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

export class RegistryError extends CarError {
  constructor(message: string, kind: 'invalid' | 'unavailable' = 'invalid', field?: string) {
    super(kind, message, { field });
    this.name = 'RegistryError';
  }
}

/**
 * File-per-entry registry. Each write replaces its file atomically (temp + fsync + rename);
 * writes to one entry are serialised, so a heartbeat never resurrects a concurrent unregister.
 * Unreadable or malformed files are skipped by `list` and left alone by `reap`.
 */
export class RegistryStore {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(readonly dir: string) {}

  private pathOf(name: string): string {
    if (!REGISTRY_NAME.test(name)) throw new RegistryError(`invalid registry name '${name}': use letters, digits, '.', '_' or '-'`, 'invalid', 'name');
    return join(this.dir, `${name}.json`);
  }

  private serial<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(name) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.queues.set(name, tail);
    void tail.then(() => {
      if (this.queues.get(name) === tail) this.queues.delete(name);
    });
    return next;
  }

  async register(input: RegistryEntryInput, at: Date = new Date()): Promise<RegistryEntry> {
    const path = this.pathOf(input.name);
    const now = at.getTime();
    const beat = millisOf(input.last_heartbeat_at) ?? millisOf(input.last_heartbeat) ?? now;
    const entry: RegistryEntry = {
      ...input,
      status: input.status ?? 'running',
      registered_at: seconds(millisOf(input.registered_at) ?? now),
      last_heartbeat_at: seconds(beat),
      last_heartbeat: new Date(beat).toISOString(),
    };
    await this.serial(input.name, async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(path, JSON.stringify(entry, null, 2) + '\n');
    });
    return entry;
  }

  /** Refresh the heartbeat; false when the name is not registered (or its file is corrupt). */
  heartbeat(name: string, at: Date = new Date()): Promise<boolean> {
    const path = this.pathOf(name);
    return this.serial(name, async () => {
      const entry = await readEntry(path);
      if (entry === null) return false;
      entry.last_heartbeat = at.toISOString();
      entry.last_heartbeat_at = seconds(at.getTime());
      await writeFileAtomic(path, JSON.stringify(entry, null, 2) + '\n');
      return true;
    });
  }

  /** Remove an entry; removing an absent one is not an error. */
  unregister(name: string): Promise<void> {
    const path = this.pathOf(name);
    return this.serial(name, async () => {
      await unlink(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    });
  }

  /** Every readable entry, sorted by name. */
  async list(): Promise<RegistryEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const entries: RegistryEntry[] = [];
    for (const file of names) {
      if (!file.endsWith('.json')) continue;
      const name = file.slice(0, -'.json'.length);
      if (!REGISTRY_NAME.test(name)) continue;
      const entry = await readEntry(join(this.dir, file));
      if (entry !== null && entry.name === name) entries.push(entry);
    }
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Remove entries whose last heartbeat is older than `maxAgeSecs`; returns their names. */
  async reap(maxAgeSecs: number, at: Date = new Date()): Promise<string[]> {
    const cutoff = at.getTime() - maxAgeSecs * 1000;
    const removed: string[] = [];
    for (const entry of await this.list()) {
      const beat = beatOf(entry);
      if (!Number.isFinite(beat) || beat >= cutoff) continue;
      const gone = await this.serial(entry.name, async () => {
        const current = await readEntry(this.pathOf(entry.name));
        if (current === null || beatOf(current) >= cutoff) return false;
        await unlink(this.pathOf(entry.name)).catch(() => undefined);
        return true;
      });
      if (gone) removed.push(entry.name);
    }
    return removed;
  }
}

function beatOf(entry: RegistryEntry): number {
  return Date.parse(entry.last_heartbeat);
}

/** An entry as stored, brought to the current shape (files written before `last_heartbeat_at` lack it). */
function normalise(v: Partial<RegistryEntry> & { registered_at?: unknown }): RegistryEntry | null {
  const beat = millisOf(v.last_heartbeat) ?? millisOf(v.last_heartbeat_at);
  if (beat === null) return null;
  const registered = typeof v.registered_at === 'number' || typeof v.registered_at === 'string' ? millisOf(v.registered_at) : null;
  return {
    ...(v as RegistryEntry),
    registered_at: seconds(registered ?? beat),
    last_heartbeat_at: seconds(beat),
    last_heartbeat: new Date(beat).toISOString(),
  };
}

async function readEntry(path: string): Promise<RegistryEntry | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const v = JSON.parse(text) as Partial<RegistryEntry> | null;
    if (
      typeof v !== 'object' || v === null || Array.isArray(v) ||
      typeof v.name !== 'string' || typeof v.dashboard_url !== 'string'
    ) {
      return null;
    }
    return normalise(v);
  } catch {
    return null;
  }
}
