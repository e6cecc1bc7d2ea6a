import { isAbsolute, join, resolve } from 'node:path';
import type { Logger as PinoLogger } from 'pino';
import { createMcpEndpoint, listenTcp, listenUnix, ServerState, ServerStateConfig, type Listener } from '../index.js';
import { isLoopbackHost } from '../transport/origin.js';
import { listenDashboard } from '../dashboard/index.js';
import { perPortSocketPath, type CarHome, type Platform } from '../util/car-paths.js';
import { DEFAULT_DREAM_INTERVAL_MS, DreamLoop } from './dream.js';
import { establishPrimacy, type DaemonLock, type Primacy } from './primacy.js';
import { resolveAgentsManifest, resolveJournalDir, type Settings } from './settings.js';
import { resolveInferenceSettings } from './inference-settings.js';
import { createEmbedder } from '../inference/embedder.js';
import { mintToken, removeFile, TokenFiles } from './tokens.js';

/** Everything resolved from flags, environment and platform before anything is started. */
export interface DaemonPlan {
  platform: Platform;
  settings: Settings;
  carHome: CarHome;
  tokenDir: string;
  sharedSocket: string | null;
  lockPath: string;
  serverVersion: string;
  /** The environment (after `$CAR_HOME/env`): models' `api_key_env` and the inference variables. */
  env: Readonly<Record<string, string | undefined>>;
}

export class StartupError extends Error {
  override readonly name = 'StartupError';
  /** One line for a person, printed besides the JSON log (e.g. the port is taken). */
  plainLine: string | undefined;
}

/** Startup gave way to a shutdown requested meanwhile. */
export class StartupAborted extends Error {
  override readonly name = 'StartupAborted';
}

/**
 * One daemon run: primacy, listeners, token files. Only what this run created is cleaned up, so a
 * secondary daemon never removes the primary's socket or tokens.
 */
export class Daemon {
  private starting: Promise<void> | null = null;
  private stopped: Promise<void> | null = null;
  private stopping = false;
  private state: ServerState | null = null;
  private dream: DreamLoop | null = null;
  private readonly listeners: Listener[] = [];
  private ownSocket: string | null = null;
  private lock: DaemonLock | null = null;
  private tokenFiles: TokenFiles | null = null;

  constructor(
    private readonly plan: DaemonPlan,
    private readonly logger: PinoLogger,
  ) {}

  start(): Promise<void> {
    this.starting ??= this.run();
    return this.starting;
  }

  /** Stop accepting, close every connection with 1001, remove what this run created. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  /** Best-effort removal of this run's files, for paths where awaiting is not possible. */
  cleanupSync(): void {
    const steps: [string, () => void][] = [
      ['socket', () => (this.ownSocket === null ? undefined : removeFile(this.ownSocket))],
      ['token files', () => this.tokenFiles?.remove()],
      ['lock', () => this.lock?.release()],
    ];
    for (const [what, step] of steps) {
      try {
        step();
      } catch (err) {
        this.logger.warn({ err }, `could not remove ${what}`);
      }
    }
    this.ownSocket = null;
    this.tokenFiles = null;
    this.lock = null;
  }

  private async run(): Promise<void> {
    const { settings, sharedSocket } = this.plan;
    const authToken = settings.auth ? mintToken() : null;
    // No auth, no host check: with auth off there is no host token either.
    const hostToken = settings.auth ? mintToken() : null;

    const primacy = await establishPrimacy(this.plan.lockPath, sharedSocket);
    if (primacy.primary) this.lock = primacy.lock;
    else this.logger.warn(describeSecondary(primacy), 'another car-server daemon is primary: writing token files of its own (auth-token-<port>), memory kept in memory only');
    this.abortIfStopping();

    const inference = resolveInferenceSettings(this.plan.env, this.plan.carHome.dir);
    const state = ServerState.standalone(
      new ServerStateConfig({
        authToken,
        hostToken,
        serverVersion: this.plan.serverVersion,
        host: settings.host,
        port: settings.port,
        socketPath: primacy.primary ? sharedSocket : null,
        carHome: this.plan.carHome.dir,
        approvalsPath: join(this.plan.carHome.dir, 'approvals.jsonl'),
        // Two daemons must never write the same memory files: only the primary keeps them.
        memoryDir: primacy.primary ? join(this.plan.carHome.dir, 'memory') : null,
        sharedMemoryPath: primacy.primary ? join(this.plan.carHome.dir, 'memory', 'shared.json') : null,
        journalDir: resolveJournalDir(settings.journalDir, {
          carHome: this.plan.carHome.dir,
          home: this.plan.platform.home,
          cwd: this.plan.platform.cwd,
        }),
        runsDir: resolve(this.plan.carHome.dir, 'runs'),
        trajectoriesDir: resolve(this.plan.carHome.dir, 'trajectories'),
        registryDir: resolve(this.plan.carHome.dir, 'registry'),
        policiesDir: resolve(this.plan.carHome.dir, 'policies'),
        meetingsDir: resolve(this.plan.carHome.dir, 'meetings'),
        a2aKeyPath: resolve(this.plan.carHome.dir, 'a2a', 'agent-key.pem'),
        a2aPeersPath: resolve(this.plan.carHome.dir, 'a2a-peers.json'),
        a2aPeerLogPath: resolve(this.plan.carHome.dir, 'peer-messages.jsonl'),
        a2aFilesRoot: resolve(this.plan.carHome.dir, 'a2a', 'files'),
        a2aPeerBind: settings.a2aPeerBind ?? null,
        a2aPeerAllowNonLoopbackBind: settings.a2aPeerAllowLan === true,
        handlerTimeoutMs: settings.handlerTimeoutMs,
        toolTimeoutMs: settings.toolTimeoutMs,
        approvalGate: { ...ServerStateConfig.defaults().approvalGate, enabled: settings.approvals !== false },
        inferenceMaxConcurrent: settings.inferenceMaxConcurrent,
        modelsPath: inference.modelsPath,
        ollamaEndpoint: inference.ollamaEndpoint,
        providerEnv: this.plan.env,
        embedModel: inference.embedModel,
        skillsModel: inference.skillsModel,
        mcpAssistantModel: inference.assistantModel,
        voiceSearchPath: voiceSearchPath(this.plan.env.PATH),
        agentsManifestPath: resolveAgentsManifest(settings.agentsManifest, {
          carHome: this.plan.carHome.dir,
          home: this.plan.platform.home,
          cwd: this.plan.platform.cwd,
        }),
        agentsLogDir: join(this.plan.carHome.dir, 'logs', 'agents'),
        agentEnv: this.plan.env,
        chatGoalsPath: join(this.plan.carHome.dir, 'chat-goals.json'),
        logger: this.logger,
      }),
    );
    this.state = state;
    if (primacy.primary) {
      // Runs a dead daemon left open can never be completed by anyone: close them, saying why.
      const orphans = await state.runs.recoverOrphans();
      if (orphans > 0) this.logger.warn({ runs: orphans }, 'runs left open by a previous daemon were ended incomplete');
    }

    const tcp = await this.listen(`${settings.host}:${settings.port}`, () => listenTcp(state), settings.port);
    const socketPath = this.socketPathFor(primacy, tcp);
    if (socketPath !== null) {
      await this.listen(socketPath, () => listenUnix(state, socketPath));
      this.ownSocket = socketPath;
    }

    const dashboardUrl = await this.startDashboard(authToken, tcp.port);
    const mcpUrl = await this.startMcp(state);
    const peerListener = await this.startPeerListener(state);
    const a2aListener = await this.startA2a(state);

    // A secondary daemon keeps the primary's files and writes its own, named after its port.
    this.tokenFiles = new TokenFiles(this.plan.tokenDir, primacy.primary ? '' : `-${tcp.port}`);
    this.tokenFiles.write(authToken, hostToken);
    const tokenPath = authToken === null ? null : this.tokenFiles.authTokenPath;

    this.logger.info(
      {
        url: `ws://${tcp.address}/`,
        host: settings.host,
        port: tcp.port,
        socket: socketPath,
        dashboard: dashboardUrl,
        mcp: mcpUrl,
        a2a_peer_listener: peerListener,
        a2a_listener: a2aListener,
        token_path: tokenPath,
        host_token_path: this.tokenFiles?.hostTokenPath ?? null,
        auth: authToken !== null,
        primary: primacy.primary,
        version: this.plan.serverVersion,
      },
      'listening',
    );
    process.stdout.write(
      `car-server ${this.plan.serverVersion} listening on ws://${tcp.address}/` +
        ` | token file: ${tokenPath ?? 'none (auth off)'}` +
        ` | dashboard: ${dashboardUrl ?? 'off'}` +
        ` | socket: ${socketPath ?? 'none'}` +
        (a2aListener === null ? '' : ` | a2a: http://${a2aListener}/`) +
        (peerListener === null ? '' : ` | a2a peers: http://${peerListener}/`) +
        (primacy.primary ? '' : ' | secondary daemon (another one is primary)') +
        '\n',
    );
    // Listening does not wait for the registry: the first inference call waits for the same load.
    this.loadModels(state).catch((err: unknown) => this.logger.warn({ err }, 'model registry not loaded'));
    this.startAgents(state);
    this.dream = new DreamLoop(state.memory, settings.dreamIntervalMs ?? DEFAULT_DREAM_INTERVAL_MS, this.logger);
    this.dream.start();
  }

  /** Take the agents manifest (or observe another daemon's) and start the agents marked auto_start. */
  private startAgents(state: ServerState): void {
    try {
      if (state.agents.open() === 'observer') {
        this.logger.warn({ manifest: state.agents.manifestPath }, 'another daemon holds the agents manifest: agents.* is observe-only here');
        return;
      }
      const started = state.agents.startAutoStart();
      if (started.length > 0) this.logger.info({ agents: started }, 'auto-started supervised agents');
    } catch (err) {
      this.logger.warn({ err }, 'supervised agents not loaded');
    }
  }

  /** Read models.json and ask the local Ollama once, right after start; wire memory's embedder when one is named. */
  private async loadModels(state: ServerState): Promise<void> {
    await state.inference.load();
    for (const problem of state.inference.registry.problems) this.logger.warn({ models_path: state.config.modelsPath }, problem);
    const models = await state.inference.listUnified();
    this.logger.info(
      { models: models.length, available: models.filter((m) => m.available).map((m) => m.id) },
      'model registry loaded',
    );
    const embedModel = state.config.embedModel;
    if (embedModel === null) return;
    try {
      await state.memory.useEmbedder(await createEmbedder(state.inference, embedModel));
      this.logger.info({ model: embedModel }, 'memory embeds facts with this model');
    } catch (err) {
      this.logger.warn({ err, model: embedModel }, 'memory embedder not available; memory stays lexical');
    }
  }

  /** The dashboard on 127.0.0.1:<port+1>. Not being able to bind it is worth a warning, not a failed start. */
  private async startDashboard(authToken: string | null, port: number | undefined): Promise<string | null> {
    if (this.plan.settings.dashboard === false || port === undefined) return null;
    const dashboardPort = port + 1;
    if (dashboardPort > 65535) return null;
    let listener: Listener;
    try {
      listener = await listenDashboard({ authToken, port: dashboardPort });
    } catch (err) {
      this.logger.warn({ err, port: dashboardPort }, 'dashboard not served: cannot listen on its port');
      return null;
    }
    this.listeners.push(listener);
    this.abortIfStopping();
    return `http://${listener.address}/`;
  }

  /** The MCP endpoint. A default bind that is taken only warns; one the user named must work. */
  private async startMcp(state: ServerState): Promise<string | null> {
    const bind = this.plan.settings.mcpBind;
    if (bind === null) return null;
    const endpoint = createMcpEndpoint(state, { allowedHosts: isLoopbackHost(bind.host) ? [] : [bind.host] });
    let listener: Listener;
    try {
      listener = await endpoint.listen(bind.host, bind.port);
    } catch (err) {
      if (bind.explicit) throw new StartupError(`cannot listen on ${bind.host}:${bind.port} (--mcp-bind): ${(err as Error).message}`, { cause: err });
      this.logger.warn({ err, mcp_bind: `${bind.host}:${bind.port}` }, 'MCP endpoint not served: cannot listen on its address');
      return null;
    }
    this.listeners.push(listener);
    this.abortIfStopping();
    return `http://${listener.address}/mcp`;
  }

  /** The peer-authenticated A2A listener, only when --a2a-peer-listen named an address; failing to bind it fails the start. */
  private async startPeerListener(state: ServerState): Promise<string | null> {
    if (state.config.a2aPeerBind === null) return null;
    try {
      const { bound } = await state.a2a.listenPeers();
      this.abortIfStopping();
      return bound;
    } catch (err) {
      if (err instanceof StartupAborted) throw err;
      throw new StartupError(`cannot serve the A2A peer listener on ${state.config.a2aPeerBind} (--a2a-peer-listen): ${(err as Error).message}`, { cause: err });
    }
  }

  /** The A2A server named by --a2a-bind; failing to bind it fails the start. */
  private async startA2a(state: ServerState): Promise<string | null> {
    const bind = this.plan.settings.a2aBind;
    if (bind === undefined) return null;
    try {
      const { bound } = await state.startA2a({ bind, allow_non_loopback_bind: this.plan.settings.a2aAllowLan === true });
      this.abortIfStopping();
      return bound;
    } catch (err) {
      if (err instanceof StartupAborted) throw err;
      throw new StartupError(`cannot serve A2A on ${bind} (--a2a-bind): ${(err as Error).message}`, { cause: err });
    }
  }

  private socketPathFor(primacy: Primacy, tcp: Listener): string | null {
    const shared = this.plan.sharedSocket;
    if (shared === null) return null;
    if (primacy.primary) return shared;
    const path = perPortSocketPath(this.plan.platform, shared, tcp.port ?? this.plan.settings.port);
    this.logger.info({ socket: path, shared_socket: shared }, 'not primary: binding a per-port socket instead of the shared one');
    return path;
  }

  private async listen(where: string, open: () => Promise<Listener>, port?: number): Promise<Listener> {
    let listener: Listener;
    try {
      listener = await open();
    } catch (err) {
      const failure = new StartupError(`cannot listen on ${where}: ${(err as Error).message}`, { cause: err });
      if (port !== undefined && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        failure.plainLine = `port ${port} is in use — another car-server? try --port 0`;
      }
      throw failure;
    }
    this.listeners.push(listener);
    this.abortIfStopping();
    return listener;
  }

  private abortIfStopping(): void {
    if (this.stopping) throw new StartupAborted('shutdown requested during startup');
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    await this.starting?.catch(() => {});
    await Promise.all(this.listeners.map((l) => l.close()));
    await this.dream?.stop();
    await this.state?.close();
    this.cleanupSync();
  }
}

function describeSecondary(primacy: Exclude<Primacy, { primary: true }>): Record<string, unknown> {
  return primacy.reason === 'lock-held'
    ? { reason: 'daemon.lock is held', holder_pid: primacy.holderPid }
    : { reason: 'a live daemon answers on the shared socket', shared_socket: primacy.socketPath };
}

/** The speech engines are looked up on PATH (its absolute entries), then in the system directories. */
function voiceSearchPath(path: string | undefined): string[] {
  const dirs = (path ?? '').split(':').filter((d) => isAbsolute(d));
  for (const d of ServerStateConfig.defaults().voiceSearchPath) if (!dirs.includes(d)) dirs.push(d);
  return dirs;
}
