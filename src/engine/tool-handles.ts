import { randomBytes } from 'node:crypto';

export type HandleStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

export type ToolChunk =
  | { kind: 'text'; text: string }
  | { kind: 'data'; data: unknown }
  | { kind: 'progress'; fraction?: number; message?: string }
  | { kind: 'done'; result?: unknown }
  | { kind: 'error'; error: string };

/** What `tools.poll` returns for a live handle. */
export interface HandlePoll {
  handle: string;
  tool: string;
  action_id: string;
  status: HandleStatus;
  chunks: ToolChunk[];
  dropped_chunks?: number;
  result?: unknown;
  error?: string;
}

interface HandleRecord {
  handle: string;
  tool: string;
  actionId: string;
  status: HandleStatus;
  chunks: ToolChunk[];
  dropped: number;
  result?: unknown;
  error?: string;
  finishedAt: number | null;
  /** A poll has already returned the terminal status. */
  reported: boolean;
}

export interface ToolHandleStoreOptions {
  /** Chunks buffered per handle; past it the oldest are dropped and counted. */
  maxChunks?: number;
  /** Terminal handles nobody polled are forgotten after this long. */
  reapAfterMs?: number;
  now?: () => number;
  /** Called for every chunk pushed (the stream fan-out). */
  onChunk?: (handle: string, chunk: ToolChunk) => void;
}

/** Chunks one handle buffers by default; past it the oldest are dropped. */
export const DEFAULT_HANDLE_CHUNKS = 1024;
/** How long an unpolled terminal handle is kept by default. */
export const DEFAULT_HANDLE_REAP_MS = 15 * 60 * 1000;

const TERMINAL: ReadonlySet<HandleStatus> = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * Detached tool invocations (streaming / long-running): each gets a handle whose output chunks
 * are buffered until polled. Reaping is lazy (on open and poll), so the store starts no timer.
 */
export class ToolHandleStore {
  private readonly handles = new Map<string, HandleRecord>();
  private readonly maxChunks: number;
  private readonly reapAfterMs: number;
  private readonly now: () => number;
  onChunk: ((handle: string, chunk: ToolChunk) => void) | undefined;

  constructor(options: ToolHandleStoreOptions = {}) {
    this.maxChunks = options.maxChunks ?? DEFAULT_HANDLE_CHUNKS;
    this.reapAfterMs = options.reapAfterMs ?? DEFAULT_HANDLE_REAP_MS;
    this.now = options.now ?? Date.now;
    this.onChunk = options.onChunk;
  }

  get size(): number {
    return this.handles.size;
  }

  open(tool: string, actionId = ''): string {
    this.reap();
    let handle: string;
    do handle = randomBytes(6).toString('hex');
    while (this.handles.has(handle));
    this.handles.set(handle, { handle, tool, actionId, status: 'running', chunks: [], dropped: 0, finishedAt: null, reported: false });
    return handle;
  }

  /** Append a chunk; `done` and `error` chunks also end the handle. Ignored once terminal. */
  push(handle: string, chunk: ToolChunk): boolean {
    const rec = this.handles.get(handle);
    if (!rec || TERMINAL.has(rec.status)) return false;
    rec.chunks.push(chunk);
    if (rec.chunks.length > this.maxChunks) {
      rec.chunks.shift();
      rec.dropped++;
    }
    if (chunk.kind === 'done') this.finish(rec, 'succeeded', { result: chunk.result });
    else if (chunk.kind === 'error') this.finish(rec, 'failed', { error: chunk.error });
    this.onChunk?.(handle, chunk);
    return true;
  }

  /**
   * Drain a handle's buffered chunks. `null` for an unknown handle, and for one whose terminal
   * status was already reported by an earlier poll with nothing left to drain.
   */
  poll(handle: string): HandlePoll | null {
    this.reap();
    const rec = this.handles.get(handle);
    if (!rec) return null;
    if (rec.reported) {
      this.handles.delete(handle);
      return null;
    }
    const out: HandlePoll = { handle, tool: rec.tool, action_id: rec.actionId, status: rec.status, chunks: rec.chunks };
    if (rec.dropped > 0) out.dropped_chunks = rec.dropped;
    if (rec.result !== undefined) out.result = rec.result;
    if (rec.error !== undefined) out.error = rec.error;
    rec.chunks = [];
    rec.dropped = 0;
    rec.reported = TERMINAL.has(rec.status);
    return out;
  }

  /** Seal a running handle as cancelled. False when unknown or already terminal. */
  cancel(handle: string): boolean {
    const rec = this.handles.get(handle);
    if (!rec || TERMINAL.has(rec.status)) return false;
    this.finish(rec, 'cancelled', {});
    return true;
  }

  private finish(rec: HandleRecord, status: HandleStatus, extra: { result?: unknown; error?: string }): void {
    rec.status = status;
    rec.finishedAt = this.now();
    if (extra.result !== undefined) rec.result = extra.result;
    if (extra.error !== undefined) rec.error = extra.error;
  }

  private reap(): void {
    const cutoff = this.now() - this.reapAfterMs;
    for (const [id, rec] of this.handles) {
      if (rec.finishedAt !== null && rec.finishedAt <= cutoff) this.handles.delete(id);
    }
  }
}
