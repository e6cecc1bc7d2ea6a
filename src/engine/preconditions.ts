import type { Precondition } from './ir.js';
import { jsonEqual } from './json-equal.js';

/** Reads one state key: `present` distinguishes a stored null from a missing key. */
export type StateLookup = (key: string) => { present: boolean; value: unknown };

function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

function compare(a: unknown, b: unknown, test: (x: number, y: number) => boolean): boolean {
  const x = toNumber(a);
  const y = toNumber(b);
  return x !== null && y !== null && test(x, y);
}

/**
 * Whether one precondition holds. Numeric operators coerce both sides to numbers and are false
 * when either side is not numeric; `contains` is substring for strings and membership for arrays;
 * an unknown operator never holds.
 */
export function preconditionHolds(p: Precondition, lookup: StateLookup): boolean {
  const { present, value } = lookup(p.key);
  switch (p.operator) {
    case 'exists':
      return present;
    case 'not_exists':
      return !present;
    case 'eq':
      return present ? jsonEqual(value, p.value) : p.value === null;
    case 'neq':
      return present ? !jsonEqual(value, p.value) : p.value !== null;
    case 'gt':
      return present && compare(value, p.value, (x, y) => x > y);
    case 'lt':
      return present && compare(value, p.value, (x, y) => x < y);
    case 'gte':
      return present && compare(value, p.value, (x, y) => x >= y);
    case 'lte':
      return present && compare(value, p.value, (x, y) => x <= y);
    case 'contains':
      if (typeof value === 'string') return typeof p.value === 'string' && value.includes(p.value);
      if (Array.isArray(value)) return value.some((item) => jsonEqual(item, p.value));
      return false;
    default:
      return false;
  }
}

/** Human-readable reason a precondition failed, for issues and action errors. */
export function describePrecondition(p: Precondition): string {
  const value = p.operator === 'exists' || p.operator === 'not_exists' ? '' : ` ${JSON.stringify(p.value)}`;
  return `precondition '${p.key} ${p.operator}${value}'${p.description ? ` (${p.description})` : ''}`;
}
