/** Iterations one surface may take in the UI-improvement loop before the agent is skipped. */
export const DEFAULT_MAX_ITERATIONS = 20;
/** Recent patch hashes remembered per surface by the oscillation detector. */
export const DEFAULT_OSCILLATION_WINDOW = 8;

/**
 * How many agent-proposed patches each surface may still take. At the cap the loop skips the
 * agent for that surface until the surface is recreated (`reset`).
 */
export class IterationBudget {
  private readonly used = new Map<string, number>();

  constructor(readonly max: number = DEFAULT_MAX_ITERATIONS) {}

  /** Take one iteration for `surfaceId`; false (nothing taken) when its budget is spent. */
  tryTake(surfaceId: string): boolean {
    const n = this.used.get(surfaceId) ?? 0;
    if (n >= this.max) return false;
    this.used.set(surfaceId, n + 1);
    return true;
  }

  remaining(surfaceId: string): number {
    return this.max - (this.used.get(surfaceId) ?? 0);
  }

  reset(surfaceId: string): void {
    this.used.delete(surfaceId);
  }
}

/**
 * Refuses a patch whose hash is among the surface's recent ones (A→B→A): applying it would send
 * the loop back to a state it already left. A refused patch leaves the history as it was.
 */
export class OscillationDetector {
  private readonly recent = new Map<string, string[]>();

  constructor(readonly window: number = DEFAULT_OSCILLATION_WINDOW) {}

  /** True: apply the patch, and it is recorded. False: it repeats a recent state; nothing changes. */
  checkAndRecord(surfaceId: string, patchHash: string): boolean {
    const seen = this.recent.get(surfaceId) ?? [];
    if (seen.includes(patchHash)) return false;
    seen.push(patchHash);
    if (seen.length > this.window) seen.shift();
    this.recent.set(surfaceId, seen);
    return true;
  }

  reset(surfaceId: string): void {
    this.recent.delete(surfaceId);
  }
}
