import { createHash } from 'node:crypto';
import { canonicalJson } from '../../util/canonical-json.js';

/** The parts of an action its fingerprint covers. */
export interface FingerprintInput {
  type: string;
  tool?: string | undefined;
  parameters: Record<string, unknown>;
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
