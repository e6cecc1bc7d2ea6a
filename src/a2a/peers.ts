import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ensureDirDurable, writeFileAtomic } from '../util/durable-file.js';
import { CarError } from '../util/errors.js';
import { isLoopbackHost } from './bind.js';

export interface A2aPeer {
  slug: string;
  url: string;
  label?: string;
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
        if (Array.isArray(list)) peers = list.filter((p): p is A2aPeer => typeof p?.slug === 'string' && typeof p?.url === 'string');
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

  async add(url: string, label: string | undefined, allowUntrusted: boolean): Promise<A2aPeer> {
    const u = checkEndpoint(url, allowUntrusted, 'url');
    const normal = u.href;
    const peers = await this.load();
    if (peers.some((p) => p.url === normal)) throw new CarError('conflict', `peer '${normal}' is already trusted`, { field: 'url' });
    if (peers.length >= this.maxPeers) throw new CarError('limit', `at most ${this.maxPeers} A2A peers are kept`, { limit: this.maxPeers });
    const base = `${u.hostname}-${u.port || (u.protocol === 'https:' ? '443' : '80')}`.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    let slug = base;
    for (let n = 2; peers.some((p) => p.slug === slug); n++) slug = `${base}-${n}`;
    const peer: A2aPeer = label === undefined ? { slug, url: normal } : { slug, url: normal, label };
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
