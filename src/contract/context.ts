import type { AgentSupervisor } from '../agents/supervisor.js';
import type { ChatHub } from '../agents/chat.js';
import type { GoalStore } from '../agents/goals.js';
import type { InferenceAdmission } from '../engine/admission.js';
import type { EventLog } from '../engine/event-log.js';
import type { ApprovalLedger } from '../engine/permission/ledger.js';
import type { Tier } from '../engine/permission/tiers.js';
import type { PolicyEngine } from '../engine/policy/policy-engine.js';
import type { ReplanConfig } from '../engine/replan.js';
import type { RunStore } from '../engine/runs/run-store.js';
import type { TrajectoryStore } from '../engine/trajectories.js';
import type { StateStore } from '../engine/state-store.js';
import type { Supervisor } from '../engine/supervision/supervisor.js';
import type { ToolExecutor } from '../engine/tool-executor.js';
import type { ToolRateLimiter } from '../engine/rate-limit.js';
import type { PolicyChecker } from '../engine/executor/types.js';
import type { ToolResultCache } from '../engine/executor/tool-cache.js';
import type { ToolHandleStore } from '../engine/tool-handles.js';
import type { ToolRegistry } from '../engine/tool-registry.js';
import type { HostState } from '../host/host-state.js';
import type { InferenceService } from '../inference/service.js';
import type { A2aService } from '../a2a/service.js';
import type { A2uiService } from '../a2ui/service.js';
import type { MemoryService } from '../memory/service.js';
import type { RegistryService } from '../registry/service.js';
import type { JsonRpcId, JsonRpcParams } from '../rpc/messages.js';
import type { OutboundOptions } from '../rpc/peer.js';
import type { Logger } from '../util/logger.js';
import type { FactInput } from '../memory/types.js';
import type { VoiceEventSink } from '../voice/types.js';
import type { VoiceService } from '../voice/service.js';
import type { MeetingService } from '../voice/meetings.js';
import type { VoiceTurns } from '../voice/turns.js';
import type { MethodTable } from './method.js';
import type { Role } from './roles.js';

/**
 * What a handler may see of the daemon. `ServerState` and `ClientSession` implement these; a
 * handler never needs the classes themselves, so `methods/` does not depend on `server/`.
 */

/** The configuration values handlers read. `ServerStateConfig` has these and more. */
export interface HandlerConfig {
  readonly authToken: string | null;
  readonly hostToken: string | null;
  readonly serverVersion: string;
  readonly handlerTimeoutMs: number;
  readonly toolTimeoutMs: number;
  readonly toolCallbackGraceMs: number;
  readonly maxOutboundBufferedBytes: number;
  readonly maxActionConcurrency: number;
  readonly supervisionDecisionTimeoutMs: number;
  readonly deadlineSlackMs: number;
  readonly verifyDeadlineMs: number;
  readonly maxVerifyActions: number;
  readonly maxEvidenceBytes: number;
  readonly maxAuthFailures: number;
  readonly approvalGate: { readonly enabled: boolean; readonly methods: readonly string[]; readonly timeoutMs: number };
  readonly inferenceProgressIntervalMs: number;
  readonly skillsModel: string | null;
  readonly voiceSidecarTimeoutMs: number;
  readonly voiceSidecarMaxToolRounds: number;
  readonly a2aChatAckTimeoutMs: number;
  readonly a2aChatReplyTimeoutMs: number;
  readonly a2aFilesRoot: string | null;
  readonly a2aMaxFileBytes: number;
  readonly a2aSendTimeoutMs: number;
  readonly chatAckTimeoutMs: number;
  readonly multiRunAgentTimeoutMs: number;
  readonly multiMaxConcurrency: number;
  readonly multiMaxSubtasks: number;
  readonly ocrProgram: string;
  readonly ocrTimeoutMs: number;
  readonly ocrMaxOutputBytes: number;
}

/** State shared by every connection. */
export interface ServerContext {
  readonly config: HandlerConfig;
  readonly methods: MethodTable;
  /** Supervised agents; an agent id binds only with the token minted for it here. */
  readonly agents: AgentSupervisor;
  /** Chat sessions in flight (`agents.chat`) and where their events go. */
  readonly chat: ChatHub;
  /** Standing chat goals (`goal.*`). */
  readonly goals: GoalStore;
  /** The live connection agent `agentId` is attached on. */
  agentSession(agentId: string): SessionContext | undefined;
  readonly approvals: ApprovalLedger;
  readonly memory: MemoryService;
  readonly supervision: Supervisor;
  readonly admission: InferenceAdmission;
  readonly host: HostState;
  readonly runs: RunStore;
  /** Per-tool dispatch outcomes, the evidence `verify.monte_carlo` rates come from. */
  readonly trajectories: TrajectoryStore;
  readonly registry: RegistryService;
  /** Models, providers, routing and the delegated runner. */
  readonly inference: InferenceService;
  /** The operator-started A2A listener. */
  readonly a2a: A2aService;
  /** A2UI surfaces, their subscribers and the UI-improvement loop guards. */
  readonly a2ui: A2uiService;
  /** Speech in and out. */
  readonly voice: VoiceService;
  readonly meetings: MeetingService;
  /** Two-track voice turns, one current turn per connection. */
  readonly voiceTurns: VoiceTurns;
  /** Bind `agentId` to `session`; false when another live connection holds it. */
  attachAgent(agentId: string, session: SessionContext): boolean;
  /**
   * A session with no connection, authenticated and negotiated, whose calls pass the ordinary
   * gate pipeline and whose callbacks `serve` answers in process. Closed with `channel.close()`.
   */
  openLocalSession(serve: LocalRequestHandler): SessionContext;
  /** A live connection by its client id (its runtime session id). */
  findSession(clientId: string): SessionContext | undefined;
}

/** The server side of one connection, as handlers use it: pushes and server→client requests. */
export interface SessionChannel {
  readonly isOpen: boolean;
  notify(method: string, params?: JsonRpcParams): boolean;
  /** A notification dropped (false) when the client already left more than `maxBufferedBytes` unread. */
  notifyLossy(method: string, params: JsonRpcParams, maxBufferedBytes: number): boolean;
  /** Bytes written to the client and not yet taken by it. */
  readonly bufferedBytes: number;
  /** Close the connection because the client fell too far behind (WebSocket 1008, `slow consumer: <reason>`). */
  dropSlowConsumer(reason: string): void;
  request<T = unknown>(method: string, params: JsonRpcParams, opts?: OutboundOptions): Promise<T>;
  /** Run `listener` once the connection has closed. */
  onClose(listener: () => void): void;
  /** Close the connection. */
  close(code?: number, reason?: string): void;
}

/** One connected client. */
export interface SessionContext {
  readonly clientId: string;
  authenticated: boolean;
  /** Failed `session.auth` attempts on this connection. */
  authFailures: number;
  isHost: boolean;
  negotiatedProtocolVersion: number | null;
  clientVersion: string | null;
  /** Agent identity bound by `session.auth {agent_id}`. */
  agentId: string | null;
  /** Private memory graph chosen by `session.auth {memory_namespace}`. */
  memoryNamespace: string | null;
  /** The run `runs.start` last opened on this connection. */
  currentRunId: string | null;
  readonly state: StateStore;
  readonly tools: ToolRegistry;
  readonly toolExecutor: ToolExecutor;
  /** Results of idempotent tools with `cache_ttl_secs`. */
  readonly toolCache: ToolResultCache;
  /** Each tool's declared `rate_limit`, counted per connection. */
  readonly rateLimiter: ToolRateLimiter;
  /** Set by a terminal tool error (fail-stop); proposals are refused until `session.clear_halt`. */
  halt: SessionHalt | null;
  /** The `policiesDir` file policies (null when none); throws while a policy file is malformed. */
  filePolicies(): PolicyChecker | null;
  readonly toolHandles: ToolHandleStore;
  toolStreamSubscribed: boolean;
  readonly events: EventLog;
  replan: ReplanConfig;
  grantedTier: Tier;
  readonly policies: PolicyEngine;
  readonly channel: SessionChannel;
  /** `voice.event` notifications and binary audio frames to this connection only. */
  readonly voiceSink: VoiceEventSink;
  /**
   * A meeting's ingest sink (`WsMemgineIngestSink`): transcript text into `graph` as conversation
   * facts, every event on to `next` unchanged.
   */
  memgineIngestSink(
    next: VoiceEventSink,
    graph: { addFact(fact: FactInput, origin?: string | null): Promise<unknown> },
    meeting: { id: string; title: string },
  ): VoiceEventSink & { drain(): Promise<void> };
  readonly negotiated: boolean;
  readonly role: Role;
  /** Run a method as a call of this session, through the same gates its client's calls pass. */
  call(method: string, params: JsonRpcParams, signal?: AbortSignal): Promise<unknown>;
}

/** Serves the server→client requests (`tools.execute`, …) of a session that has no connection. */
export type LocalRequestHandler = (method: string, params: JsonRpcParams, signal: AbortSignal) => Promise<unknown>;
/** Why a session halted: the terminal tool error that stopped a proposal. */
export interface SessionHalt {
  proposal_id: string;
  action_id: string;
  error: string;
  /** When it halted (RFC 3339). */
  at: string;
}

/** What a handler gets besides its params. */
export interface MethodContext {
  readonly state: ServerContext;
  readonly session: SessionContext;
  /** Aborted on disconnect or when the handler deadline passes. */
  readonly signal: AbortSignal;
  readonly id: JsonRpcId | undefined;
  readonly method: string;
  readonly logger: Logger;
  /** Close the connection once this call's reply is queued. */
  closeAfterReply(code?: number, reason?: string): void;
}
