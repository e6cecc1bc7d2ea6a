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
  /** RFC 3339; filled in on register when missing. */
  registered_at: string;
  /** RFC 3339; refreshed by `heartbeat`, compared by `reap`. */
  last_heartbeat: string;
}

export type RegistryEntryInput = Omit<RegistryEntry, 'status' | 'registered_at' | 'last_heartbeat'> &
  Partial<Pick<RegistryEntry, 'status' | 'registered_at' | 'last_heartbeat'>>;

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
    const stamp = at.toISOString();
    const entry: RegistryEntry = {
      ...input,
      status: input.status ?? 'running',
      registered_at: input.registered_at ?? stamp,
      last_heartbeat: input.last_heartbeat ?? stamp,
    };
    await this.serial(input.name, async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(path, JSON.stringify(entry, null, 2) + '\n');
    });
    return entry;
  }

  /** Refresh `last_heartbeat`; false when the name is not registered (or its file is corrupt). */
  heartbeat(name: string, at: Date = new Date()): Promise<boolean> {
    const path = this.pathOf(name);
    return this.serial(name, async () => {
      const entry = await readEntry(path);
      if (entry === null) return false;
      entry.last_heartbeat = at.toISOString();
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
      const beat = Date.parse(entry.last_heartbeat);
      if (!Number.isFinite(beat) || beat >= cutoff) continue;
      const gone = await this.serial(entry.name, async () => {
        const current = await readEntry(this.pathOf(entry.name));
        if (current === null || Date.parse(current.last_heartbeat) >= cutoff) return false;
        await unlink(this.pathOf(entry.name)).catch(() => undefined);
        return true;
      });
      if (gone) removed.push(entry.name);
    }
    return removed;
  }
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
      typeof v.name !== 'string' || typeof v.dashboard_url !== 'string' || typeof v.last_heartbeat !== 'string'
    ) {
      return null;
    }
    return v as RegistryEntry;
  } catch {
    return null;
  }
}
