import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { silentLogger, type Logger } from '../util/logger.js';
import { fsyncDir, writeFileAtomic } from './atomic-file.js';
import type { MemoryEngine } from './engine.js';
import type { MemoryOp } from './ops.js';
import { parseSnapshot, serializeSnapshot, snapshotOf, type SnapshotData } from './snapshot.js';
import { MemoryError } from './types.js';

export interface DurableStoreOptions {
  /** Compact once the log outgrows both this and the last snapshot (amortised O(1) per write). */
  compactMinBytes?: number;
  logger?: Logger;
}

export const DEFAULT_COMPACT_MIN_BYTES = 1024 * 1024;

type Task =
  | { kind: 'op'; op: MemoryOp; apply: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }
  | { kind: 'barrier'; run: () => Promise<void>; resolve: (v: unknown) => void; reject: (e: unknown) => void };

export interface RecoveryInfo {
  snapshotFacts: number;
  replayed: number;
  /** Bytes of an unfinished last record that were cut off (a write that was never acknowledged). */
  truncatedBytes: number;
}

/**
 * Durability for one graph: a snapshot file (`<name>.json`, the flat JSON format) plus an
 * append-only op log (`<name>.log`, one JSON record per line with a sequence number).
 *
 * A write is acknowledged only after its record is on disk: records queued while a flush is in
 * progress are written together and share one fdatasync (group commit), then applied to the
 * engine in log order. When the log grows past the snapshot's size the graph is snapshotted
 * (temp file, fsync, rename) and the log truncated, so a write costs O(1) amortised and recovery
 * reads one snapshot and a bounded log. Records at or below the snapshot's sequence number are
 * skipped on replay, so a crash between the rename and the truncate is harmless.
 */
export class DurableStore {
  private readonly queue: Task[] = [];
  private draining = false;
  private seq: number;
  private logBytes: number;
  private snapshotBytes: number;
  private broken: Error | null = null;
  private closed = false;
  private readonly compactMinBytes: number;
  private readonly logger: Logger;

  private constructor(
    readonly snapshotPath: string,
    readonly logPath: string,
    private readonly engine: MemoryEngine,
    private readonly fh: FileHandle,
    state: { seq: number; logBytes: number; snapshotBytes: number },
    opts: DurableStoreOptions,
  ) {
    this.seq = state.seq;
    this.logBytes = state.logBytes;
    this.snapshotBytes = state.snapshotBytes;
    this.compactMinBytes = opts.compactMinBytes ?? DEFAULT_COMPACT_MIN_BYTES;
    this.logger = opts.logger ?? silentLogger;
  }

  /** Load the snapshot and replay the log into `engine`, then open the log for appending. */
  static async open(
    snapshotPath: string,
    engine: MemoryEngine,
    opts: DurableStoreOptions = {},
  ): Promise<{ store: DurableStore; recovery: RecoveryInfo }> {
    const logPath = snapshotPath.replace(/\.json$/, '') + '.log';
    await mkdir(dirname(snapshotPath), { recursive: true });
    await removeStaleTemps(snapshotPath);
    let seq = 0;
    let snapshotBytes = 0;
    let snapshotFacts = 0;
    const snapText = await readIfExists(snapshotPath);
    if (snapText !== null) {
      const data = parseSnapshot(snapText, snapshotPath);
      engine.reset(data);
      seq = data.seq;
      snapshotBytes = Buffer.byteLength(snapText);
      snapshotFacts = engine.factCount;
    }

    const logExisted = existsSync(logPath);
    const logBuf = logExisted ? await readFile(logPath) : Buffer.alloc(0);
    const { records, validBytes } = parseLog(logBuf);
    let replayed = 0;
    for (const { seq: s, op } of records) {
      if (s <= seq) continue;
      try {
        engine.apply(op);
      } catch {
        // The op failed when it was first applied too (its caller got the error); same outcome now.
      }
      seq = s;
      replayed++;
    }

    const fh = await open(logPath, 'a+', 0o600);
    const truncatedBytes = logBuf.length - validBytes;
    if (truncatedBytes > 0) {
      await fh.truncate(validBytes);
      await fh.datasync();
    }
    if (!logExisted) await fsyncDir(dirname(logPath));
    const store = new DurableStore(snapshotPath, logPath, engine, fh, { seq, logBytes: validBytes, snapshotBytes }, opts);
    if (store.needsCompaction()) await store.compact();
    return { store, recovery: { snapshotFacts, replayed, truncatedBytes } };
  }

  /** Log `op`, wait until it is on disk, then run `apply` (in log order) and resolve with its result. */
  run<R>(op: MemoryOp, apply: () => R): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.closed) return reject(new MemoryError('memory store is closed', 'unavailable'));
      this.queue.push({ kind: 'op', op, apply, resolve: resolve as (v: unknown) => void, reject });
      this.drain();
    });
  }

  /** Replace the whole graph: a new snapshot on disk first, then `apply` swaps the engine's content. */
  replace(data: SnapshotData, apply: () => void): Promise<void> {
    return this.barrier(async () => {
      await this.writeSnapshot(serializeSnapshot({ ...data, seq: this.seq }));
      apply();
    });
  }

  /** Wait for pending writes, snapshot if the log holds anything, close the log. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.barrier(async () => {
      if (this.logBytes > 0 && this.broken === null) await this.compact();
    }).catch((err: unknown) => this.logger.warn({ err, path: this.snapshotPath }, 'memory snapshot on close failed'));
    this.closed = true;
    await this.fh.close();
  }

  get pendingWrites(): number {
    return this.queue.length;
  }

  private barrier(run: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.closed) return reject(new MemoryError('memory store is closed', 'unavailable'));
      this.queue.push({ kind: 'barrier', run, resolve: resolve as (v: unknown) => void, reject });
      this.drain();
    });
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    void this.drainLoop().finally(() => {
      this.draining = false;
      if (this.queue.length > 0) this.drain();
    });
  }

  private async drainLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.kind === 'barrier') {
        this.queue.shift();
        try {
          if (this.broken) throw this.broken;
          await head.run();
          head.resolve(undefined);
        } catch (err) {
          head.reject(err);
        }
        continue;
      }
      const batch: Extract<Task, { kind: 'op' }>[] = [];
      while (this.queue[0]?.kind === 'op') batch.push(this.queue.shift() as Extract<Task, { kind: 'op' }>);
      try {
        await this.append(batch.map((t) => t.op));
      } catch (err) {
        this.broken ??= new MemoryError(`memory log ${this.logPath} is unusable: ${(err as Error).message}`, 'unavailable');
        for (const t of batch) t.reject(this.broken);
        continue;
      }
      for (const t of batch) {
        try {
          t.resolve(t.apply());
        } catch (err) {
          t.reject(err);
        }
      }
      if (this.needsCompaction()) {
        await this.compact().catch((err: unknown) => this.logger.warn({ err, path: this.snapshotPath }, 'memory compaction failed'));
      }
    }
  }

  private async append(ops: MemoryOp[]): Promise<void> {
    if (this.broken) throw this.broken;
    let text = '';
    for (const op of ops) text += `${JSON.stringify({ seq: ++this.seq, ...op })}\n`;
    const buf = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, off, buf.length - off);
      off += bytesWritten;
    }
    await this.fh.datasync();
    this.logBytes += buf.length;
  }

  private needsCompaction(): boolean {
    return this.logBytes > Math.max(this.compactMinBytes, this.snapshotBytes);
  }

  private async compact(): Promise<void> {
    await this.writeSnapshot(serializeSnapshot(snapshotOf(this.engine, this.seq)));
  }

  private async writeSnapshot(text: string): Promise<void> {
    this.snapshotBytes = await writeFileAtomic(this.snapshotPath, text);
    await this.fh.truncate(0);
    await this.fh.datasync();
    this.logBytes = 0;
  }
}

/** Temp files of snapshots a crash interrupted (never renamed, so never part of the state). */
async function removeStaleTemps(snapshotPath: string): Promise<void> {
  const prefix = `${basename(snapshotPath)}.tmp-`;
  for (const name of await readdir(dirname(snapshotPath))) {
    if (name.startsWith(prefix)) await unlink(join(dirname(snapshotPath), name)).catch(() => {});
  }
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Complete records up to the first line that is unfinished or unreadable. Anything after it was
 * never acknowledged (its fdatasync had not returned), so it is dropped.
 */
export function parseLog(buf: Buffer): { records: { seq: number; op: MemoryOp }[]; validBytes: number } {
  const records: { seq: number; op: MemoryOp }[] = [];
  let start = 0;
  while (start < buf.length) {
    const nl = buf.indexOf(0x0a, start);
    if (nl < 0) break;
    let rec: unknown;
    try {
      rec = JSON.parse(buf.toString('utf8', start, nl));
    } catch {
      break;
    }
    if (typeof rec !== 'object' || rec === null || typeof (rec as { seq?: unknown }).seq !== 'number') break;
    const { seq, ...op } = rec as { seq: number } & MemoryOp;
    records.push({ seq, op: op as MemoryOp });
    start = nl + 1;
  }
  return { records, validBytes: start };
}
