import type { FileHandle } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appendDurable, openAppend, writeFileAtomic } from '../util/durable-file.js';
import { Fifo } from './events/fifo.js';

/** The outcome of one dispatched tool call: it succeeded or it failed (rejections and skips never dispatched). */
export interface ToolOutcome {
  tool: string;
  ok: boolean;
}

/** Dispatch-conditional counts of one tool over a window. */
export interface ToolCounts {
  succeeded: number;
  dispatched: number;
}

interface OutcomeRecord {
  /** Epoch milliseconds. */
  t: number;
  tool: string;
  ok: boolean;
}

export const TRAJECTORY_FILE = 'tool-outcomes.jsonl';
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Per-tool outcome history from real dispatches, the evidence `verify.monte_carlo` derives its
 * rates from. With a directory it is durable: one JSON line per outcome, appended and fsynced
 * before `record` resolves. At most `maxRecords` outcomes are kept, the oldest dropped first; the
 * file is rewritten (atomically) to the newest `maxRecords` once it holds twice that many lines.
 * A torn or unreadable line is skipped on load.
 */
export class TrajectoryStore {
  private readonly records = new Fifo<OutcomeRecord>();
  private fileLines = 0;
  private fh: FileHandle | null = null;
  private loading: Promise<void> | null = null;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    readonly dir: string | null,
    readonly maxRecords: number,
  ) {}

  get path(): string | null {
    return this.dir === null ? null : join(this.dir, TRAJECTORY_FILE);
  }

  /** Outcomes held (after the bound). */
  get size(): number {
    return this.records.length;
  }

  private load(): Promise<void> {
    this.loading ??= (async () => {
      const path = this.path;
      if (path === null) return;
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      const loaded: OutcomeRecord[] = [];
      for (const line of text.split('\n')) {
        if (line === '') continue;
        this.fileLines++;
        try {
          const r = JSON.parse(line) as Partial<OutcomeRecord>;
          if (typeof r.t === 'number' && typeof r.tool === 'string' && typeof r.ok === 'boolean') loaded.push({ t: r.t, tool: r.tool, ok: r.ok });
        } catch {
          // a torn last line after a crash
        }
      }
      this.records.replace(loaded.slice(-this.maxRecords).concat(this.records.view()));
      this.trim();
    })();
    return this.loading;
  }

  private trim(): void {
    if (this.records.length > this.maxRecords) this.records.dropFront(this.records.length - this.maxRecords);
  }

  /** Add outcomes; with a directory they are on disk when this resolves. */
  record(outcomes: readonly ToolOutcome[], at: number = Date.now()): Promise<void> {
    if (outcomes.length === 0) return Promise.resolve();
    const run = async (): Promise<void> => {
      await this.load();
      const added: OutcomeRecord[] = new Array<OutcomeRecord>(outcomes.length);
      for (let i = 0; i < outcomes.length; i++) {
        const o = outcomes[i] as ToolOutcome;
        const record = { t: at, tool: o.tool, ok: o.ok };
        added[i] = record;
        this.records.push(record);
      }
      this.trim();
      const path = this.path;
      if (path === null) return;
      if (this.fileLines + added.length > 2 * this.maxRecords) {
        await this.fh?.close();
        this.fh = null;
        await writeFileAtomic(path, this.records.view().map((r) => JSON.stringify(r) + '\n').join(''));
        this.fileLines = this.records.length;
        return;
      }
      this.fh ??= (await openAppend(path)).fh;
      await appendDurable(this.fh, Buffer.from(added.map((r) => JSON.stringify(r) + '\n').join(''), 'utf8'));
      this.fileLines += added.length;
    };
    const done = this.tail.then(run, run);
    this.tail = done.catch(() => undefined);
    return done;
  }

  /** Counts per tool over the last `windowDays` days (all held outcomes when it is Infinity). */
  async counts(windowDays: number, now: number = Date.now()): Promise<Map<string, ToolCounts>> {
    await this.load();
    const since = now - windowDays * DAY_MS;
    const out = new Map<string, ToolCounts>();
    for (const r of this.records.view()) {
      if (r.t < since) continue;
      let c = out.get(r.tool);
      if (!c) out.set(r.tool, (c = { succeeded: 0, dispatched: 0 }));
      c.dispatched++;
      if (r.ok) c.succeeded++;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.tail;
    await this.fh?.close();
    this.fh = null;
  }
}
