import { CarError } from '../../util/errors.js';
/**
 * `$<id>.output` references in action parameters. A string that is exactly one reference becomes
 * the referenced value (any JSON); `$a1.output.items.0.name` reaches into it, a numeric segment
 * indexing arrays. A reference inside a longer string is replaced by the value's text (strings
 * as they are, anything else as JSON). `$<id>` must name an action of the proposal; anything else
 * that merely looks like a reference is left alone.
 */

/** What a reference resolves to: the action's output, or why there is none. */
export type Resolution = { ok: true; value: unknown } | { ok: false; status: string };

/** Looks an action id up; undefined when the proposal has no such action. */
export type Resolver = (actionId: string) => Resolution | undefined;

export class InterpolationError extends CarError {
  constructor(message: string) {
    super('invalid', message);
    this.name = 'InterpolationError';
  }
}

const SEGMENT = '[A-Za-z0-9_-]+';
const BODY = `\\$([A-Za-z0-9_.:-]+?)\\.output((?:\\.${SEGMENT})*)(?![A-Za-z0-9_-])`;
const WHOLE = new RegExp(`^${BODY}$`);
const EMBEDDED = new RegExp(BODY, 'g');

/**
 * Replace every reference in `params`. Containers without references are returned as they are
 * (no copy), so the common case costs one scan for `$`.
 */
export function interpolate(params: Record<string, unknown>, resolve: Resolver): Record<string, unknown> {
  return walk(params, '', resolve) as Record<string, unknown>;
}

function walk(v: unknown, where: string, resolve: Resolver): unknown {
  if (typeof v === 'string') return v.includes('$') ? resolveString(v, where, resolve) : v;
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const item: unknown = v[i];
      const next = walk(item, `${where}[${i}]`, resolve);
      if (next !== item) (copy ??= v.slice())[i] = next;
    }
    return copy ?? v;
  }
  let copy: Record<string, unknown> | undefined;
  const obj = v as Record<string, unknown>;
  for (const key in obj) {
    if (!Object.hasOwn(obj, key)) continue;
    const item = obj[key];
    const next = walk(item, where === '' ? key : `${where}.${key}`, resolve);
    if (next !== item) setOwn((copy ??= { ...obj }), key, next);
  }
  return copy ?? v;
}

/** Plain assignment would run the `__proto__` setter for that one key. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

function resolveString(s: string, where: string, resolve: Resolver): unknown {
  const whole = WHOLE.exec(s);
  if (whole !== null) {
    const id = whole[1] as string;
    const resolution = resolve(id);
    if (resolution !== undefined) return lookup(resolution, id, whole[2] as string, s, where);
  }
  EMBEDDED.lastIndex = 0;
  if (!EMBEDDED.test(s)) return s;
  EMBEDDED.lastIndex = 0;
  return s.replace(EMBEDDED, (ref: string, id: string, path: string) => {
    const resolution = resolve(id);
    if (resolution === undefined) return ref;
    return asText(lookup(resolution, id, path, ref, where));
  });
}

function lookup(resolution: Resolution, id: string, path: string, ref: string, where: string): unknown {
  const param = where === '' ? 'a parameter' : `parameter '${where}'`;
  if (!resolution.ok) {
    const why =
      resolution.status === 'pending'
        ? `has not run yet (list it in this action's dependencies)`
        : `did not succeed (${resolution.status})`;
    throw new InterpolationError(`${param} references ${ref}, but action '${id}' ${why}`);
  }
  let value = resolution.value;
  if (path === '') return value;
  let walked = '';
  for (const segment of path.slice(1).split('.')) {
    walked += `.${segment}`;
    if (Array.isArray(value) && /^\d+$/.test(segment)) {
      const i = Number(segment);
      if (i >= value.length) throw missing(param, ref, id, walked);
      value = value[i];
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, segment)) {
      value = (value as Record<string, unknown>)[segment];
    } else {
      throw missing(param, ref, id, walked);
    }
  }
  return value;
}

function missing(param: string, ref: string, id: string, walked: string): InterpolationError {
  return new InterpolationError(`${param} references ${ref}, but the output of action '${id}' has no '${walked.slice(1)}'`);
}

function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined) return '';
  return JSON.stringify(v) ?? String(v);
}
