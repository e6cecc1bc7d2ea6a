import { CloseCode } from '../transport/frame.js';
import { ApprovalLedger } from '../engine/permission/ledger.js';
import { MemoryService } from '../memory/service.js';
import { HostState } from '../host/host-state.js';
import { totalmem } from 'node:os';
import { InferenceAdmission } from '../engine/admission.js';
import { Supervisor } from '../engine/supervision/supervisor.js';
import { RunStore } from '../engine/runs/run-store.js';
import { TrajectoryStore } from '../engine/trajectories.js';
import { RegistryService } from '../registry/service.js';
import { InferenceService } from '../inference/service.js';
import { A2aService } from '../a2a/service.js';
import { A2uiService } from '../a2ui/service.js';
import { VoiceService } from '../voice/service.js';
import { MeetingService } from '../voice/meetings.js';
import { VoiceTurns } from '../voice/turns.js';
import { AgentSupervisor } from '../agents/supervisor.js';
import { ChatHub } from '../agents/chat.js';
import { GoalStore } from '../agents/goals.js';
import type { ServerStateConfig } from './config.js';
import type { LocalRequestHandler, ServerContext, SessionContext } from '../contract/context.js';
import { PROTOCOL_VERSION } from '../contract/protocol.js';
import { LocalChannel } from './local-channel.js';
import { createGatePipeline } from './pipeline.js';
import { ClientSession as Session } from './session.js';
import { MethodTable, type MethodSpec } from '../contract/method.js';
import type { ClientSession } from './session.js';
import { FrameParser } from '../rpc/frame-parser.js';
import { JournalDirectory } from '../engine/events/journal-dir.js';

export type ServerMode = 'standalone' | 'embedded';

/**
 * State shared by every connection of one daemon: configuration, live sessions, the method table
 * and the engines. Constructing it starts nothing: no timers, no files, no sockets; listeners and
 * connections are the caller's to start. The method table comes from whoever builds it (the
 * package entry's `ServerState.embedded` / `standalone` install the built-in methods); the
 * config's own `methods` are added after those, and its gate lists are applied once, here.
 */
export class ServerState implements ServerContext {
  readonly sessions = new Map<string, ClientSession>();
  readonly methods: MethodTable;
  /** agent_id → client_id of the connection it is attached to. */
  readonly attachedAgents = new Map<string, string>();
  /** Supervised agents and their own tokens; nothing is read or started before first use. */
  readonly agents: AgentSupervisor;
  /** Chat sessions in flight and the route each one's events take. */
  readonly chat: ChatHub;
  /** Standing chat goals (`goal.*`), read on first use. */
  readonly goals: GoalStore;
  /**
   * The daemon-wide permission approval ledger, shared by every connection. Its file is read on
   * first use and appended per decision; constructing it touches nothing.
   */
  readonly approvals: ApprovalLedger;
  /**
   * Every memory graph: the shared one unbound sessions use, and the private ones per namespace
   * and per agent, each opened on first use.
   */
  readonly memory: MemoryService;
  /** The supervision gate every proposal passes before the permission gate. */
  readonly supervision: Supervisor;
  /** The process-wide semaphore inference-class work goes through. */
  readonly admission: InferenceAdmission;
  /** Host-facing state: registered agents and devices, approvals, the event ring and its subscribers. */
  readonly host: HostState;
  /** Durable run traces (`runs.*`); files are touched only by runs. */
  readonly runs: RunStore;
  readonly trajectories: TrajectoryStore;
  /** The product registry (`registry.*`); refused when no registry dir is configured. */
  readonly registry: RegistryService;
  /**
   * Models, providers, routing and the delegated runner. models.json is read and Ollama asked on
   * first use (or when the binary calls `inference.load()` at boot), never at construction.
   */
  readonly inference: InferenceService;
  /** The operator-started A2A listener and the daemon's signing key; nothing listens until `a2a.start`. */
  readonly a2a: A2aService;
  /** A2UI surfaces every host UI sees, their subscribers and the UI-improvement loop guards. */
  readonly a2ui: A2uiService;
  /** Speech in and out: providers, transcription sessions, synthesis streams. */
  readonly voice: VoiceService;
  /** Meetings: transcripts recorded under `meetingsDir` and ingested into memory. */
  readonly meetings: MeetingService;
  readonly voiceTurns = new VoiceTurns();
  /**
   * The threads that parse frames of `workerParseThresholdBytes` or more, shared by every
   * connection; null when `maxFrameParseWorkers` is 0 (every frame is parsed inline).
   */
  readonly frameParser: FrameParser | null;
  /** Bounds the journal directory to `journalMaxFiles`, when there is one. */
  readonly journals: JournalDirectory | null;
  private readonly sessionWaiters = new Set<() => void>();

  constructor(
    readonly config: ServerStateConfig,
    readonly mode: ServerMode,
    methods: Iterable<MethodSpec>,
  ) {
    const gate = config.approvalGate;
    this.journals = config.journalDir === null ? null : new JournalDirectory(config.journalDir, config.journalMaxFiles);
    this.frameParser = config.maxFrameParseWorkers > 0 ? new FrameParser({ workers: config.maxFrameParseWorkers }) : null;
    this.methods = new MethodTable([...methods, ...config.methods], {
      handshakeGated: config.handshakeGated,
      approvalMethods: gate.methods,
      approvalEnabled: gate.enabled,
    });
    this.approvals = new ApprovalLedger(config.approvalsPath);
    this.host = new HostState({
      maxEvents: config.maxHostEvents,
      maxEventBytes: config.maxHostEventBytes,
      subscriberQueue: config.maxHostSubscriberQueue,
      subscriberBytes: config.maxHostSubscriberBytes,
      subscribersTotalBytes: config.maxHostSubscribersTotalBytes,
      maxRegistrationsPerSession: config.maxHostRegistrationsPerSession,
      maxRecordBytes: config.maxHostRecordBytes,
      maxEventPayloadBytes: config.maxHostEventPayloadBytes,
      maxPendingApprovalsPerSession: config.maxPendingApprovalsPerSession,
      maxApprovalHistory: config.maxApprovalHistory,
    });
    this.memory = new MemoryService({ memoryDir: config.memoryDir, sharedPath: config.sharedMemoryPath, logger: config.logger });
    this.supervision = new Supervisor(config.supervisionDecisionTimeoutMs, config.maxSupervisionHistory);
    this.runs = new RunStore({
      runsDir: config.runsDir,
      completeGraceMs: config.runCompleteGraceMs,
      maxFinishedInMemory: config.maxFinishedRunsInMemory,
      onError: (err, runId) => config.logger.warn({ err, run_id: runId }, 'run trace write failed'),
    });
    this.trajectories = new TrajectoryStore(config.trajectoriesDir, config.maxTrajectoryRecords);
    this.registry = new RegistryService(config.registryDir, config.maxRegistryStores);
    this.inference = new InferenceService({
      modelsPath: config.modelsPath,
      ollamaEndpoint: config.ollamaEndpoint,
      discoveryTimeoutMs: config.ollamaDiscoveryTimeoutMs,
      env: config.providerEnv,
      requestTimeoutMs: config.inferenceRequestTimeoutMs,
      maxRetries: config.inferenceMaxRetries,
      retryBaseDelayMs: config.inferenceRetryBaseDelayMs,
      retryMaxDelayMs: config.inferenceRetryMaxDelayMs,
      runnerQueueMax: config.inferenceRunnerQueueMax,
    });
    this.a2a = new A2aService({
      keyPath: config.a2aKeyPath,
      peersPath: config.a2aPeersPath,
      maxPeers: config.a2aMaxPeers,
      serverVersion: config.serverVersion,
      logger: config.logger,
      limits: {
        maxBodyBytes: config.a2aMaxBodyBytes,
        maxTasks: config.a2aMaxTasks,
        maxPushConfigsPerTask: config.a2aMaxPushConfigsPerTask,
        pushTimeoutMs: config.a2aPushTimeoutMs,
        pushAllowList: config.a2aPushAllowList,
      },
      peer: {
        bind: config.a2aPeerBind,
        allowNonLoopbackBind: config.a2aPeerAllowNonLoopbackBind,
        logPath: config.a2aPeerLogPath,
        logMaxBytes: config.a2aPeerLogMaxBytes,
        signatureMaxAgeMs: config.a2aPeerSignatureMaxAgeMs,
        maxNonces: config.a2aPeerMaxNonces,
        onMessage: (m) =>
          this.host.recordEvent('a2a.peer_message', null, `message from peer ${m.peer.label ?? m.peer.slug}`, {
            subject: m.identity.subject,
            peer: m.peer.slug,
            message_id: m.messageId,
            context_id: m.contextId,
            text: m.text.slice(0, config.a2aPeerEventTextChars),
            truncated: m.text.length > config.a2aPeerEventTextChars,
          }),
      },
    });
    this.a2ui = new A2uiService({
      limits: {
        maxSurfaces: config.a2uiMaxSurfaces,
        maxSurfacesPerOwner: config.a2uiMaxSurfacesPerOwner,
        maxComponentsPerSurface: config.a2uiMaxComponentsPerSurface,
        maxComponentsBytes: config.a2uiMaxComponentsBytes,
        maxDataModelBytes: config.a2uiMaxDataModelBytes,
        maxMessagesPerCall: config.a2uiMaxMessagesPerCall,
        loopMaxIterations: config.a2uiLoopMaxIterations,
        oscillationWindow: config.a2uiOscillationWindow,
      },
      surfaceIdleMs: config.a2uiSurfaceIdleMs,
      hostEvent: (kind, message, payload) => void this.host.recordEvent(kind, null, message, payload),
    });
    this.voice = new VoiceService({
      searchPath: config.voiceSearchPath,
      pocketsphinxModelDir: config.pocketsphinxModelDir,
      limits: {
        maxSessions: config.maxVoiceSessions,
        maxSessionAudioBytes: config.maxVoiceSessionAudioBytes,
        maxBufferedBytes: config.maxVoiceBufferedBytes,
        maxTtsStreams: config.maxTtsStreams,
        maxTtsTextBytes: config.maxTtsTextBytes,
      },
    });
    this.meetings = new MeetingService(this.voice, config.meetingsDir, {
      maxActive: config.maxActiveMeetings,
      maxStoredInMemory: config.maxMeetingsInMemory,
    });
    this.agents = new AgentSupervisor({
      manifestPath: config.agentsManifestPath,
      logDir: config.agentsLogDir,
      maxAgents: config.maxAgents,
      stopGraceMs: config.agentStopGraceMs,
      backoffMaxMs: config.agentBackoffMaxMs,
      logTailBytes: config.agentLogTailBytes,
      baseEnv: config.agentEnv,
      attachedSession: (id) => {
        const clientId = this.attachedAgents.get(id);
        return clientId !== undefined && this.sessions.has(clientId) ? clientId : undefined;
      },
      onStatus: (id, status, agent) =>
        this.host.recordEvent('supervisor.agent_status', id, `${id} is ${status}`, {
          status,
          pid: agent.pid ?? null,
          restart_count: agent.restart_count,
          last_exit_code: agent.last_exit_code ?? null,
        }),
    });
    this.chat = new ChatHub({
      maxSessions: config.maxChatSessions,
      cancelAgent: (chat) => {
        const agent = this.sessions.get(chat.agentClientId);
        if (agent?.channel.isOpen) agent.channel.notify('agent.chat.cancel', { session_id: chat.id });
      },
      onOpen: (chat) => this.host.recordEvent('chat.session_opened', chat.agentId, null, { session_id: chat.id }),
      onEnd: (chat, reason) => this.host.recordEvent('chat.session_closed', chat.agentId, reason, { session_id: chat.id, reason }),
    });
    this.goals = new GoalStore(config.chatGoalsPath, config.maxChatGoals);
    this.admission = new InferenceAdmission({
      override: config.inferenceMaxConcurrent,
      totalMemoryBytes: config.totalMemoryBytes ?? (() => totalmem()),
      maxQueue: config.inferenceQueueMax,
    });
  }

  /** Serve an extra method on every connection (same gate pipeline as the built-ins). */
  addMethod(spec: MethodSpec): void {
    this.methods.add(spec);
  }

  openLocalSession(serve: LocalRequestHandler): SessionContext {
    const session = new Session(new LocalChannel(serve), this.config, 'local', undefined);
    session.authenticated = true;
    session.negotiatedProtocolVersion = PROTOCOL_VERSION;
    session.pipeline = createGatePipeline(this, session, this.config.logger.child({ client_id: session.clientId }));
    return session;
  }

  /** Why a new connection would be refused now (connection caps), or undefined to accept it. */
  admitConnection(): string | undefined {
    const c = this.config;
    if (this.sessions.size >= c.maxConnections) return `too many connections (limit ${c.maxConnections})`;
    if (!c.authEnabled) return undefined;
    let unauthenticated = 0;
    for (const s of this.sessions.values()) if (!s.authenticated) unauthenticated++;
    if (unauthenticated >= c.maxUnauthenticatedConnections) {
      return `too many connections waiting to authenticate (limit ${c.maxUnauthenticatedConnections})`;
    }
    return undefined;
  }

  /** @internal */
  addSession(session: ClientSession): void {
    this.sessions.set(session.clientId, session);
  }

  /** @internal */
  removeSession(session: ClientSession): void {
    this.sessions.delete(session.clientId);
    session.releaseJournal();
    this.host.dropSession(session.clientId);
    this.supervision.unsubscribe(session.clientId);
    this.runs.connectionClosed(session.clientId);
    void this.meetings.closeOwner(session.clientId);
    this.voice.closeOwner(session.clientId);
    this.voiceTurns.closeOwner(session.clientId);
    this.chat.connectionClosed(session.clientId);
    if (session.agentId !== null && this.attachedAgents.get(session.agentId) === session.clientId) {
      this.attachedAgents.delete(session.agentId);
    }
    if (this.sessions.size === 0) for (const wake of this.sessionWaiters) wake();
  }

  findSession(clientId: string): ClientSession | undefined {
    return this.sessions.get(clientId);
  }

  /** The live connection agent `agentId` is attached on. */
  agentSession(agentId: string): ClientSession | undefined {
    const clientId = this.attachedAgents.get(agentId);
    return clientId === undefined ? undefined : this.sessions.get(clientId);
  }

  /** Bind `agentId` to `session`; false when another live connection holds it. */
  attachAgent(agentId: string, session: SessionContext): boolean {
    const holder = this.attachedAgents.get(agentId);
    if (holder !== undefined && holder !== session.clientId && this.sessions.has(holder)) return false;
    if (session.agentId !== null && session.agentId !== agentId) this.attachedAgents.delete(session.agentId);
    this.attachedAgents.set(agentId, session.clientId);
    session.agentId = agentId;
    return true;
  }

  /**
   * Close every connection (1001 by default) and resolve once all sessions are gone, or after
   * `timeoutMs`, whichever is first.
   */
  async close(code: number = CloseCode.GoingAway, reason = 'server shutting down', timeoutMs = 5000): Promise<void> {
    await this.agents.close();
    for (const session of this.sessions.values()) session.channel.close(code, reason);
    await this.a2a.close();
    if (this.sessions.size === 0) {
      await this.frameParser?.close();
      await this.runs.close();
      await this.trajectories.close();
      return this.memory.close();
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.sessionWaiters.delete(done);
        resolve();
      }
      this.sessionWaiters.add(done);
    });
    await this.frameParser?.close();
    await this.runs.close();
    await this.trajectories.close();
    await this.memory.close();
  }
}
