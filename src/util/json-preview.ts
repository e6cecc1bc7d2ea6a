import { jsonSizeOver } from './json-size.js';

/** Values whose rough JSON size is at most this are serialised whole: cheaper than walking them. */
const WHOLE_UP_TO = 4096;

/**
 * The first `maxChars` characters of a value's JSON text, with `…` appended when there was more;
 * a string is shown as itself. The work is bounded by `maxChars`, not by the size of the value:
 * a 10 MB tool output costs what a small one does. Undefined for null or undefined. A value
 * JSON.stringify refuses (a BigInt, a cycle) is shown by `String`.
 */
export function jsonPreview(value: unknown, maxChars: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  let text: string;
  try {
    if (typeof value === 'string') text = value;
    else if (typeof value !== 'object' || jsonSizeOver(value, WHOLE_UP_TO) <= WHOLE_UP_TO) text = JSON.stringify(value) ?? String(value);
    else text = jsonPrefix(value, maxChars + 1) || String(value);
  } catch {
    text = String(value);
  }
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}

/** What JSON.stringify writes for `v`: its `toJSON()` when it has one. */
function jsonValueOf(v: unknown): unknown {
  return typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function' ? (v as { toJSON: () => unknown }).toJSON() : v;
}

/** JSON.stringify leaves these out of objects and writes them as null in arrays. */
function unwritable(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

/** The start of `JSON.stringify(value)`: at least `limit` characters of it, or all of it when shorter. */
export function jsonPrefix(value: unknown, limit: number): string {
  const out: string[] = [];
  let length = 0;
  const put = (piece: string): void => {
    out.push(piece);
    length += piece.length;
  };
  const write = (v: unknown): void => {
    if (typeof v === 'string') {
      const room = Math.max(0, limit - length);
      put(JSON.stringify(v.length > room ? v.slice(0, room) : v));
    } else if (typeof v !== 'object' || v === null) {
      put(JSON.stringify(v) as string);
    } else if (Array.isArray(v)) {
      put('[');
      for (let i = 0; i < v.length && length < limit; i++) {
        if (i > 0) put(',');
        const item = jsonValueOf(v[i]);
        if (unwritable(item)) put('null');
        else write(item);
      }
      put(']');
    } else {
      put('{');
      let members = 0;
      for (const key in v) {
        if (length >= limit) break;
        if (!Object.hasOwn(v, key)) continue;
        const item = jsonValueOf((v as Record<string, unknown>)[key]);
        if (unwritable(item)) continue;
        put(`${members++ > 0 ? ',' : ''}${JSON.stringify(key)}:`);
        write(item);
      }
      put('}');
    }
  };
  const top = jsonValueOf(value);
  if (!unwritable(top)) write(top);
  return out.join('');
}
