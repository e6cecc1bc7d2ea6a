import type { Precondition } from '../ir.js';
import { preconditionHolds, type StateLookup } from '../preconditions.js';
import type { Verdict } from './model.js';

const ABSENT = 0;
const KNOWN = 1;
/** Present, but its value only exists at run time. */
const OPAQUE = 2;

/**
 * A state over a fixed set of keys, addressed by slot number, that resets to its initial
 * contents in one copy. Monte carlo walks the same proposal thousands of times; this keeps each
 * trial free of string hashing and object churn.
 */
export class SlotState {
  private readonly slots = new Map<string, number>();
  private readonly initialValues: unknown[] = [];
  private readonly initialKinds: Uint8Array;
  readonly values: unknown[];
  readonly kinds: Uint8Array;
  readonly keys: string[] = [];

  constructor(keys: Iterable<string>, initial: Record<string, unknown> = {}) {
    for (const key of keys) this.assign(key);
    for (const key of Object.keys(initial)) this.assign(key);
    this.initialKinds = new Uint8Array(this.keys.length);
    for (const key of Object.keys(initial)) {
      const s = this.slots.get(key) as number;
      this.initialValues[s] = initial[key];
      this.initialKinds[s] = KNOWN;
    }
    this.values = this.initialValues.slice();
    this.values.length = this.keys.length;
    this.kinds = this.initialKinds.slice();
  }

  private assign(key: string): void {
    if (this.slots.has(key)) return;
    this.slots.set(key, this.keys.length);
    this.keys.push(key);
  }

  /** The slot of `key`; every key must have been named to the constructor. */
  slot(key: string): number {
    const s = this.slots.get(key);
    if (s === undefined) throw new Error(`no slot for state key '${key}'`);
    return s;
  }

  reset(): void {
    this.kinds.set(this.initialKinds);
    for (let i = 0; i < this.keys.length; i++) this.values[i] = this.initialValues[i];
  }

  has(slot: number): boolean {
    return this.kinds[slot] !== ABSENT;
  }

  isKnown(slot: number): boolean {
    return this.kinds[slot] === KNOWN;
  }

  apply(slot: number, value: unknown, known: boolean): void {
    this.kinds[slot] = known ? KNOWN : OPAQUE;
    this.values[slot] = known ? value : undefined;
  }

  private readonly lookup: StateLookup = (key) => {
    const s = this.slots.get(key);
    return s !== undefined && this.kinds[s] === KNOWN ? { present: true, value: this.values[s] } : { present: false, value: undefined };
  };

  /** Same rules as `judge` over a SymbolicState; `slot` is the slot of `p.key`. */
  judge(p: Precondition, slot: number): Verdict {
    if (this.kinds[slot] === OPAQUE) {
      if (p.operator === 'exists') return 'holds';
      if (p.operator === 'not_exists') return 'fails';
      return 'unknown';
    }
    return preconditionHolds(p, this.lookup) ? 'holds' : 'fails';
  }
}
