import { createHash } from 'node:crypto';

/** The parts of an action its fingerprint covers. */
export interface FingerprintInput {
  type: string;
  tool?: string | undefined;
  parameters: Record<string, unknown>;
}

/**
 * JSON with object keys sorted at every depth, so two objects that differ only in key order
 * serialise identically. Values JSON cannot carry (undefined, functions) are dropped as
 * JSON.stringify drops them; non-finite numbers become null.
 */
export function canonicalJson(value: unknown): string {
  return isCanonical(value, 0) ? JSON.stringify(value) : slowCanonicalJson(value);
}

/** True when JSON.stringify already yields the canonical form: keys sorted, nothing dropped. */
function isCanonical(value: unknown, depth: number): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || depth > 64) return false;
  if (Array.isArray(value)) {
    for (const item of value) {
      if (item === undefined || !isCanonical(item, depth + 1)) return false;
    }
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return false;
  let previous: string | undefined;
  for (const key in value) {
    if (previous !== undefined && key <= previous) return false;
    previous = key;
    if (!isCanonical((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

function slowCanonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const out = JSON.stringify(value);
    return out === undefined ? 'null' : out;
  }
  if (Array.isArray(value)) return `[${value.map(slowCanonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const v = record[key];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    parts.push(`${JSON.stringify(key)}:${slowCanonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * The stable identity of an operation, used as the approval ledger's key:
 * `fp-` + the lowercase hex SHA-256 of canonicalJson({type, tool, parameters}) (tool is null for
 * non-tool actions). Action ids, dependencies and other metadata are deliberately left out, so the
 * same operation resubmitted in another proposal, on another connection or after a restart
 * fingerprints the same.
 */
export function actionFingerprint(action: FingerprintInput): string {
  const body = canonicalJson({ parameters: action.parameters ?? {}, tool: action.tool ?? null, type: action.type });
  return `fp-${createHash('sha256').update(body, 'utf8').digest('hex')}`;
}

const FINGERPRINT_RE = /^fp-[0-9a-f]{64}$/;

export function isFingerprint(value: unknown): value is string {
  return typeof value === 'string' && FINGERPRINT_RE.test(value);
}
