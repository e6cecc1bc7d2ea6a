import * as fs from 'node:fs';
import { dirname } from 'node:path';
import type { RuntimeEvent } from '../event-log.js';
import { Fifo } from './fifo.js';
import { writeChunksAtomicSync } from '../../util/durable-file.js';

/** The file operations of the journal's appends; tests substitute failing ones. */
export type JournalFs = Pick<typeof fs, 'appendFileSync' | 'existsSync' | 'mkdirSync' | 'readFileSync'>;

export interface EventJournalOptions {
  /** Compaction waits until the file holds at least this many lines beyond the retained events. */
  compactMinStaleLines?: number;
  /** …and until rewriting would make the file at least this fraction smaller. */
  compactMinShrink?: number;
  /** Told about a failed write. After a failed append the journal stops writing. */
  onError?: (err: Error, during: 'append' | 'compact') => void;
  /** Told just before the journal creates its file (not when it reopens an existing one). */
  onCreate?: () => void;
  fs?: JournalFs;
}

export const COMPACT_MIN_STALE_LINES = 1024;
export const COMPACT_MIN_SHRINK = 0.25;
/** Rewrites are issued in chunks of about this many bytes. */
const WRITE_CHUNK = 64 * 1024;

/**
 * A session's events as JSON Lines, one event per line, in append order. Nothing touches the
 * disk until the first append; the directory and file are created then (0700 / 0600).
 *
 * Appends are plain `appendFileSync` calls without fsync: the operating system flushes them, and a
 * crash may lose the last few lines or leave a torn final line, which `readJournal` skips.
 * Retention drops events from memory at once but leaves their lines in the file until a rewrite
 * pays off (see `maybeCompact`); the rewrite goes to a temporary file that is fsynced and then
 * renamed over the journal, so a reader sees either the old file or the new one, never a mix.
 */
export class EventJournal {
  private readonly fs: JournalFs;
  private readonly minStaleLines: number;
  private readonly minShrink: number;
  private opened = false;
  private disabled = false;
  private fileLines = 0;
  private fileBytes = 0;
  /** Line length in bytes of each retained event, oldest first. */
  private readonly retainedSizes = new Fifo<number>();
  private retainedBytes = 0;
  /** After a failed rewrite, no new attempt until the file has grown to this many lines. */
  private retryAtLines = 0;

  constructor(
    readonly path: string,
    private readonly options: EventJournalOptions = {},
  ) {
    this.fs = options.fs ?? fs;
    this.minStaleLines = options.compactMinStaleLines ?? COMPACT_MIN_STALE_LINES;
    this.minShrink = options.compactMinShrink ?? COMPACT_MIN_SHRINK;
  }

  /** Lines currently in the file (as far as this journal wrote them). */
  get lines(): number {
    return this.fileLines;
  }

  get bytes(): number {
    return this.fileBytes;
  }

  /** False once an append failed; the journal then stays silent. */
  get healthy(): boolean {
    return !this.disabled;
  }

  append(event: RuntimeEvent): void {
    if (this.disabled) return;
    const line = `${JSON.stringify(event)}\n`;
    const size = Buffer.byteLength(line);
    try {
      if (!this.opened) this.open();
      this.fs.appendFileSync(this.path, line, { mode: 0o600 });
    } catch (err) {
      this.disabled = true;
      this.options.onError?.(err as Error, 'append');
      return;
    }
    this.fileLines++;
    this.fileBytes += size;
    this.retainedSizes.push(size);
    this.retainedBytes += size;
  }

  /** The log dropped its `count` oldest events. */
  dropOldest(count: number): void {
    this.retainedSizes.dropFront(count, (size) => (this.retainedBytes -= size));
  }

  /**
   * Rewrite the file to hold just `retained` when it carries at least `compactMinStaleLines` lines
   * the log no longer holds and the rewrite would shrink it by at least `compactMinShrink`.
   * `retained` must be the log's current events. Returns whether the file was rewritten.
   */
  maybeCompact(retained: { readonly length: number; at(i: number): RuntimeEvent | undefined }): boolean {
    if (this.disabled || !this.opened) return false;
    if (this.fileLines - retained.length < this.minStaleLines) return false;
    if (this.fileLines < this.retryAtLines) return false;
    if (this.retainedBytes > this.fileBytes * (1 - this.minShrink)) return false;
    try {
      this.rewrite(retained);
      return true;
    } catch (err) {
      this.retryAtLines = this.fileLines + this.minStaleLines;
      this.options.onError?.(err as Error, 'compact');
      return false;
    }
  }

  private open(): void {
    this.fs.mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    if (!this.fs.existsSync(this.path)) {
      this.options.onCreate?.();
    } else {
      // Lines from an earlier writer stay until the first compaction.
      const existing = this.fs.readFileSync(this.path);
      this.fileBytes = existing.length;
      for (const byte of existing) if (byte === 0x0a) this.fileLines++;
      if (existing.length > 0 && existing[existing.length - 1] !== 0x0a) {
        // A torn last line: end it, so the next event starts a line of its own.
        this.fs.appendFileSync(this.path, '\n');
        this.fileBytes++;
        this.fileLines++;
      }
    }
    this.opened = true;
  }

  private rewrite(retained: { readonly length: number; at(i: number): RuntimeEvent | undefined }): void {
    const sizes: number[] = [];
    const total = writeChunksAtomicSync(this.path, retainedLines(retained, sizes));
    this.fileLines = retained.length;
    this.fileBytes = total;
    this.retainedSizes.replace(sizes);
    this.retainedBytes = total;
  }
}

/** The retained events as JSON Lines in chunks of about WRITE_CHUNK; notes each line's bytes in `sizes`. */
function* retainedLines(retained: { readonly length: number; at(i: number): RuntimeEvent | undefined }, sizes: number[]): Generator<string> {
  let chunk = '';
  for (let i = 0; i < retained.length; i++) {
    const line = `${JSON.stringify(retained.at(i))}\n`;
    sizes.push(Buffer.byteLength(line));
    chunk += line;
    if (chunk.length >= WRITE_CHUNK) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** The events in a journal file, oldest first. A torn final line (a crash mid-append) is skipped. */
export function readJournal(path: string, ops: Pick<JournalFs, 'readFileSync'> = fs): RuntimeEvent[] {
  const text = ops.readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const events: RuntimeEvent[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    try {
      events.push(JSON.parse(line) as RuntimeEvent);
    } catch (err) {
      if (i === lines.length - 1) break;
      throw new Error(`${path}:${i + 1}: not a JSON event line`, { cause: err });
    }
  }
  return events;
}
