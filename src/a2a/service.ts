import { CarError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { parseBind } from './bind.js';
import { DEFAULT_IDENTITY } from './card.js';
import { PeerGate, type PeerMessageEvent } from './peer-gate.js';
import { PeerMessageLog } from './peer-log.js';
import { signPeerRequest, type SignedRequest } from './peer-signature.js';
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
  /** The peer-authenticated listener; `bind: null` serves none. */
  peer: {
    bind: string | null;
    allowNonLoopbackBind: boolean;
    logPath: string | null;
    logMaxBytes: number;
    signatureMaxAgeMs: number;
    maxNonces: number;
    onMessage?: (event: PeerMessageEvent) => void;
  };
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
  private peerServer: A2aServer | undefined;
  private peerStarting: Promise<{ bound: string }> | undefined;

  /** Peers trusted for messaging (`a2a.peers.*`), read on first use. */
  readonly peers: PeerStore;
  /** Inbound peer messages (`peer-messages.jsonl`). */
  readonly peerLog: PeerMessageLog;

  constructor(private readonly options: A2aServiceOptions) {
    this.peers = new PeerStore(options.peersPath, options.maxPeers);
    this.peerLog = new PeerMessageLog(options.peer.logPath, options.peer.logMaxBytes);
  }

  /**
   * Serve the peer-authenticated listener on the configured `bind` (opt-in: nothing listens
   * unless the operator named an address). Idempotent once started.
   */
  listenPeers(): Promise<{ bound: string }> {
    this.peerStarting ??= this.startPeerServer();
    this.peerStarting.catch(() => (this.peerStarting = undefined));
    return this.peerStarting;
  }

  private async startPeerServer(): Promise<{ bound: string }> {
    const o = this.options.peer;
    if (o.bind === null) throw new CarError('invalid', 'no peer listener address is configured (a2aPeerBind)', { field: 'a2aPeerBind' });
    const bind = parseBind(o.bind, o.allowNonLoopbackBind);
    const gate = new PeerGate({
      peers: this.peers,
      log: this.peerLog,
      signatureMaxAgeMs: o.signatureMaxAgeMs,
      maxNonces: o.maxNonces,
      onMessage: o.onMessage,
    });
    const server = await A2aServer.start({
      bind,
      identity: { ...DEFAULT_IDENTITY, description: "A CAR daemon's peer inbox: signed messages from trusted peers, acknowledged.", version: this.options.serverVersion },
      key: await this.signingKey(),
      runtime: PEER_RUNTIME,
      limits: this.options.limits,
      logger: this.options.logger,
      peerGate: gate,
    }).catch((err: NodeJS.ErrnoException) => {
      throw new CarError('unavailable', `cannot bind the A2A peer listener to ${o.bind ?? ''}: ${err.code ?? err.message}`, { cause: err });
    });
    this.peerServer = server;
    return { bound: server.bound };
  }

  /**
   * The signer `a2a.send` uses towards `endpoint`: the daemon's key when the endpoint is a trusted
   * peer's (so that peer's listener knows who is writing), none otherwise.
   */
  async peerSigner(endpoint: string): Promise<((req: SignedRequest) => Record<string, string>) | undefined> {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      return undefined;
    }
    if ((await this.peers.byUrl(url)) === undefined) return undefined;
    const key = await this.signingKey();
    return (req) => signPeerRequest(key, req);
  }

  /** The daemon's public identity as peers see it, and where the peer listener is. */
  async identity(): Promise<{ public_key: string; fingerprint: string; subject: string; peer_listener: string | null }> {
    const key = await this.signingKey();
    return { public_key: key.publicKeyBase64, fingerprint: key.kid, subject: `car-peer:${key.kid}`, peer_listener: this.peerServer?.bound ?? null };
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

  /** Stop the listeners, if any, and close the peer log (daemon shutdown). */
  async close(): Promise<void> {
    if (this.server !== undefined) await this.stop();
    await this.peerStarting?.catch(() => undefined);
    const peer = this.peerServer;
    this.peerServer = undefined;
    await peer?.stop();
    await this.peerLog.close();
  }
}

/** The peer listener runs nothing: no tools, and text is acknowledged. */
const PEER_RUNTIME: A2aRuntime = {
  tools: () => [],
  submit: () => Promise.reject(new CarError('denied', 'peers may send messages, not tool calls')),
  chat: null,
};
