import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Advisory lock file holding the owner's pid and, where `/proc` exists, that process's start
 * time. Node has no flock, so the file appears atomically via link(2); a lock whose pid is gone,
 * or now names another process (same pid, different start time: the pid was reused), is stale
 * and taken over.
 */
export class PidLock {
  /** Paths this process holds, so a second holder inside the same process is refused too. */
  private static readonly held = new Set<string>();

  private constructor(readonly path: string) {
    PidLock.held.add(path);
  }

  /** The lock, or the pid of the live process holding it. */
  static acquire(path: string): PidLock | { heldBy: number } {
    const dir = dirname(path);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (process.platform !== 'win32') chmodSync(dir, 0o700);
    if (PidLock.held.has(path)) return { heldBy: process.pid };
    for (let attempt = 0; attempt < 5; attempt++) {
      if (createExclusive(path, lockContents(process.pid))) return new PidLock(path);
      const contents = readOrNull(path);
      if (contents === null) continue;
      const holder = parseHolder(contents);
      if (holder !== null && holder.pid !== process.pid && isHolderAlive(holder)) return { heldBy: holder.pid };
      // Re-read right before unlinking so a lock another starter just took over is left alone.
      if (readOrNull(path) === contents) removeIfPresent(path);
    }
    throw new Error(`could not take ${path}: it keeps changing`);
  }

  /** Remove the lock file if it is still ours. */
  release(): void {
    if (!PidLock.held.delete(this.path)) return;
    if (parseHolder(readOrNull(this.path) ?? '')?.pid === process.pid) removeIfPresent(this.path);
  }
}

/** Create `path` with `contents` unless it exists; readers never see it empty. */
function createExclusive(path: string, contents: string): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, contents, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS') return createExclusiveWithoutLinks(path, contents);
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

function createExclusiveWithoutLinks(path: string, contents: string): boolean {
  try {
    writeFileSync(path, contents, { mode: 0o600, flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** What a lock file says: `<pid>` or `<pid> <start time>`. */
export function lockContents(pid: number): string {
  const start = processStartTime(pid);
  return start === null ? `${pid}\n` : `${pid} ${start}\n`;
}

function parseHolder(contents: string): { pid: number; start: string | null } | null {
  const m = /^(\d+)(?: (\d+))?$/.exec(contents.trim());
  if (m === null || Number(m[1]) <= 0) return null;
  return { pid: Number(m[1]), start: m[2] ?? null };
}

/**
 * When the kernel started a process (`/proc/<pid>/stat` field 22, clock ticks since boot): with
 * the pid it names one process for good. Null where there is no `/proc` or no such process.
 */
export function processStartTime(pid: number): string | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = fields[19];
  return start !== undefined && /^\d+$/.test(start) ? start : null;
}

/** The recorded process is still running: its pid is alive and, when a start time was recorded, it matches. */
function isHolderAlive(holder: { pid: number; start: string | null }): boolean {
  if (!isAlive(holder.pid)) return false;
  if (holder.start === null) return true;
  const now = processStartTime(holder.pid);
  return now === null || now === holder.start;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
