/**
 * The one deterministic JSON text every hash in the daemon is taken over (event chain, action
 * fingerprints, supervision digests, verify's repeated-call and outcome keys): object keys sorted
 * by UTF-16 code unit at every depth, no whitespace, and otherwise `JSON.stringify`'s value rules —
 * `toJSON` honoured, undefined / function / symbol members dropped, undefined array items and
 * non-finite numbers written as null — plus bigints as their decimal string. Two values that are
 * equal as JSON give the same text.
 *
 * Values that `JSON.stringify` already writes canonically (plain objects whose keys are in order,
 * nothing to drop) take that native fast path.
 */
export function canonicalJson(value: unknown): string {
  return isCanonical(value, 0) ? JSON.stringify(value) : (write(value) ?? 'null');
}

/** Deeper than this, the fast-path check gives up and the general writer takes over. */
const FAST_PATH_DEPTH = 64;

/** True when JSON.stringify already yields the canonical form: keys sorted, nothing dropped or converted. */
function isCanonical(value: unknown, depth: number): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || depth > FAST_PATH_DEPTH) return false;
  if (Array.isArray(value)) {
    for (const item of value) {
      if (item === undefined || !isCanonical(item, depth + 1)) return false;
    }
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  let previous: string | undefined;
  for (const key in value) {
    if (previous !== undefined && key <= previous) return false;
    previous = key;
    if (!isCanonical((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

function write(value: unknown): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(): unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map((v) => write(v) ?? 'null').join(',')}]`;
      const record = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const key of Object.keys(record).sort()) {
        const text = write(record[key]);
        if (text !== undefined) parts.push(`${JSON.stringify(key)}:${text}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      return undefined; // undefined, functions, symbols
  }
}
