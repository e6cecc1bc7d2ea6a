import { join } from 'node:path';
import { MemoryError } from './types.js';

export const NAMESPACE_DIR = 'memory-namespaces';
export const AGENT_DIR = 'agents';
/** Longest encoded name we store (the file name adds `.json`/`.log`; most file systems stop at 255 bytes). */
export const MAX_ENCODED_NAME = 240;
const AGENT_ID = /^[A-Za-z0-9._-]+$/;

const PASS = /^[a-z0-9._-]$/;

/**
 * Lowercase percent-encoding of a namespace: `a-z 0-9 - _ .` stay, every other UTF-8 byte
 * (uppercase letters and `%` included) becomes `%xx` with lowercase hex. `%` itself is encoded,
 * so decoding is unambiguous (the encoding is injective), and `/`, `\` and NUL never survive, so
 * the name cannot leave its directory.
 */
export function encodeNamespace(ns: string): string {
  let out = '';
  for (const byte of Buffer.from(ns, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && PASS.test(ch) ? ch : `%${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

export function decodeNamespace(enc: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < enc.length; i++) {
    if (enc[i] === '%') {
      bytes.push(parseInt(enc.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(enc.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** `<memoryDir>/memory-namespaces/<enc>.json`. */
export function namespaceSnapshotPath(memoryDir: string, ns: string): string {
  if (ns.length === 0) throw new MemoryError('memory namespace must not be empty');
  const enc = encodeNamespace(ns);
  if (enc.length > MAX_ENCODED_NAME) {
    throw new MemoryError(
      `memory namespace is too long to store (${enc.length} bytes encoded, at most ${MAX_ENCODED_NAME})`,
    );
  }
  return join(memoryDir, NAMESPACE_DIR, `${enc}.json`);
}

/** `<memoryDir>/agents/<id>.json`. */
export function agentSnapshotPath(memoryDir: string, agentId: string): string {
  if (!AGENT_ID.test(agentId) || agentId.length > MAX_ENCODED_NAME) {
    throw new MemoryError(`agent id '${agentId}' cannot name a memory file`);
  }
  return join(memoryDir, AGENT_DIR, `${agentId}.json`);
}
