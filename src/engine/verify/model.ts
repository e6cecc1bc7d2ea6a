import { writesOf } from '../dag.js';
import type { Action, Precondition } from '../ir.js';
import { preconditionHolds, type StateLookup } from '../preconditions.js';

/** The symbolic state the static walks (verify, simulate, monte carlo) move through. */

const OUTPUT_REF = /^\$([^.\s]+)\.output(?:$|[.[])/;

/** The action id a `$<id>.output…` string refers to, or undefined for any other value. */
export function outputRef(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.charCodeAt(0) !== 36 /* $ */) return undefined;
  return OUTPUT_REF.exec(value)?.[1];
}

/** One state change an action claims; `known` is false when the value exists only at run time. */
export interface Effect {
  key: string;
  value: unknown;
  known: boolean;
}

/**
 * What an action writes when it succeeds, in the executor's order: a state_write's own key/value,
 * then its expected_effects (so a declared effect on the same key wins), then write_set keys
 * whose value the proposal does not declare.
 */
export function effectsOf(action: Action): Effect[] {
  const out: Effect[] = [];
  const declared = new Set<string>();
  const push = (key: string, value: unknown): void => {
    const known = outputRef(value) === undefined;
    out.push({ key, value: known ? value : undefined, known });
    declared.add(key);
  };
  if (action.type === 'state_write' && typeof action.parameters.key === 'string') {
    push(action.parameters.key, action.parameters.value === undefined ? null : action.parameters.value);
  }
  for (const key of Object.keys(action.expected_effects)) push(key, action.expected_effects[key]);
  if (action.write_set.length > 0) {
    for (const key of writesOf(action)) if (!declared.has(key)) out.push({ key, value: undefined, known: false });
  }
  return out;
}

/**
 * Keys with known values plus keys that are present but whose value only exists at run time
 * ("opaque"). Values live in a prototype-free object so any key, `__proto__` included, is data.
 */
export class SymbolicState {
  readonly values: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  private readonly opaque = new Set<string>();

  constructor(initial?: Record<string, unknown>) {
    if (initial) for (const key of Object.keys(initial)) this.values[key] = initial[key];
  }

  has(key: string): boolean {
    return key in this.values || this.opaque.has(key);
  }

  isOpaque(key: string): boolean {
    return this.opaque.has(key);
  }

  apply(effect: Effect): void {
    if (effect.known) {
      this.values[effect.key] = effect.value;
      this.opaque.delete(effect.key);
    } else {
      delete this.values[effect.key];
      this.opaque.add(effect.key);
    }
  }

  readonly lookup: StateLookup = (key) =>
    key in this.values ? { present: true, value: this.values[key] } : { present: false, value: undefined };

  /** The known values as an ordinary object. */
  snapshot(): Record<string, unknown> {
    return Object.fromEntries(Object.entries(this.values));
  }
}

export type Verdict = 'holds' | 'fails' | 'unknown';

/** A precondition against the symbolic state; `unknown` when it tests a value only known at run time. */
export function judge(p: Precondition, state: SymbolicState): Verdict {
  if (state.isOpaque(p.key)) {
    if (p.operator === 'exists') return 'holds';
    if (p.operator === 'not_exists') return 'fails';
    return 'unknown';
  }
  return preconditionHolds(p, state.lookup) ? 'holds' : 'fails';
}
