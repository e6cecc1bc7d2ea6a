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
  if (value === null || typeof value !== 'object') {
    const out = JSON.stringify(value);
    return out === undefined ? 'null' : out;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const v = record[key];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
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
  const body = canonicalJson({ type: action.type, tool: action.tool ?? null, parameters: action.parameters ?? {} });
  return `fp-${createHash('sha256').update(body, 'utf8').digest('hex')}`;
}

const FINGERPRINT_RE = /^fp-[0-9a-f]{64}$/;

export function isFingerprint(value: unknown): value is string {
  return typeof value === 'string' && FINGERPRINT_RE.test(value);
}
