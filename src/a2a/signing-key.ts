import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ensureDirDurable, writeFileAtomic } from '../util/durable-file.js';

/** The daemon's ed25519 identity: signs agent cards and outbound peer messages. */
export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Raw 32-byte public key, base64. */
  readonly publicKeyBase64: string;
  /** Key id: the first 16 hex characters of the SHA-256 of the raw public key. */
  readonly kid: string;
}

function fromPrivate(privateKey: KeyObject): SigningKey {
  const publicKey = createPublicKey(privateKey);
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const kid = fingerprint(raw);
  return { privateKey, publicKey, publicKeyBase64: raw.toString('base64'), kid };
}

/** The first 16 hex characters of the SHA-256 of a raw public key. */
export function fingerprint(rawPublicKey: Buffer): string {
  return createHash('sha256').update(rawPublicKey).digest('hex').slice(0, 16);
}

/** A key that lives only as long as the process (no state root configured). */
export function ephemeralKey(): SigningKey {
  return fromPrivate(generateKeyPairSync('ed25519').privateKey);
}

/**
 * Read the PEM key at `path`, or create it: 0600 in a 0700 directory, fsynced (file and
 * directory) before it is used, so a card signed with it is never signed by a key that a crash
 * could lose.
 */
export async function loadOrCreateKey(path: string): Promise<SigningKey> {
  try {
    return fromPrivate(createPrivateKey(await readFile(path, 'utf8')));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await ensureDirDurable(dirname(path));
  const { privateKey } = generateKeyPairSync('ed25519');
  await writeFileAtomic(path, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, 0o600);
  return fromPrivate(privateKey);
}
