import type { StateView } from '../state-store.js';

type Prior = { present: true; value: unknown } | { present: false };

/**
 * The proposal's writes, with each key's value from before the proposal first touched it. Rolling
 * back puts exactly those keys back, so an abort costs O(keys written) and leaves alone what
 * others wrote meanwhile (a concurrent proposal, `state.set` from the client).
 */
export class UndoLog {
  private readonly prior = new Map<string, Prior>();

  constructor(private readonly view: StateView) {}

  /** Write through the view, remembering the key's pre-proposal value on its first write. */
  write(key: string, value: unknown): void {
    if (!this.prior.has(key)) {
      this.prior.set(key, this.view.has(key) ? { present: true, value: this.view.get(key) } : { present: false });
    }
    this.view.set(key, value);
  }

  get size(): number {
    return this.prior.size;
  }

  /** Restore every written key, latest first; returns how many keys were restored. */
  rollback(): number {
    const entries = [...this.prior].reverse();
    for (const [key, prior] of entries) {
      if (prior.present) this.view.set(key, prior.value);
      else this.view.delete(key);
    }
    this.prior.clear();
    return entries.length;
  }
}
