import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Advisory lock file holding the owner's pid. Node has no flock, so the file appears atomically
 * via link(2) and a lock whose pid is gone is stale and taken over.
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
      if (createExclusive(path, `${process.pid}\n`)) return new PidLock(path);
      const contents = readOrNull(path);
      if (contents === null) continue;
      const holder = parsePid(contents);
      if (holder !== null && holder !== process.pid && isAlive(holder)) return { heldBy: holder };
      // Re-read right before unlinking so a lock another starter just took over is left alone.
      if (readOrNull(path) === contents) removeIfPresent(path);
    }
    throw new Error(`could not take ${path}: it keeps changing`);
  }

  /** Remove the lock file if it is still ours. */
  release(): void {
    if (!PidLock.held.delete(this.path)) return;
    if (parsePid(readOrNull(this.path) ?? '') === process.pid) removeIfPresent(this.path);
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

function parsePid(contents: string): number | null {
  const text = contents.trim();
  return /^\d+$/.test(text) && Number(text) > 0 ? Number(text) : null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
