import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { dirname, resolve, sep } from 'node:path';

/**
 * A file system that can "lose power". While installed, every file opened, renamed or removed
 * under `root` is tracked at the level the kernel guarantees: a file's bytes are durable only as
 * of its last fsync/fdatasync, and a directory entry (a created, renamed or removed file) only
 * once its directory was fsynced. `crash()` puts the tree back to exactly that durable state, so
 * data a program acknowledged without syncing is gone, as after a power cut (a SIGKILL cannot
 * show this: the page cache survives it). Handles opened before the crash fail with EIO after it.
 *
 * It patches `node:fs` and `node:fs/promises` (both the sync and the FileHandle APIs, with
 * `syncBuiltinESMExports` so that named imports see the patch) and restores them on `uninstall`.
 */
export interface CrashFs {
  crash(): void;
  uninstall(): void;
  /** fsync/fdatasync calls seen on files (not directories) under the root. */
  readonly fileSyncs: number;
  readonly dirSyncs: number;
}

interface Inode {
  path: string;
  durable: Buffer;
}

type DirOp =
  | { kind: 'create'; path: string; ino: number }
  | { kind: 'rename'; from: string; to: string; ino: number; replaced: Buffer | null }
  | { kind: 'unlink'; path: string; durable: Buffer }
  | { kind: 'mkdir'; path: string };

interface OpenFile {
  path: string;
  ino: number;
  dir: boolean;
  dead: boolean;
}

let installed: CrashFs | null = null;

export async function installCrashFs(rootDir: string): Promise<CrashFs> {
  if (installed) throw new Error('crash-fs is already installed');
  const root = resolve(rootDir);
  const fsp = fs.promises;
  const probe = await fsp.open(process.execPath, 'r');
  const proto = Object.getPrototypeOf(probe) as FileHandle;
  await probe.close();
  const orig = {
    open: fsp.open,
    mkdir: fsp.mkdir,
    rename: fsp.rename,
    unlink: fsp.unlink,
    openSync: fs.openSync,
    renameSync: fs.renameSync,
    unlinkSync: fs.unlinkSync,
    fsyncSync: fs.fsyncSync,
    fdatasyncSync: fs.fdatasyncSync,
    writeSync: fs.writeSync,
    closeSync: fs.closeSync,
    sync: proto.sync,
    datasync: proto.datasync,
    write: proto.write,
    writeFile: proto.writeFile,
    truncate: proto.truncate,
    close: proto.close,
  };
  const readFileSync = fs.readFileSync;
  const writeFileSync = fs.writeFileSync;
  const inodes = new Map<number, Inode>();
  const dirOps = new Map<string, DirOp[]>();
  const fds = new Map<number, OpenFile>();
  const handles = new WeakMap<FileHandle, OpenFile>();
  let fileSyncs = 0;
  let dirSyncs = 0;

  const under = (p: unknown): string | null => {
    if (typeof p !== 'string') return null;
    const abs = resolve(p);
    return abs === root || abs.startsWith(root + sep) ? abs : null;
  };
  const inoOf = (p: string): number | null => {
    try {
      return fs.statSync(p).ino;
    } catch {
      return null;
    }
  };
  const contentOf = (p: string): Buffer => {
    try {
      return readFileSync(p);
    } catch {
      return Buffer.alloc(0);
    }
  };
  const pushOp = (dir: string, op: DirOp): void => {
    const list = dirOps.get(dir);
    if (list) list.push(op);
    else dirOps.set(dir, [op]);
  };
  const ensureInode = (ino: number, path: string, existedBefore: boolean): void => {
    if (!inodes.has(ino)) inodes.set(ino, { path, durable: existedBefore ? contentOf(path) : Buffer.alloc(0) });
  };
  /** Before opening a file that exists: its current content counts as durable (written before tracking). */
  const opening = (abs: string | null): boolean => {
    if (abs === null) return false;
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      return false;
    }
    if (!st.isDirectory()) ensureInode(st.ino, abs, true);
    return true;
  };
  /** Bookkeeping for a file or directory just opened at `abs`. */
  const opened = (abs: string, existed: boolean): OpenFile | null => {
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      return null;
    }
    if (st.isDirectory()) return { path: abs, ino: st.ino, dir: true, dead: false };
    if (!existed) {
      // A new file is a new inode even when the kernel reuses the number of one removed earlier.
      inodes.set(st.ino, { path: abs, durable: Buffer.alloc(0) });
      pushOp(dirname(abs), { kind: 'create', path: abs, ino: st.ino });
    }
    return { path: abs, ino: st.ino, dir: false, dead: false };
  };
  const synced = (f: OpenFile | undefined): void => {
    if (!f) return;
    if (f.dead) throw eio();
    if (f.dir) {
      dirSyncs++;
      dirOps.delete(f.path);
      return;
    }
    fileSyncs++;
    const node = inodes.get(f.ino);
    if (node) node.durable = contentOf(node.path);
  };
  const beforeRename = (from: string, to: string): { ino: number | null; replaced: Buffer | null } => {
    const ino = inoOf(from);
    if (ino !== null) ensureInode(ino, from, true);
    const toIno = inoOf(to);
    const replaced = toIno === null ? null : (inodes.get(toIno)?.durable ?? contentOf(to));
    return { ino, replaced };
  };
  const afterRename = (from: string, to: string, info: { ino: number | null; replaced: Buffer | null }): void => {
    if (info.ino === null) return;
    const node = inodes.get(info.ino);
    if (node) node.path = to;
    pushOp(dirname(to), { kind: 'rename', from, to, ino: info.ino, replaced: info.replaced });
  };
  const beforeUnlink = (abs: string): void => {
    const ino = inoOf(abs);
    if (ino === null) return;
    const durable = inodes.get(ino)?.durable ?? contentOf(abs);
    inodes.delete(ino);
    pushOp(dirname(abs), { kind: 'unlink', path: abs, durable });
  };
  const alive = (f: OpenFile | undefined): void => {
    if (f?.dead) throw eio();
  };

  fsp.open = async function (this: unknown, path: fs.PathLike, flags?: string | number, mode?: fs.Mode) {
    const abs = under(path);
    const existed = opening(abs);
    const fh = await orig.open.call(this, path, flags, mode);
    if (abs !== null) {
      const f = opened(abs, existed);
      if (f) {
        handles.set(fh, f);
        fds.set(fh.fd, f);
      }
    }
    return fh;
  } as typeof fsp.open;
  fsp.mkdir = async function (path: fs.PathLike, options?: fs.MakeDirectoryOptions | fs.Mode | null) {
    const abs = under(path);
    const missing: string[] = [];
    if (abs !== null) for (let d = abs; d.startsWith(root + sep) && !fs.existsSync(d); d = dirname(d)) missing.push(d);
    const out = await (orig.mkdir as (p: fs.PathLike, o?: unknown) => Promise<string | undefined>)(path, options);
    // A new directory's entry lives in its parent: it is durable once the parent is fsynced.
    for (const d of missing.reverse()) pushOp(dirname(d), { kind: 'mkdir', path: d });
    return out;
  } as typeof fsp.mkdir;
  fsp.rename = async function (from: fs.PathLike, to: fs.PathLike) {
    const a = under(from);
    const b = under(to);
    if (a === null || b === null) return orig.rename(from, to);
    const info = beforeRename(a, b);
    await orig.rename(from, to);
    afterRename(a, b, info);
  };
  fsp.unlink = async function (path: fs.PathLike) {
    const abs = under(path);
    if (abs !== null) beforeUnlink(abs);
    return orig.unlink(path);
  };
  fs.openSync = function (path: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode | null) {
    const abs = under(path);
    const existed = opening(abs);
    const fd = orig.openSync(path, flags ?? "r", mode);
    if (abs !== null) {
      const f = opened(abs, existed);
      if (f) fds.set(fd, f);
    }
    return fd;
  } as typeof fs.openSync;
  fs.renameSync = function (from: fs.PathLike, to: fs.PathLike) {
    const a = under(from);
    const b = under(to);
    if (a === null || b === null) return orig.renameSync(from, to);
    const info = beforeRename(a, b);
    orig.renameSync(from, to);
    afterRename(a, b, info);
  };
  fs.unlinkSync = function (path: fs.PathLike) {
    const abs = under(path);
    if (abs !== null) beforeUnlink(abs);
    return orig.unlinkSync(path);
  };
  fs.fsyncSync = function (fd: number) {
    alive(fds.get(fd));
    orig.fsyncSync(fd);
    synced(fds.get(fd));
  };
  fs.fdatasyncSync = function (fd: number) {
    alive(fds.get(fd));
    orig.fdatasyncSync(fd);
    synced(fds.get(fd));
  };
  fs.writeSync = function (this: unknown, fd: number, ...rest: unknown[]) {
    alive(fds.get(fd));
    return (orig.writeSync as (...a: unknown[]) => number).call(this, fd, ...rest);
  } as typeof fs.writeSync;
  fs.closeSync = function (fd: number) {
    fds.delete(fd);
    orig.closeSync(fd);
  };
  proto.sync = async function (this: FileHandle) {
    const f = handles.get(this);
    alive(f);
    await orig.sync.call(this);
    synced(f);
  };
  proto.datasync = async function (this: FileHandle) {
    const f = handles.get(this);
    alive(f);
    await orig.datasync.call(this);
    synced(f);
  };
  proto.write = async function (this: FileHandle, ...args: unknown[]) {
    alive(handles.get(this));
    return (orig.write as (...a: unknown[]) => Promise<unknown>).apply(this, args);
  } as FileHandle['write'];
  proto.writeFile = async function (this: FileHandle, ...args: unknown[]) {
    alive(handles.get(this));
    return (orig.writeFile as (...a: unknown[]) => Promise<void>).apply(this, args);
  } as FileHandle['writeFile'];
  proto.truncate = async function (this: FileHandle, len?: number) {
    alive(handles.get(this));
    return orig.truncate.call(this, len);
  };
  proto.close = async function (this: FileHandle) {
    const f = handles.get(this);
    if (f) for (const [fd, g] of fds) if (g === f) fds.delete(fd);
    return orig.close.call(this);
  };
  syncBuiltinESMExports();

  const api: CrashFs = {
    get fileSyncs() {
      return fileSyncs;
    },
    get dirSyncs() {
      return dirSyncs;
    },
    crash() {
      // File contents back to their last sync, wherever the file is now.
      for (const [ino, node] of inodes) if (inoOf(node.path) === ino) writeFileSync(node.path, node.durable);
      // Then every directory change not made durable by a directory fsync is undone, newest first.
      for (const ops of dirOps.values()) {
        for (const op of ops.reverse()) {
          if (op.kind === 'create') {
            if (inoOf(op.path) === op.ino) orig.unlinkSync(op.path);
          } else if (op.kind === 'rename') {
            if (inoOf(op.to) === op.ino) orig.renameSync(op.to, op.from);
            if (op.replaced !== null) writeFileSync(op.to, op.replaced, { mode: 0o600 });
          } else if (op.kind === 'mkdir') {
            fs.rmSync(op.path, { recursive: true, force: true });
          } else {
            writeFileSync(op.path, op.durable, { mode: 0o600 });
          }
        }
      }
      for (const f of fds.values()) f.dead = true;
      fds.clear();
      inodes.clear();
      dirOps.clear();
    },
    uninstall() {
      fsp.open = orig.open;
      fsp.mkdir = orig.mkdir;
      fsp.rename = orig.rename;
      fsp.unlink = orig.unlink;
      fs.openSync = orig.openSync;
      fs.renameSync = orig.renameSync;
      fs.unlinkSync = orig.unlinkSync;
      fs.fsyncSync = orig.fsyncSync;
      fs.fdatasyncSync = orig.fdatasyncSync;
      fs.writeSync = orig.writeSync;
      fs.closeSync = orig.closeSync;
      proto.sync = orig.sync;
      proto.datasync = orig.datasync;
      proto.write = orig.write;
      proto.writeFile = orig.writeFile;
      proto.truncate = orig.truncate;
      proto.close = orig.close;
      syncBuiltinESMExports();
      installed = null;
    },
  };
  installed = api;
  return api;
}

function eio(): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error('EIO: the process crashed (crash-fs)');
  err.code = 'EIO';
  return err;
}
