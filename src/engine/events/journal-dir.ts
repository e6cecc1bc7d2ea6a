import * as fs from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_JOURNAL_MAX_FILES = 256;

type DirFs = Pick<typeof fs, 'readdirSync' | 'statSync' | 'unlinkSync'>;

/**
 * Keeps the journal directory to at most `maxFiles` journals: when a new one is created or a
 * connection lets its journal go, the oldest journals no connection is writing are deleted. A
 * journal that is still being written is never deleted, so live connections may hold more.
 * The directory is scanned once (oldest modification first); after that the index is in memory.
 */
export class JournalDirectory {
  /** Journal path → whether a connection is writing it, oldest first. */
  private index: Map<string, boolean> | null = null;

  constructor(
    readonly dir: string,
    readonly maxFiles: number,
    private readonly ops: DirFs = fs,
  ) {}

  /** How many journals the index holds (after the first scan). */
  get size(): number {
    return this.index?.size ?? 0;
  }

  /** A connection is about to create `path`. */
  created(path: string): void {
    const index = this.load();
    index.delete(path);
    index.set(path, true);
    this.enforce(index);
  }

  /** The connection writing `path` closed. */
  released(path: string): void {
    const index = this.index;
    if (index === null || !index.has(path)) return;
    index.set(path, false);
    this.enforce(index);
  }

  private load(): Map<string, boolean> {
    if (this.index !== null) return this.index;
    const found: { path: string; mtime: number }[] = [];
    let names: string[] = [];
    try {
      names = this.ops.readdirSync(this.dir).filter((n) => n.endsWith('.jsonl'));
    } catch {
      // a directory that does not exist yet holds no journals
    }
    for (const name of names) {
      const path = join(this.dir, name);
      try {
        found.push({ path, mtime: this.ops.statSync(path).mtimeMs });
      } catch {
        // gone since the listing
      }
    }
    found.sort((a, b) => a.mtime - b.mtime);
    this.index = new Map(found.map((f) => [f.path, false]));
    return this.index;
  }

  private enforce(index: Map<string, boolean>): void {
    let excess = index.size - this.maxFiles;
    if (excess <= 0) return;
    for (const [path, live] of index) {
      if (excess <= 0) break;
      if (live) continue;
      try {
        this.ops.unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') continue;
      }
      index.delete(path);
      excess--;
    }
  }
}
