/** Longest timer Node accepts. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * One timer for every deadline of a connection. Arming a deadline is writing a number on the
 * call (its due time) and, only when it is due sooner than anything else, moving this timer;
 * answering a call does nothing here. When the timer fires, `sweep` expires whatever is due and
 * names the next due time. The timer holds the process open only while something is armed
 * (`busy` / `idle`), and `clear` ends it when the connection closes.
 */
export class DeadlineTimer {
  private timer: NodeJS.Timeout | undefined;
  private at = Number.POSITIVE_INFINITY;
  private refed = true;

  /** `sweep(now)` expires every call due at `now` and returns the earliest due time left (or Infinity). */
  constructor(private readonly sweep: (now: number) => number) {}

  /** Fire no later than `due` (a `performance.now()` time). */
  ensure(due: number): void {
    if (due < this.at) this.schedule(due);
    else if (!this.refed) this.busy();
  }

  /** Something is armed: keep the process alive until it is due. */
  busy(): void {
    if (this.refed) return;
    this.refed = true;
    this.timer?.ref();
  }

  /** Nothing is armed: a pending wake-up must not hold the process open. */
  idle(): void {
    if (!this.refed) return;
    this.refed = false;
    this.timer?.unref();
  }

  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.at = Number.POSITIVE_INFINITY;
  }

  private schedule(due: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.at = due;
    this.refed = true;
    this.timer = setTimeout(() => this.fire(), Math.min(Math.max(1, Math.ceil(due - performance.now())), MAX_TIMER_MS));
  }

  private fire(): void {
    this.timer = undefined;
    this.at = Number.POSITIVE_INFINITY;
    const next = this.sweep(performance.now());
    if (next !== Number.POSITIVE_INFINITY && this.timer === undefined) this.schedule(next);
  }
}
