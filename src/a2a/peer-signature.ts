import { createHash, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { fingerprint, type SigningKey } from './signing-key.js';

/**
 * How one CAR daemon proves to another's peer listener which key sent an HTTP request: four
 * headers, the last an ed25519 signature over the method, the `Host` header, the path, the
 * timestamp, the nonce and the SHA-256 of the body, one per line after a version tag. The
 * receiver takes a timestamp only within its window and each nonce only once.
 */
export const PEER_KEY_HEADER = 'x-car-peer-key';
export const PEER_TIMESTAMP_HEADER = 'x-car-peer-timestamp';
export const PEER_NONCE_HEADER = 'x-car-peer-nonce';
export const PEER_SIGNATURE_HEADER = 'x-car-peer-signature';

const VERSION = 'car-peer-sig-v1';
const NONCE = /^[A-Za-z0-9_-]{16,64}$/;

/** A verified peer caller, as the A2A auth layer names it. */
export interface PeerIdentity {
  /** `car-peer:<fingerprint>`. */
  subject: string;
  claims: { car_peer_key: string };
  fingerprint: string;
}

export interface SignedRequest {
  method: string;
  /** The `Host` header (the URL's `host`). */
  host: string;
  /** Path and query. */
  path: string;
  body: Uint8Array;
}

function signingInput(req: SignedRequest, timestamp: string, nonce: string): Buffer {
  const digest = createHash('sha256').update(req.body).digest('base64url');
  return Buffer.from([VERSION, req.method.toUpperCase(), req.host.toLowerCase(), req.path, timestamp, nonce, digest].join('\n'));
}

/** The headers that sign `req` with `key` at `now`. */
export function signPeerRequest(key: SigningKey, req: SignedRequest, now: number = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(now));
  const nonce = randomBytes(18).toString('base64url');
  const signature = sign(null, signingInput(req, timestamp, nonce), key.privateKey).toString('base64');
  return {
    [PEER_KEY_HEADER]: key.publicKeyBase64,
    [PEER_TIMESTAMP_HEADER]: timestamp,
    [PEER_NONCE_HEADER]: nonce,
    [PEER_SIGNATURE_HEADER]: signature,
  };
}

/** A raw 32-byte ed25519 public key from base64 (or base64url), or null when it is not one. */
export function decodePeerKey(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(text)) return null;
  const raw = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return raw.length === 32 ? raw : null;
}

export function peerIdentity(rawKey: Buffer): PeerIdentity {
  const fp = fingerprint(rawKey);
  return { subject: `car-peer:${fp}`, claims: { car_peer_key: rawKey.toString('base64') }, fingerprint: fp };
}

function publicKeyObject(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** Why a signed request was refused: `unsigned` and `invalid` are 401, `untrusted` 403, `busy` 503. */
export type PeerRefusal = { status: 401 | 403 | 503; reason: string };

export interface PeerVerifyOptions {
  /** The trusted peer holding this key (standard base64), if any. */
  isTrusted(keyBase64: string): boolean | Promise<boolean>;
  /** A timestamp further than this from now, either way, is refused. */
  maxAgeMs: number;
  replay: ReplayGuard;
  now?: number;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? undefined : v;
}

/**
 * Check the signature headers of one request. Resolves to the caller's identity, or to the
 * refusal to answer: nothing of the request has run yet either way.
 */
export async function verifyPeerRequest(
  headers: Record<string, string | string[] | undefined>,
  req: SignedRequest,
  options: PeerVerifyOptions,
): Promise<PeerIdentity | PeerRefusal> {
  const keyText = header(headers, PEER_KEY_HEADER);
  const timestamp = header(headers, PEER_TIMESTAMP_HEADER);
  const nonce = header(headers, PEER_NONCE_HEADER);
  const signature = header(headers, PEER_SIGNATURE_HEADER);
  if (keyText === undefined || timestamp === undefined || nonce === undefined || signature === undefined) {
    return { status: 401, reason: 'the peer listener needs a signed request (x-car-peer-key, -timestamp, -nonce, -signature)' };
  }
  const raw = decodePeerKey(keyText);
  if (raw === null) return { status: 401, reason: 'x-car-peer-key is not a base64 ed25519 public key' };
  if (!/^\d{1,16}$/.test(timestamp)) return { status: 401, reason: 'x-car-peer-timestamp must be milliseconds since the epoch' };
  if (!NONCE.test(nonce)) return { status: 401, reason: 'x-car-peer-nonce must be 16-64 base64url characters' };
  const now = options.now ?? Date.now();
  if (Math.abs(now - Number(timestamp)) > options.maxAgeMs) {
    return { status: 401, reason: `x-car-peer-timestamp is more than ${options.maxAgeMs} ms from this daemon's clock` };
  }
  const sig = Buffer.from(signature, 'base64');
  if (sig.length !== 64 || !verify(null, signingInput(req, timestamp, nonce), publicKeyObject(raw), sig)) {
    return { status: 401, reason: 'the peer signature does not verify' };
  }
  const id = peerIdentity(raw);
  if (!(await options.isTrusted(raw.toString('base64')))) {
    return { status: 403, reason: `key ${id.fingerprint} is not a trusted peer's (a2a.peers.add with its publicKey)` };
  }
  const seen = options.replay.admit(`${id.fingerprint}:${nonce}`, now);
  if (seen === 'replayed') return { status: 401, reason: 'this signed request was already received (nonce replayed)' };
  if (seen === 'full') return { status: 503, reason: `${options.replay.max} signed requests are remembered already; try again shortly` };
  return id;
}

/**
 * The nonces seen within the window, so a captured request cannot be sent again. At most `max`
 * are remembered; past it new requests are refused until the oldest age out.
 */
export class ReplayGuard {
  /** nonce → when it may be forgotten; insertion order is expiry order. */
  private readonly seen = new Map<string, number>();

  constructor(
    readonly max: number,
    private readonly windowMs: number,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  admit(nonce: string, now: number): 'ok' | 'replayed' | 'full' {
    for (const [n, expires] of this.seen) {
      if (expires > now) break;
      this.seen.delete(n);
    }
    if (this.seen.has(nonce)) return 'replayed';
    if (this.seen.size >= this.max) return 'full';
    // A timestamp up to `windowMs` ahead stays acceptable until `windowMs` after it.
    this.seen.set(nonce, now + 2 * this.windowMs);
    return 'ok';
  }
}
