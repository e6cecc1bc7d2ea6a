import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

let tmpCounter = 0;

/** fsync a directory so an entry created, renamed or removed in it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    // Some platforms cannot open or sync a directory; renames are still atomic there.
    if (!DIR_SYNC_UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await fh?.close();
  }
}

const DIR_SYNC_UNSUPPORTED = new Set(['EISDIR', 'EINVAL', 'EPERM', 'EBADF']);

/** `fsyncDir` for synchronous writers. */
export function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (err) {
    if (!DIR_SYNC_UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Open `path` for appending, synchronously (0600). When the file is new its directory is fsynced,
 * so the entry survives a crash along with the bytes later synced into it.
 */
export function openAppendSync(path: string): number {
  try {
    const fd = openSync(path, 'ax', 0o600);
    fsyncDirSync(dirname(path));
    return fd;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return openSync(path, 'a', 0o600);
  }
}

/**
 * `mkdir -p` (0700) that also fsyncs the parent of every directory it created, so the new
 * entries survive a crash along with whatever is then written inside them.
 */
export async function ensureDirDurable(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    await fsyncDir(dirname(d));
    if (d === first || dirname(d) === d) break;
  }
}

/** `mkdir -p` (0700); like `ensureDirDurable`, the directories it creates survive a crash. */
export async function ensureDir(dir: string): Promise<void> {
  await ensureDirDurable(dir);
}

/** Write all of `buf` at the end of `fh`, then fdatasync: the bytes are on disk when this resolves. */
export async function appendDurable(fh: FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
  await fh.datasync();
}

/**
 * Open `path` for appending (0600, parents 0700). When the file is new, its directory is fsynced
 * so that the entry itself survives a crash, not only the bytes written to it later.
 */
export async function openAppend(path: string): Promise<{ fh: FileHandle; created: boolean }> {
  await ensureDirDurable(dirname(path));
  let fh: FileHandle;
  let created = true;
  try {
    fh = await open(path, 'ax+', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    fh = await open(path, 'a+', 0o600);
    created = false;
  }
  if (created) await fsyncDir(dirname(path));
  return { fh, created };
}

/**
 * Replace `path` with `data` so that a reader (or a restart after a crash) sees either the old
 * file or the new one, whole: write a temp file beside it, fsync it, rename it over, fsync the
 * directory. Returns the bytes written.
 */
export async function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): Promise<number> {
  const tmp = `${path}~tmp-${process.pid}-${++tmpCounter}`;
  let bytes: number;
  try {
    bytes = await writeFileSynced(tmp, data, mode);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fsyncDir(dirname(path));
  return bytes;
}

/** `writeFileAtomic` for synchronous writers (files written at start-up, before the event loop matters). */
export function writeFileAtomicSync(path: string, data: string | Buffer, mode = 0o600): number {
  return writeChunksAtomicSync(path, [data], mode);
}

/**
 * `writeFileAtomicSync` for text made a piece at a time: each chunk is written as it is produced,
 * so the whole text never has to be held at once. The chunks are consumed inside the write, so a
 * generator may count what it yields. Returns the bytes written.
 */
export function writeChunksAtomicSync(path: string, chunks: Iterable<string | Buffer>, mode = 0o600): number {
  const tmp = `${path}~tmp-${process.pid}-${++tmpCounter}`;
  let bytes = 0;
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      for (const chunk of chunks) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        for (let at = 0; at < buf.length; ) at += writeSync(fd, buf, at, buf.length - at);
        bytes += buf.length;
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was created, or it is already gone
    }
    throw err;
  }
  fsyncDirSync(dirname(path));
  return bytes;
}

/** Create or overwrite `path` with `data` and fsync it (its directory entry is the caller's business). */
export async function writeFileSynced(path: string, data: string | Buffer, mode = 0o600): Promise<number> {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fh = await open(path, 'w', mode);
  try {
    await fh.writeFile(buf);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return buf.length;
}

/** Rename and make the rename durable (the directory of both ends is fsynced). */
export async function renameDurable(from: string, to: string): Promise<void> {
  await rename(from, to);
  await fsyncDir(dirname(to));
  if (dirname(from) !== dirname(to)) await fsyncDir(dirname(from));
}
