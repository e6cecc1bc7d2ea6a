import { open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { silentLogger, type Logger } from '../util/logger.js';
import { appendDurable, ensureDirDurable, fsyncDir, openAppend, writeFileAtomic, writeFileSynced } from '../util/durable-file.js';
import type { MemoryEngine } from './engine.js';
import type { MemoryOp } from './ops.js';
import { parseSnapshot, serializeSnapshot, snapshotOf, type SnapshotData } from './snapshot.js';
import { MemoryError } from './types.js';

export interface DurableStoreOptions {
  /** Compact once the log outgrows both this and the last snapshot (amortised O(1) per write). */
  compactMinBytes?: number;
  logger?: Logger;
  /** How paths appear in messages and logs (relative to CAR_HOME); defaults to the file name. */
  label?: string;
}

export const DEFAULT_COMPACT_MIN_BYTES = 1024 * 1024;

type Task =
  | { kind: 'op'; op: MemoryOp; apply: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }
  | { kind: 'barrier'; run: () => Promise<void>; resolve: (v: unknown) => void; reject: (e: unknown) => void };

/** A log record that could not be read and was skipped. */
export interface SkippedRecord {
  file: string;
  /** 1-based line number in that file. */
  line: number;
  reason: string;
}

export interface RecoveryInfo {
  /** Which snapshot the graph was rebuilt from: the current one, the previous one, or none. */
  base: 'snapshot' | 'previous' | 'empty';
  snapshotFacts: number;
  replayed: number;
  /** Complete log lines that could not be read: skipped, the records after them kept. */
  skipped: SkippedRecord[];
  /** Bytes of an unfinished last record that were cut off (a write that was never acknowledged). */
  truncatedBytes: number;
  /** Snapshots that could not be read, and why (moved aside as `<name>~corrupt.json`). */
  corruptSnapshots: string[];
  /** Sequence numbers missing between the snapshot used and the log (records lost for good). */
  gap: boolean;
}

/** The files of one graph, all beside each other. `~` never appears in an encoded scope name. */
export interface StoreFiles {
  snapshot: string;
  log: string;
  previous: string;
  previousLog: string;
  corrupt: string;
}

export function storeFiles(snapshotPath: string): StoreFiles {
  const base = snapshotPath.replace(/\.json$/, '');
  return {
    snapshot: `${base}.json`,
    log: `${base}.log`,
    previous: `${base}~prev.json`,
    previousLog: `${base}~prev.log`,
    corrupt: `${base}~corrupt.json`,
  };
}

/**
 * Durability for one graph: a snapshot (`<name>.json`, the flat JSON format) plus an append-only
 * op log (`<name>.log`, one JSON record per line with a sequence number), and the generation
 * before them (`<name>~prev.json` + `<name>~prev.log`) to fall back on if the snapshot is ever
 * unreadable.
 *
 * A write is acknowledged only after its record is on disk: records queued while a flush is in
 * progress are written together and share one fdatasync (group commit), then applied to the
 * engine in log order. When the log grows past the snapshot's size the graph is snapshotted and
 * the generations rotate (snapshot → previous, log → previous log, new snapshot, new log), so a
 * write costs O(1) amortised and recovery reads one snapshot and a bounded log. Replay skips
 * records at or below the snapshot's sequence number, so every intermediate state of a rotation
 * recovers to the same graph.
 */
export class DurableStore {
  private readonly queue: Task[] = [];
  private draining = false;
  private seq: number;
  private logBytes: number;
  private snapshotBytes: number;
  private hasSnapshot: boolean;
  private broken: Error | null = null;
  private closed = false;
  private readonly compactMinBytes: number;
  private readonly logger: Logger;

  private constructor(
    readonly files: StoreFiles,
    readonly label: string,
    private readonly engine: MemoryEngine,
    private fh: FileHandle,
    state: { seq: number; logBytes: number; snapshotBytes: number; hasSnapshot: boolean },
    opts: DurableStoreOptions,
  ) {
    this.seq = state.seq;
    this.logBytes = state.logBytes;
    this.snapshotBytes = state.snapshotBytes;
    this.hasSnapshot = state.hasSnapshot;
    this.compactMinBytes = opts.compactMinBytes ?? DEFAULT_COMPACT_MIN_BYTES;
    this.logger = opts.logger ?? silentLogger;
  }

  get snapshotPath(): string {
    return this.files.snapshot;
  }

  get logPath(): string {
    return this.files.log;
  }

  /**
   * Rebuild `engine` from the newest readable snapshot and the logs, then open the log for
   * appending. Never fails because of what it reads: an unreadable snapshot falls back to the
   * previous one (or to an empty graph) plus every log record still readable, and an unreadable
   * log line is skipped; both are reported in the result and logged.
   */
  static async open(
    snapshotPath: string,
    engine: MemoryEngine,
    opts: DurableStoreOptions = {},
  ): Promise<{ store: DurableStore; recovery: RecoveryInfo }> {
    const files = storeFiles(snapshotPath);
    const label = opts.label ?? basename(files.snapshot);
    const logger = opts.logger ?? silentLogger;
    await ensureDirDurable(dirname(files.snapshot));
    await removeStaleTemps(files);

    const recovery: RecoveryInfo = { base: 'empty', snapshotFacts: 0, replayed: 0, skipped: [], truncatedBytes: 0, corruptSnapshots: [], gap: false };
    let seq = 0;
    let snapshotBytes = 0;
    let snapshotText: string | null = null;
    for (const [which, path] of [['snapshot', files.snapshot], ['previous', files.previous]] as const) {
      const text = await readIfExists(path);
      if (text === null) continue;
      let data: SnapshotData;
      try {
        data = parseSnapshot(text, basename(path));
      } catch (err) {
        recovery.corruptSnapshots.push(`${basename(path)}: ${(err as Error).message}`);
        continue;
      }
      engine.reset(data);
      seq = data.seq;
      recovery.base = which;
      recovery.snapshotFacts = engine.factCount;
      if (which === 'snapshot') {
        snapshotBytes = Buffer.byteLength(text);
        snapshotText = text;
      }
      break;
    }
    const baseSeq = seq;

    const older = await readLog(files.previousLog, basename(files.previousLog));
    const current = await readLog(files.log, basename(files.log));
    recovery.skipped.push(...older.skipped, ...current.skipped);
    let first = true;
    for (const { seq: s, op } of [...older.records, ...current.records]) {
      if (s <= seq) continue;
      if (first && s !== baseSeq + 1) recovery.gap = true;
      first = false;
      try {
        engine.apply(op);
      } catch {
        // The op failed when it was first applied too (its caller got the error); same outcome now.
      }
      seq = s;
      recovery.replayed++;
    }

    const { fh } = await openAppend(files.log);
    recovery.truncatedBytes = current.tail;
    // The next append's fdatasync makes the cut durable along with the new record.
    if (current.tail > 0) await fh.truncate(current.validBytes);
    const store = new DurableStore(
      files,
      label,
      engine,
      fh,
      { seq, logBytes: current.validBytes, snapshotBytes, hasSnapshot: snapshotText !== null },
      opts,
    );

    const damaged = recovery.corruptSnapshots.length > 0 || recovery.skipped.length > 0;
    if (damaged) {
      logger.warn(
        { store: label, base: recovery.base, skipped: recovery.skipped, corrupt_snapshots: recovery.corruptSnapshots, gap: recovery.gap },
        'memory graph recovered from damaged files: unreadable parts skipped',
      );
    }
    if (damaged || recovery.base === 'previous') {
      // Keep an unreadable snapshot for inspection, then start a fresh, whole generation.
      if (snapshotText === null) await rename(files.snapshot, files.corrupt).catch(() => {});
      await store.freshBase();
    } else if (store.needsCompaction()) {
      await store.compact();
    }
    return { store, recovery };
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
      await this.rotate(serializeSnapshot({ ...data, seq: this.seq }));
      apply();
    });
  }

  /** Wait for pending writes, snapshot if the log holds anything, close the log. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.barrier(async () => {
      if (this.logBytes > 0 && this.broken === null) await this.compact();
    }).catch((err: unknown) => this.logger.warn({ err: errText(err), store: this.label }, 'memory snapshot on close failed'));
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
        this.broken ??= new MemoryError(`memory log ${this.label} is unusable: ${errText(err)}`, 'unavailable');
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
        await this.compact().catch((err: unknown) => this.logger.warn({ err: errText(err), store: this.label }, 'memory compaction failed'));
      }
    }
  }

  private async append(ops: MemoryOp[]): Promise<void> {
    if (this.broken) throw this.broken;
    let text = '';
    for (const op of ops) text += `${JSON.stringify({ seq: ++this.seq, ...op })}\n`;
    const buf = Buffer.from(text, 'utf8');
    await appendDurable(this.fh, buf);
    this.logBytes += buf.length;
  }

  private needsCompaction(): boolean {
    return this.logBytes > Math.max(this.compactMinBytes, this.snapshotBytes);
  }

  private async compact(): Promise<void> {
    await this.rotate(serializeSnapshot(snapshotOf(this.engine, this.seq)));
  }

  /**
   * Start a new generation whose snapshot is `text`: snapshot → previous, log → previous log, the
   * new snapshot in place, an empty log; one directory fsync makes the renames durable. A crash
   * between any two steps leaves files that recover to the same graph.
   */
  private async rotate(text: string): Promise<void> {
    const f = this.files;
    const tmp = `${f.snapshot}~next`;
    await writeFileSynced(tmp, text);
    if (this.hasSnapshot) await rename(f.snapshot, f.previous);
    await rename(f.log, f.previousLog);
    await rename(tmp, f.snapshot);
    await this.reopenLog();
    this.snapshotBytes = Buffer.byteLength(text);
    this.hasSnapshot = true;
  }

  /** After a fallback: the current graph becomes both generations, so either one is whole again. */
  private async freshBase(): Promise<void> {
    const text = serializeSnapshot(snapshotOf(this.engine, this.seq));
    const f = this.files;
    await writeFileAtomic(f.previous, text);
    await writeFileAtomic(f.snapshot, text);
    await unlink(f.previousLog).catch(() => {});
    await this.fh.truncate(0);
    await this.fh.datasync();
    this.logBytes = 0;
    this.snapshotBytes = Buffer.byteLength(text);
    this.hasSnapshot = true;
  }

  private async reopenLog(): Promise<void> {
    const old = this.fh;
    this.fh = await open(this.files.log, 'a+', 0o600);
    await old.close().catch(() => {});
    await fsyncDir(dirname(this.files.log));
    this.logBytes = 0;
  }
}

function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  // Node's fs errors name the absolute path; the code and syscall say enough.
  return e.code ? `${e.code}${e.syscall ? ` (${e.syscall})` : ''}` : String(e.message ?? err);
}

/** Temp files of snapshots a crash interrupted (never renamed, so never part of the state). */
async function removeStaleTemps(files: StoreFiles): Promise<void> {
  const dir = dirname(files.snapshot);
  const prefixes = [files.snapshot, files.previous].map((p) => `${basename(p)}~tmp-`);
  const next = `${basename(files.snapshot)}~next`;
  for (const n of await readdir(dir)) {
    if (n === next || prefixes.some((p) => n.startsWith(p))) await unlink(join(dir, n)).catch(() => {});
  }
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new MemoryError(`cannot read ${basename(path)}: ${errText(err)}`, 'unavailable');
  }
}

async function readLog(path: string, name: string): Promise<ParsedLog> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], skipped: [], validBytes: 0, tail: 0 };
    throw new MemoryError(`cannot read ${name}: ${errText(err)}`, 'unavailable');
  }
  return parseLog(buf, name);
}

export interface ParsedLog {
  records: { seq: number; op: MemoryOp }[];
  /** Complete lines that are not a readable record; the records after them are kept. */
  skipped: SkippedRecord[];
  /** Bytes up to the end of the last complete line. */
  validBytes: number;
  /** Bytes of an unfinished last line (no newline): a write that was never acknowledged. */
  tail: number;
}

/**
 * Every readable record of a log. A complete line that does not parse (damage, not a torn write)
 * is skipped and reported; an unfinished last line was never acknowledged (its fdatasync had not
 * returned) and is left for the caller to cut off. Records with a sequence number not above the
 * previous one are skipped as damaged too.
 */
export function parseLog(buf: Buffer, name = 'log'): ParsedLog {
  const records: { seq: number; op: MemoryOp }[] = [];
  const skipped: SkippedRecord[] = [];
  let start = 0;
  let line = 0;
  let last = 0;
  while (start < buf.length) {
    const nl = buf.indexOf(0x0a, start);
    if (nl < 0) break;
    line++;
    const text = buf.toString('utf8', start, nl);
    start = nl + 1;
    if (text.trim() === '') continue;
    let rec: unknown;
    try {
      rec = JSON.parse(text);
    } catch {
      skipped.push({ file: name, line, reason: 'not valid JSON' });
      continue;
    }
    const seq = (rec as { seq?: unknown } | null)?.seq;
    const op = (rec as { op?: unknown } | null)?.op;
    if (typeof seq !== 'number' || !Number.isInteger(seq) || typeof op !== 'string') {
      skipped.push({ file: name, line, reason: 'not a log record' });
      continue;
    }
    if (seq <= last) {
      skipped.push({ file: name, line, reason: `sequence ${seq} after ${last}` });
      continue;
    }
    last = seq;
    const { seq: _s, ...rest } = rec as { seq: number } & MemoryOp;
    records.push({ seq, op: rest as MemoryOp });
  }
  return { records, skipped, validBytes: start, tail: buf.length - start };
}
