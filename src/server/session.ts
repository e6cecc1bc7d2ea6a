import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { EventLog } from '../engine/event-log.js';
import { EventJournal } from '../engine/events/journal.js';
import type { JournalDirectory } from '../engine/events/journal-dir.js';
import { DEFAULT_REPLAN_CONFIG, type ReplanConfig } from '../engine/replan.js';
import { DEFAULT_TIER, type Tier } from '../engine/permission/tiers.js';
import { PolicyEngine } from '../engine/policy/policy-engine.js';
import { StateStore } from '../engine/state-store.js';
import { ToolHandleStore } from '../engine/tool-handles.js';
import { ToolRegistry } from '../engine/tool-registry.js';
import type { ServerChannel } from './channel.js';
import type { JsonRpcParams } from '../rpc/messages.js';
import type { InboundHandler } from '../rpc/peer.js';
import { callThrough } from './local-call.js';
import { MESSAGING_SEND, MESSAGING_SEND_TOOL, MessagingExecutor } from '../engine/executor/messaging.js';
import { ToolRateLimiter } from '../engine/rate-limit.js';
import { loadPolicyDir, type FilePolicySet } from '../engine/policy/file-policies.js';
import type { PolicyChecker } from '../engine/executor/types.js';
import { ToolResultCache } from '../engine/executor/tool-cache.js';
import type { ServerStateConfig } from './config.js';
import type { SessionContext, SessionHalt } from '../contract/context.js';
import type { Role } from '../contract/roles.js';
import { WsToolExecutor } from './tool-executor.js';
import { WsMemgineIngestSink, WsVoiceEventSink, type IngestTarget } from './voice-sinks.js';
import type { VoiceEventSink } from '../voice/types.js';
import type { Logger } from '../util/logger.js';

/** Everything the daemon knows about one connected client. */
export class ClientSession implements SessionContext {
  readonly clientId: string = randomUUID();
  readonly connectedAt = new Date();
  authenticated: boolean;
  authFailures = 0;
  isHost = false;
  negotiatedProtocolVersion: number | null = null;
  clientVersion: string | null = null;
  /** Agent identity bound by `session.auth {agent_id}`. */
  agentId: string | null = null;
  /** Private memory graph chosen by `session.auth {memory_namespace}`. */
  memoryNamespace: string | null = null;
  tenant: string | null = null;
  /** The run `runs.start` last opened on this connection; its id is the `session_id` of `tools.execute`. */
  currentRunId: string | null = null;
  readonly state: StateStore;
  readonly tools: ToolRegistry;
  /** The client's tools, and the built-in `messaging.send` in front of them. */
  readonly toolExecutor: MessagingExecutor;
  /** Results of idempotent tools with `cache_ttl_secs`. */
  readonly toolCache: ToolResultCache;
  /** Each tool's declared `rate_limit`, counted per connection. */
  readonly rateLimiter = new ToolRateLimiter();
  /** Set when a terminal tool error stopped a proposal; proposals are refused until it is cleared. */
  halt: SessionHalt | null = null;
  private filePolicySet: FilePolicySet | null = null;
  /** Detached (streaming / long-running) tool invocations, polled with `tools.poll`. */
  readonly toolHandles: ToolHandleStore;
  /** Set by `tools.stream.subscribe`: chunks are also pushed as `tools.stream.event`. */
  toolStreamSubscribed = false;
  /** Everything the runtime did for this connection (`events.*`, `metrics.*`). */
  readonly events: EventLog;
  /** Re-plan settings from `replan.set_config`. */
  replan: ReplanConfig = { ...DEFAULT_REPLAN_CONFIG };
  /** The standing permission tier (`permission.get_tier` / `set_tier`). */
  grantedTier: Tier = DEFAULT_TIER;
  /** Policies checked before any action dispatches; the runtime session id is the client id. */
  readonly policies: PolicyEngine;
  /** Voice events and audio frames of the streams this connection started. */
  readonly voiceSink: WsVoiceEventSink;
  private readonly logger: Logger;

  constructor(
    readonly channel: ServerChannel,
    private readonly config: ServerStateConfig,
    readonly transportKind: string,
    readonly remoteAddress: string | undefined,
    private readonly journals?: JournalDirectory,
  ) {
    this.authenticated = !config.authEnabled;
    this.policies = new PolicyEngine(this.clientId, {
      maxPolicies: config.maxPoliciesPerSession,
      maxSessions: config.maxPolicySessions,
    });
    this.events = new EventLog({ journal: this.openJournal(config), capacity: config.maxEventsPerSession });
    this.state = new StateStore({
      maxKeys: config.maxStateKeysPerSession,
      maxBytes: config.maxStateBytesPerSession,
      maxValueBytes: config.maxStateValueBytes,
    });
    this.tools = new ToolRegistry(config.maxToolsPerSession, [MESSAGING_SEND_TOOL]);
    this.voiceSink = new WsVoiceEventSink(channel);
    this.logger = config.logger;
    this.toolExecutor = new MessagingExecutor(
      new WsToolExecutor(channel, { defaultTimeoutMs: config.toolTimeoutMs }),
      () => this.tools.isBuiltin(MESSAGING_SEND),
      config.messagingMaxIdempotencyKeys,
    );
    this.toolCache = new ToolResultCache({ maxEntries: config.toolCacheMaxEntries, maxBytes: config.toolCacheMaxBytes });
    const lossyBound = config.maxOutboundBufferedBytes / 2;
    this.toolHandles = new ToolHandleStore({
      maxChunks: config.maxToolHandleChunks,
      reapAfterMs: config.toolHandleReapMs,
      onChunk: (handle, chunk) => {
        if (this.toolStreamSubscribed) channel.notifyLossy('tools.stream.event', { handle, chunk }, lossyBound);
      },
    });
  }

  /**
   * The policies of `policiesDir`, read on this session's first proposal and kept. Throws (each
   * time) while a file is malformed.
   */
  filePolicies(): PolicyChecker | null {
    const dir = this.config.policiesDir;
    if (dir === null) return null;
    this.filePolicySet ??= loadPolicyDir(dir, this.config.policyFileMaxBytes);
    return this.filePolicySet.size === 0 ? null : this.filePolicySet;
  }

  /** One JSON Lines file per connection under `journalDir`; created by the first event, not here. */
  private openJournal(config: ServerStateConfig): EventJournal | null {
    if (config.journalDir === null) return null;
    const path = join(config.journalDir, `${this.clientId}.jsonl`);
    const journals = this.journals;
    return new EventJournal(path, {
      onError: (err, during) => config.logger.warn({ err, path, during }, 'event journal write failed'),
      ...(journals !== undefined && { onCreate: () => journals.created(path) }),
    });
  }

  /** The connection closed: its journal may now be swept like any other. */
  releaseJournal(): void {
    const path = this.config.journalDir === null ? null : join(this.config.journalDir, `${this.clientId}.jsonl`);
    if (path !== null) this.journals?.released(path);
  }

  memgineIngestSink(next: VoiceEventSink, graph: IngestTarget, meeting: { id: string; title: string }): WsMemgineIngestSink {
    return new WsMemgineIngestSink(next, graph, meeting, this.clientId, this.logger);
  }

  /** The connection's gate pipeline, set once by whoever serves the session. */
  pipeline: InboundHandler | undefined;

  /** Run `method` as a call of this session: through its gate pipeline, under its deadline. */
  call(method: string, params: JsonRpcParams, signal?: AbortSignal): Promise<unknown> {
    const pipeline = this.pipeline;
    if (pipeline === undefined) return Promise.reject(new Error(`session ${this.clientId} is not being served`));
    return callThrough(pipeline, method, params, signal);
  }

  get negotiated(): boolean {
    return this.negotiatedProtocolVersion !== null;
  }

  /** The role `capabilities.list` reports: host token → host, bound agent → agent, else owner. */
  get role(): Role {
    if (this.isHost) return 'host';
    if (this.agentId !== null) return 'agent';
    return 'owner';
  }
}
