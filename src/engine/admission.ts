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
}

export interface AdmissionStatus {
  permits_total: number;
  permits_available: number;
  permits_in_use: number;
  env_override: number | null;
  queue_depth: number;
}

/** A held permit; `release` is idempotent. */
export interface Permit {
  release(): void;
}

interface Waiter {
  grant(permit: Permit): void;
}

/**
 * The process-wide FIFO counting semaphore every inference-class call goes through. Excess
 * acquirers queue in arrival order; none is refused. A streaming caller keeps its permit until
 * its stream is done.
 */
export class InferenceAdmission {
  private total: number | null = null;
  private inUse = 0;
  private readonly queue = new Set<Waiter>();
  private readonly override: number | null;

  constructor(private readonly options: AdmissionOptions) {
    const o = options.override ?? null;
    if (o !== null && (!Number.isInteger(o) || o < 1)) {
      throw new RangeError(`the inference permit override must be a positive integer, got ${String(o)}`);
    }
    this.override = o;
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
    };
  }

  /** Wait for a permit, in arrival order. Aborting `signal` leaves the queue and rejects. */
  acquire(signal?: AbortSignal): Promise<Permit> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    if (this.queue.size === 0 && this.inUse < this.permitsTotal) return Promise.resolve(this.take());
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
