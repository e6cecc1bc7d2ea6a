import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ensureDirDurable, writeFileAtomic } from '../util/durable-file.js';
import { CarError } from '../util/errors.js';
import { isLoopbackHost } from './bind.js';
import { decodePeerKey } from './peer-signature.js';
import { fingerprint } from './signing-key.js';

export interface A2aPeer {
  slug: string;
  url: string;
  label?: string;
  /** The peer daemon's ed25519 public key (raw, base64): its signed messages reach the peer listener. */
  publicKey?: string;
  /** The key's fingerprint, the `<fp>` of its `car-peer:<fp>` identity. */
  fingerprint?: string;
}

export interface PeerAddRequest {
  url: string;
  label?: string | undefined;
  publicKey?: string | undefined;
  allowUntrusted: boolean;
}

/** An http(s) URL, normalised; refused otherwise. Off the loopback it needs `allowUntrusted`. */
export function checkEndpoint(raw: string, allowUntrusted: boolean, field: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new CarError('invalid', `'${raw}' is not a URL`, { field });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CarError('invalid', `only http(s) endpoints are allowed, got '${u.protocol}'`, { field });
  if (!isLoopbackHost(u.hostname) && !allowUntrusted) {
    throw new CarError('invalid', `'${u.origin}' is not on the loopback; pass the allow-untrusted flag to trust it`, { field });
  }
  return u;
}

/**
 * The peers the daemon trusts for messaging (not for tools), in `a2a-peers.json` when a path is
 * configured: written atomically and fsynced before a change is acknowledged.
 */
export class PeerStore {
  private peers: A2aPeer[] | undefined;

  constructor(
    private readonly path: string | null,
    private readonly maxPeers: number,
  ) {}

  private async load(): Promise<A2aPeer[]> {
    if (this.peers !== undefined) return this.peers;
    let peers: A2aPeer[] = [];
    if (this.path !== null) {
      try {
        const doc: unknown = JSON.parse(await readFile(this.path, 'utf8'));
        const list = (doc as { peers?: unknown })?.peers;
        if (Array.isArray(list)) peers = list.filter(isPeer).map(withFingerprint);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    this.peers ??= peers;
    return this.peers;
  }

  private async save(peers: A2aPeer[]): Promise<void> {
    if (this.path === null) return;
    await ensureDirDurable(dirname(this.path));
    await writeFileAtomic(this.path, `${JSON.stringify({ peers }, null, 2)}\n`, 0o600);
  }

  async list(): Promise<A2aPeer[]> {
    return [...(await this.load())];
  }

  /** The trusted peer holding `publicKey` (standard base64). */
  async byKey(publicKey: string): Promise<A2aPeer | undefined> {
    return (await this.load()).find((p) => p.publicKey === publicKey);
  }

  /** The trusted peer `url` belongs to: same origin, and its path under the peer's. */
  async byUrl(url: URL): Promise<A2aPeer | undefined> {
    const path = url.pathname.replace(/\/+$/, '');
    return (await this.load()).find((p) => {
      const peer = new URL(p.url);
      const base = peer.pathname.replace(/\/+$/, '');
      return peer.origin === url.origin && (path === base || path.startsWith(`${base}/`));
    });
  }

  async add(req: PeerAddRequest): Promise<A2aPeer> {
    const { label } = req;
    const u = checkEndpoint(req.url, req.allowUntrusted, 'url');
    const normal = u.href;
    let publicKey: string | undefined;
    if (req.publicKey !== undefined) {
      const raw = decodePeerKey(req.publicKey);
      if (raw === null) throw new CarError('invalid', 'publicKey must be a raw ed25519 public key (32 bytes), base64', { field: 'publicKey' });
      publicKey = raw.toString('base64');
    }
    const peers = await this.load();
    if (peers.some((p) => p.url === normal)) throw new CarError('conflict', `peer '${normal}' is already trusted`, { field: 'url' });
    const holder = publicKey === undefined ? undefined : peers.find((p) => p.publicKey === publicKey);
    if (holder !== undefined) throw new CarError('conflict', `that key is already peer '${holder.slug}''s`, { field: 'publicKey' });
    if (peers.length >= this.maxPeers) throw new CarError('limit', `at most ${this.maxPeers} A2A peers are kept`, { limit: this.maxPeers });
    const base = `${u.hostname}-${u.port || (u.protocol === 'https:' ? '443' : '80')}`.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    let slug = base;
    for (let n = 2; peers.some((p) => p.slug === slug); n++) slug = `${base}-${n}`;
    const peer: A2aPeer = { slug, url: normal };
    if (label !== undefined) peer.label = label;
    if (publicKey !== undefined) {
      peer.publicKey = publicKey;
      peer.fingerprint = fingerprint(Buffer.from(publicKey, 'base64'));
    }
    const next = [...peers, peer];
    await this.save(next);
    this.peers = next;
    return peer;
  }

  async remove(slug: string): Promise<boolean> {
    const peers = await this.load();
    const next = peers.filter((p) => p.slug !== slug);
    if (next.length === peers.length) return false;
    await this.save(next);
    this.peers = next;
    return true;
  }
}

function isPeer(p: unknown): p is A2aPeer {
  const o = p as Partial<A2aPeer> | null;
  return typeof o?.slug === 'string' && typeof o.url === 'string';
}

/** A stored peer as served: its fingerprint derived from its key again, a key that is not one dropped. */
function withFingerprint(p: A2aPeer): A2aPeer {
  const out: A2aPeer = { slug: p.slug, url: p.url };
  if (typeof p.label === 'string') out.label = p.label;
  const raw = typeof p.publicKey === 'string' ? decodePeerKey(p.publicKey) : null;
  if (raw !== null) {
    out.publicKey = raw.toString('base64');
    out.fingerprint = fingerprint(raw);
  }
  return out;
}
