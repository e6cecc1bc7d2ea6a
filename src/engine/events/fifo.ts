/**
 * An array that drops from the front in amortised O(1): dropped slots are skipped by an offset and
 * removed in one splice once they make up half the backing array.
 */
export class Fifo<T> {
  private readonly items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The i-th item from the front (0 = oldest). */
  at(i: number): T | undefined {
    return i < 0 || i >= this.length ? undefined : this.items[this.head + i];
  }

  /** Drop the `count` oldest items, handing each to `each` first. */
  dropFront(count: number, each?: (item: T) => void): void {
    const n = Math.min(count, this.length);
    if (each !== undefined) for (let i = 0; i < n; i++) each(this.items[this.head + i]!);
    this.head += n;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) this.compact();
  }

  /**
   * The items, oldest first: the backing array itself, after removing dropped slots. Valid until
   * the next change (a later drop leaves stale items at its front until the next `view()`).
   */
  view(): readonly T[] {
    if (this.head > 0) this.compact();
    return this.items;
  }

  /** Replace the contents, keeping the backing array. */
  replace(items: readonly T[]): void {
    this.items.length = 0;
    for (const item of items) this.items.push(item);
    this.head = 0;
  }

  private compact(): void {
    this.items.splice(0, this.head);
    this.head = 0;
  }
}
