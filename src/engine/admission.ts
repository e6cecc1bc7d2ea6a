import { CarError } from '../util/errors.js';

/** One permit per this much host memory. */
export const BYTES_PER_PERMIT = 8 * 1024 ** 3;
export const MIN_PERMITS = 1;
export const MAX_PERMITS = 8;

/** floor(total / 8 GiB), clamped to 1..8. */
export function permitsForMemory(totalBytes: number): number {
  const n = Number.isFinite(totalBytes) ? Math.floor(totalBytes / BYTES_PER_PERMIT) : MIN_PERMITS;
  return Math.min(MAX_PERMITS, Math.max(MIN_PERMITS, n));
}

export interface AdmissionOptions {
  /** Explicit permit count (the operator's override); null sizes from memory. */
  override?: number | null;
  /** Host memory in bytes, or a function asked once, the first time the size is needed. */
  totalMemoryBytes: number | (() => number);
  /**
   * Most callers waiting for a permit; one more is refused at once with a `limit` error (what
   * Ollama answers with 503 once its queue is full). Unbounded when absent.
   */
  maxQueue?: number;
}

export interface AdmissionStatus {
  permits_total: number;
  permits_available: number;
  permits_in_use: number;
  env_override: number | null;
  /** Callers waiting for a permit right now. */
  queue_depth: number;
  /** Most callers that may wait; past it acquiring fails with a busy error. */
  queue_max: number | null;
}

/** A held permit; `release` is idempotent. */
export interface Permit {
  release(): void;
}

interface Waiter {
  grant(permit: Permit): void;
}

/** Refused at once: every permit is held and the wait queue is full. */
export class AdmissionBusyError extends CarError {
  constructor(queued: number, maxQueue: number, permits: number) {
    super(
      'limit',
      `inference is busy: all ${permits} permit(s) are held and ${queued} caller(s) already wait (queue limit ${maxQueue}); retry later`,
      { limit: maxQueue, detail: { reason: 'inference_busy', permits_total: permits, queue_depth: queued } },
    );
  }
}

/**
 * The process-wide FIFO counting semaphore every inference-class call goes through. Excess
 * acquirers queue in arrival order up to `maxQueue`; past that they are refused at once. A
 * streaming caller keeps its permit until its stream is done.
 */
export class InferenceAdmission {
  private total: number | null = null;
  private inUse = 0;
  private readonly queue = new Set<Waiter>();
  private readonly override: number | null;
  private readonly maxQueue: number | null;

  constructor(private readonly options: AdmissionOptions) {
    const o = options.override ?? null;
    if (o !== null && (!Number.isInteger(o) || o < 1)) {
      throw new RangeError(`the inference permit override must be a positive integer, got ${String(o)}`);
    }
    this.override = o;
    const q = options.maxQueue ?? null;
    if (q !== null && (!Number.isInteger(q) || q < 0)) {
      throw new RangeError(`the inference queue limit must be a non-negative integer, got ${String(q)}`);
    }
    this.maxQueue = q;
  }

  get permitsTotal(): number {
    if (this.total === null) {
      const mem = this.options.totalMemoryBytes;
      this.total = this.override ?? permitsForMemory(typeof mem === 'function' ? mem() : mem);
    }
    return this.total;
  }

  status(): AdmissionStatus {
    const total = this.permitsTotal;
    return {
      permits_total: total,
      permits_available: Math.max(0, total - this.inUse),
      permits_in_use: this.inUse,
      env_override: this.override,
      queue_depth: this.queue.size,
      queue_max: this.maxQueue,
    };
  }

  /**
   * Wait for a permit, in arrival order. Aborting `signal` leaves the queue and rejects. With the
   * queue full, rejects at once with `AdmissionBusyError`.
   */
  acquire(signal?: AbortSignal): Promise<Permit> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    if (this.queue.size === 0 && this.inUse < this.permitsTotal) return Promise.resolve(this.take());
    if (this.maxQueue !== null && this.queue.size >= this.maxQueue) {
      return Promise.reject(new AdmissionBusyError(this.queue.size, this.maxQueue, this.permitsTotal));
    }
    return new Promise<Permit>((resolve, reject) => {
      const onAbort = (): void => {
        if (this.queue.delete(waiter)) reject(signal?.reason ?? new Error('aborted'));
      };
      const waiter: Waiter = {
        grant: (permit) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(permit);
        },
      };
      this.queue.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Run `fn` holding a permit; released when its promise settles. */
  async withPermit<T>(fn: () => T | Promise<T>, signal?: AbortSignal): Promise<T> {
    const permit = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      permit.release();
    }
  }

  private take(): Permit {
    this.inUse++;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.inUse--;
        this.pump();
      },
    };
  }

  private pump(): void {
    while (this.queue.size > 0 && this.inUse < this.permitsTotal) {
      const next = this.queue.values().next().value as Waiter;
      this.queue.delete(next);
      next.grant(this.take());
    }
  }
}
