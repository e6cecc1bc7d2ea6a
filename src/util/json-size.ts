/**
 * UTF-8 bytes of JSON.stringify(value), or of its first part once that passes `cap`: the work is
 * bounded by `cap`, not by the size of the value, so a bound can refuse a huge value cheaply.
 * Exact for plain JSON data up to `cap`; past it, some number over `cap`.
 */
export function jsonBytesUpTo(value: unknown, cap: number): number {
  let n = 0;
  const visit = (v: unknown, depth: number): void => {
    if (n > cap) return;
    if (typeof v === 'string') {
      n += v.length <= cap ? Buffer.byteLength(JSON.stringify(v)) : v.length + 2;
    } else if (typeof v !== 'object' || v === null || typeof (v as { toJSON?: unknown }).toJSON === 'function' || depth > 1000) {
      n += Buffer.byteLength(JSON.stringify(v) ?? 'null');
    } else if (Array.isArray(v)) {
      n += 1 + Math.max(0, v.length - 1) + 1;
      for (let i = 0; i < v.length && n <= cap; i++) {
        const item = v[i];
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') n += 4;
        else visit(item, depth + 1);
      }
    } else {
      n += 2;
      let members = 0;
      for (const key of Object.keys(v)) {
        if (n > cap) break;
        const item = (v as Record<string, unknown>)[key];
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
        n += (members++ > 0 ? 1 : 0) + Buffer.byteLength(JSON.stringify(key)) + 1;
        visit(item, depth + 1);
      }
    }
  };
  visit(value, 0);
  return n;
}

/**
 * Rough JSON length of `value`, counted until it passes `cap` (then a number just over `cap`):
 * the work is bounded by `cap`, not by the size of the value.
 */
export function jsonSizeOver(value: unknown, cap: number): number {
  let n = 0;
  const visit = (v: unknown, depth: number): void => {
    if (typeof v === 'string') {
      n += v.length + 2;
    } else if (typeof v !== 'object' || v === null) {
      n += 6;
    } else if (depth > 1000) {
      n = cap + 1;
    } else if (Array.isArray(v)) {
      n += 2;
      for (let i = 0; i < v.length && n <= cap; i++) {
        n += 1;
        visit(v[i], depth + 1);
      }
    } else {
      n += 2;
      for (const key in v) {
        if (n > cap) break;
        n += key.length + 4;
        visit((v as Record<string, unknown>)[key], depth + 1);
      }
    }
  };
  visit(value, 0);
  return n;
}
