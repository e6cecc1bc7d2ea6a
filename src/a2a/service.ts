import { CarError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { parseBind } from './bind.js';
import { DEFAULT_IDENTITY } from './card.js';
import { PeerStore } from './peers.js';
import type { A2aRuntime } from './runtime.js';
import { A2aServer, type A2aLimits } from './server.js';
import { ephemeralKey, loadOrCreateKey, type SigningKey } from './signing-key.js';

export interface A2aServiceOptions {
  /** The daemon's ed25519 key file; `null` keeps a key for this process only. */
  keyPath: string | null;
  /** `a2a-peers.json`; `null` keeps trusted peers in memory. */
  peersPath: string | null;
  maxPeers: number;
  serverVersion: string;
  limits: A2aLimits;
  logger: Logger;
}

/** `a2a.start` params, already validated for shape. */
export interface A2aStartRequest {
  bind: string;
  public_url?: string | undefined;
  agent_name?: string | undefined;
  agent_description?: string | undefined;
  organization?: string | undefined;
  organization_url?: string | undefined;
  allow_non_loopback_bind?: boolean | undefined;
}

export interface A2aStatus {
  running: boolean;
  bound?: string;
  uptime_secs?: number;
  name?: string;
  tasks?: number;
}

/**
 * The daemon's A2A side: at most one operator-started listener (one server serves one card), and
 * the signing key. Nothing listens and no file is touched until `start`.
 */
export class A2aService {
  private server: A2aServer | undefined;
  private starting = false;
  private key: Promise<SigningKey> | undefined;
  private stopListeners: (() => void)[] = [];

  /** Peers trusted for messaging (`a2a.peers.*`), read on first use. */
  readonly peers: PeerStore;

  constructor(private readonly options: A2aServiceOptions) {
    this.peers = new PeerStore(options.peersPath, options.maxPeers);
  }

  signingKey(): Promise<SigningKey> {
    const path = this.options.keyPath;
    this.key ??= path === null ? Promise.resolve(ephemeralKey()) : loadOrCreateKey(path);
    this.key.catch(() => (this.key = undefined));
    return this.key;
  }

  get running(): A2aServer | undefined {
    return this.server;
  }

  async start(req: A2aStartRequest, runtime: A2aRuntime, onStop?: () => void): Promise<{ bound: string }> {
    if (this.server !== undefined || this.starting) {
      throw new CarError('conflict', `an A2A server is already running on ${this.server?.bound ?? '(starting)'}; call a2a.stop first`);
    }
    const bind = parseBind(req.bind, req.allow_non_loopback_bind === true);
    this.starting = true;
    try {
      const server = await A2aServer.start({
        bind,
        publicUrl: req.public_url,
        identity: {
          name: req.agent_name ?? DEFAULT_IDENTITY.name,
          description: req.agent_description ?? DEFAULT_IDENTITY.description,
          organization: req.organization ?? DEFAULT_IDENTITY.organization,
          organizationUrl: req.organization_url ?? DEFAULT_IDENTITY.organizationUrl,
          version: this.options.serverVersion,
        },
        key: await this.signingKey(),
        runtime,
        limits: this.options.limits,
        logger: this.options.logger,
      }).catch((err: NodeJS.ErrnoException) => {
        throw new CarError('unavailable', `cannot bind A2A server to ${req.bind}: ${err.code ?? err.message}`, { cause: err });
      });
      this.server = server;
      if (onStop !== undefined) this.stopListeners.push(onStop);
      return { bound: server.bound };
    } finally {
      this.starting = false;
    }
  }

  async stop(): Promise<{ stopped: true }> {
    const server = this.server;
    if (server === undefined) throw new CarError('not_found', 'no A2A server is running');
    this.server = undefined;
    for (const listener of this.stopListeners.splice(0)) listener();
    await server.stop();
    return { stopped: true };
  }

  status(): A2aStatus {
    const s = this.server;
    if (s === undefined) return { running: false };
    return { running: true, bound: s.bound, uptime_secs: Math.floor((Date.now() - s.startedAt) / 1000), name: s.name, tasks: s.taskCount };
  }

  /** An in-core (WS) A2A call against the running listener's tasks. */
  dispatch(method: string, params: unknown): Promise<unknown> {
    const s = this.server;
    if (s === undefined) return Promise.reject(new CarError('unavailable', `'${method}' needs an A2A server: call a2a.start first`));
    return s.dispatch(method, params);
  }

  /** Stop the listener, if any (daemon shutdown). */
  async close(): Promise<void> {
    if (this.server !== undefined) await this.stop();
  }
}
