/**
 * A timer that runs `sweep` a few times per idle period while there is something to sweep: armed
 * when the first entry arrives, disarmed by its owner when the last one leaves, never keeping the
 * process alive.
 */
export class IdleSweeper {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly idleMs: number,
    private readonly maxEveryMs: number,
    private readonly sweep: () => void,
  ) {}

  arm(): void {
    if (this.timer) return;
    const every = Math.min(this.maxEveryMs, Math.max(10, Math.floor(this.idleMs / 4)));
    this.timer = setInterval(this.sweep, every);
    this.timer.unref();
  }

  disarm(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
