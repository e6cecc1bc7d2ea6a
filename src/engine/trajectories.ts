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

/** Outcomes of one tool with one result, recorded at one instant (one proposal's worth). */
interface OutcomeRecord {
  /** Epoch milliseconds. */
  t: number;
  tool: string;
  ok: boolean;
  /** How many outcomes this record stands for (at least 1). */
  n: number;
}

export const TRAJECTORY_FILE = 'tool-outcomes.jsonl';
const DAY_MS = 24 * 60 * 60 * 1000;

/** A record's line; `n` is left out when it is 1, so a line of one outcome reads as before. */
function line(r: OutcomeRecord): string {
  return r.n === 1 ? `${JSON.stringify({ t: r.t, tool: r.tool, ok: r.ok })}\n` : `${JSON.stringify(r)}\n`;
}

/** A stored line's record, or null when it is torn or malformed. */
function parseLine(text: string): OutcomeRecord | null {
  try {
    const r = JSON.parse(text) as Partial<OutcomeRecord>;
    if (typeof r.t !== 'number' || typeof r.tool !== 'string' || typeof r.ok !== 'boolean') return null;
    const n = r.n ?? 1;
    return Number.isSafeInteger(n) && n >= 1 ? { t: r.t, tool: r.tool, ok: r.ok, n } : null;
  } catch {
    return null;
  }
}

/**
 * Per-tool outcome history from real dispatches, the evidence `verify.monte_carlo` derives its
 * rates from. The outcomes of one `record` call are kept grouped per tool and result (a proposal
 * of 1,000 calls of one tool that all succeed is one record and one line), so the history costs
 * memory and disk per proposal and tool, not per call. With a directory it is durable: the lines
 * are appended and fsynced before `record` resolves. At most `maxRecords` outcomes are kept, the
 * oldest dropped first; the file is rewritten (atomically) to the held ones once the outcomes it
 * holds reach twice that. A torn or unreadable line is skipped on load.
 */
export class TrajectoryStore {
  private readonly records = new Fifo<OutcomeRecord>();
  /** Outcomes in `records`. */
  private held = 0;
  /** Outcomes in the file. */
  private fileOutcomes = 0;
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
    return this.held;
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
      for (const l of text.split('\n')) {
        const r = l === '' ? null : parseLine(l);
        if (r === null) continue;
        loaded.push(r);
        this.fileOutcomes += r.n;
        this.held += r.n;
      }
      this.records.replace(loaded.concat(this.records.view()));
      this.trim();
    })();
    return this.loading;
  }

  /** Drop the oldest outcomes beyond the bound; a record partly beyond it keeps its newer part. */
  private trim(): void {
    let excess = this.held - this.maxRecords;
    if (excess <= 0) return;
    let whole = 0;
    while (excess > 0) {
      const r = this.records.at(whole) as OutcomeRecord;
      if (r.n > excess) {
        r.n -= excess;
        break;
      }
      excess -= r.n;
      whole++;
    }
    this.records.dropFront(whole);
    this.held = this.maxRecords;
  }

  /** Add outcomes; with a directory they are on disk when this resolves. */
  record(outcomes: readonly ToolOutcome[], at: number = Date.now()): Promise<void> {
    if (outcomes.length === 0) return Promise.resolve();
    const run = async (): Promise<void> => {
      await this.load();
      const added = group(outcomes, at);
      const lines = added.map(line).join('');
      for (const r of added) this.records.push(r);
      this.held += outcomes.length;
      this.trim();
      const path = this.path;
      if (path === null) return;
      if (this.fileOutcomes + outcomes.length > 2 * this.maxRecords) {
        await this.fh?.close();
        this.fh = null;
        await writeFileAtomic(path, this.records.view().map(line).join(''));
        this.fileOutcomes = this.held;
        return;
      }
      this.fh ??= (await openAppend(path)).fh;
      await appendDurable(this.fh, Buffer.from(lines, 'utf8'));
      this.fileOutcomes += outcomes.length;
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
      c.dispatched += r.n;
      if (r.ok) c.succeeded += r.n;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.tail;
    await this.fh?.close();
    this.fh = null;
  }
}

/** One record per tool and result, in the order each first appears. */
function group(outcomes: readonly ToolOutcome[], t: number): OutcomeRecord[] {
  const out: OutcomeRecord[] = [];
  const byKey = new Map<string, OutcomeRecord>();
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i] as ToolOutcome;
    const key = o.ok ? `+${o.tool}` : `-${o.tool}`;
    const r = byKey.get(key);
    if (r !== undefined) r.n++;
    else {
      const fresh: OutcomeRecord = { t, tool: o.tool, ok: o.ok, n: 1 };
      byKey.set(key, fresh);
      out.push(fresh);
    }
  }
  return out;
}
