import { CarError } from '../util/errors.js';
import { isObject } from '../util/values.js';

/** The reference tokens of a JSON Pointer (RFC 6901); `''` and `'/'` both name the whole document. */
export function pointerTokens(path: string, field: string): string[] {
  if (path === '' || path === '/') return [];
  return path
    .slice(1)
    .split('/')
    .map((t) => {
      const token = t.replace(/~1/g, '/').replace(/~0/g, '~');
      if (token === '__proto__') throw new CarError('invalid', `${field}: '__proto__' is not allowed in a data model path`, { field });
      return token;
    });
}

function indexOf(token: string, length: number, field: string, forWrite: boolean): number {
  if (forWrite && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new CarError('invalid', `${field}: '${token}' is not an array index`, { field });
  const i = Number(token);
  if (i > length || (!forWrite && i >= length)) throw new CarError('invalid', `${field}: index ${i} is past the end of an array of ${length}`, { field });
  return i;
}

/**
 * A copy of `root` with `value` at `tokens` (created, with objects on the way, when missing), or
 * with what is there removed when `remove` is set: a key leaves its object, an array slot becomes
 * null so the array keeps its length (removing what is not there changes nothing). Only the
 * containers on the path are copied.
 */
export function writeAt(root: unknown, tokens: readonly string[], value: unknown, remove: boolean, field: string): unknown {
  if (tokens.length === 0) return remove ? {} : value;
  const [head, ...rest] = tokens as [string, ...string[]];
  if (remove && !holds(root, head)) return root;
  if (Array.isArray(root)) {
    const copy = [...root];
    if (rest.length === 0 && remove) {
      const i = indexOf(head, copy.length, field, false);
      copy[i] = null;
      return copy;
    }
    const i = indexOf(head, copy.length, field, true);
    copy[i] = writeAt(copy[i], rest, value, remove, field);
    return copy;
  }
  const copy: Record<string, unknown> = isObject(root) ? { ...root } : {};
  if (rest.length === 0 && remove) {
    delete copy[head];
    return copy;
  }
  copy[head] = writeAt(copy[head], rest, value, remove, field);
  return copy;
}

function holds(container: unknown, token: string): boolean {
  if (Array.isArray(container)) return /^(0|[1-9][0-9]*)$/.test(token) && Number(token) < container.length;
  return isObject(container) && Object.hasOwn(container, token);
}
