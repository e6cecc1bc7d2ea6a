import { Worker } from 'node:worker_threads';
import { JsonRebuild, type SliceOp } from './json-slices.js';

/** Main thread → parser thread. */
export type ParseRequest =
  | { type: 'parse'; id: number; bytes: Uint8Array | string; maxDepth: number; batchBytes: number }
  | { type: 'next'; id: number }
  | { type: 'drop'; id: number };

/** Parser thread → main thread. */
export type ParseReply =
  | { id: number; ops: SliceOp[]; done: boolean; error?: undefined }
  | { id: number; error: 'depth' }
  | { id: number; error: 'syntax'; message: string };

export type ParseOutcome =
  | { ok: true; value: unknown }
  /** Nesting deeper than `maxDepth`. */
  | { ok: false; reason: 'depth' }
  /** Not JSON; `message` is JSON.parse's. */
  | { ok: false; reason: 'syntax'; message: string }
  /** The parser thread died (out of memory, …) before it finished. */
  | { ok: false; reason: 'failed'; message: string }
  | { ok: false; reason: 'aborted' };

export interface FrameParserOptions {
  /** Most parser threads running at once (started on first use). */
  workers: number;
  /** Rough JSON bytes of one slice handed back to the main thread (default 64 KiB). */
  batchBytes?: number;
  /** Heap of one parser thread, in MiB: a frame that needs more fails alone instead of the daemon. */
  maxHeapMb?: number;
}

interface Job {
  id: number;
  slot: Slot;
  rebuild: JsonRebuild;
  resolve(outcome: ParseOutcome): void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Job>;
}

const WORKER_URL = new URL('./parse-worker.js', import.meta.url);

/**
 * A bounded pool of threads that parse large JSON frames, so that decoding, checking and parsing
 * a big frame never holds up the main thread. The value comes back in slices (`json-slices.ts`),
 * each applied in its own turn of the event loop, so the main thread's share of one frame is
 * spread thin too. Threads are started on demand and do not keep the process alive.
 */
export class FrameParser {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private readonly batchBytes: number;
  /** Frames handed to a parser thread so far. */
  parsed = 0;
  private closed = false;

  constructor(private readonly options: FrameParserOptions) {
    this.batchBytes = options.batchBytes ?? 64 * 1024;
  }

  /** Parse one frame (UTF-8 bytes or text) off the main thread. Never rejects. */
  parse(frame: Uint8Array | string, maxDepth: number, signal?: AbortSignal): Promise<ParseOutcome> {
    if (this.closed) return Promise.resolve({ ok: false, reason: 'failed', message: 'the frame parser is closed' });
    if (signal?.aborted) return Promise.resolve({ ok: false, reason: 'aborted' });
    this.parsed++;
    const slot = this.pick();
    const id = this.nextId++;
    return new Promise<ParseOutcome>((resolve) => {
      const job: Job = {
        id,
        slot,
        rebuild: new JsonRebuild(),
        resolve,
        signal,
        onAbort: () => {
          if (!slot.jobs.delete(id)) return;
          slot.worker.postMessage({ type: 'drop', id } satisfies ParseRequest);
          resolve({ ok: false, reason: 'aborted' });
        },
      };
      slot.jobs.set(id, job);
      signal?.addEventListener('abort', job.onAbort, { once: true });
      const bytes = typeof frame === 'string' ? frame : ownBuffer(frame);
      const transfer = typeof bytes === 'string' ? [] : [bytes.buffer as ArrayBuffer];
      slot.worker.postMessage({ type: 'parse', id, bytes, maxDepth, batchBytes: this.batchBytes } satisfies ParseRequest, transfer);
    });
  }

  /** Frames being parsed or handed back now. */
  get inFlight(): number {
    let n = 0;
    for (const slot of this.slots) n += slot.jobs.size;
    return n;
  }

  /** Parser threads running. */
  get threads(): number {
    return this.slots.length;
  }

  /** Stop every thread; frames still being parsed fail. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    for (const slot of slots) this.fail(slot, 'the frame parser is closed');
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  /** The least busy thread, or a new one while fewer than `workers` run and all are busy. */
  private pick(): Slot {
    let best: Slot | undefined;
    for (const slot of this.slots) if (best === undefined || slot.jobs.size < best.jobs.size) best = slot;
    if (best !== undefined && (best.jobs.size === 0 || this.slots.length >= this.options.workers)) return best;
    return this.spawn();
  }

  private spawn(): Slot {
    const maxHeapMb = this.options.maxHeapMb;
    const worker = new Worker(WORKER_URL, maxHeapMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } });
    worker.unref();
    const slot: Slot = { worker, jobs: new Map() };
    worker.on('message', (reply: ParseReply) => this.onReply(slot, reply));
    worker.on('error', (err) => this.retire(slot, `the frame parser failed: ${err.message}`));
    worker.on('exit', (code) => this.retire(slot, `the frame parser stopped (exit code ${code})`));
    this.slots.push(slot);
    return slot;
  }

  private retire(slot: Slot, message: string): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    this.fail(slot, message);
  }

  private fail(slot: Slot, message: string): void {
    for (const job of slot.jobs.values()) this.settle(job, { ok: false, reason: 'failed', message });
  }

  private settle(job: Job, outcome: ParseOutcome): void {
    if (!job.slot.jobs.delete(job.id)) return;
    job.signal?.removeEventListener('abort', job.onAbort);
    job.resolve(outcome);
  }

  private onReply(slot: Slot, reply: ParseReply): void {
    const job = slot.jobs.get(reply.id);
    if (job === undefined) return;
    if (reply.error === 'depth') return this.settle(job, { ok: false, reason: 'depth' });
    if (reply.error === 'syntax') return this.settle(job, { ok: false, reason: 'syntax', message: reply.message });
    job.rebuild.apply(reply.ops);
    if (reply.done) return this.settle(job, { ok: true, value: job.rebuild.value });
    // The next slice in a later turn: other connections' frames go in between.
    setImmediate(() => {
      if (slot.jobs.has(job.id)) slot.worker.postMessage({ type: 'next', id: job.id } satisfies ParseRequest);
    });
  }
}

/** `bytes` in a buffer of its own, so it can be moved to the parser thread without a copy of anything else. */
function ownBuffer(bytes: Uint8Array): Uint8Array {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  return whole ? bytes : new Uint8Array(bytes);
}
