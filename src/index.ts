export { ServerState } from './core-state.js';
export type { ServerMode } from './server/state.js';
export { DEFAULT_GATED_METHODS, type ApprovalGateOptions } from './server/config.js';
export { ServerStateConfig, PROTOCOL_VERSION, type ServerStateOptions } from './server/config.js';
export { ClientSession } from './server/session.js';
export { runDispatch, handleConnection, handleConnectionUnix, type RunDispatchOptions } from './server/dispatch.js';
export { listenTcp, listenUnix, attachToHttpServer, type Listener } from './server/listen.js';
export { WsChannel } from './server/channel.js';
export { WsVoiceEventSink } from './server/voice-sinks.js';
export {
  VoiceService,
  FrameType,
  AudioFormat,
  FRAME_HEADER_BYTES,
  encodeFrame,
  decodeFrame,
  isFrameId,
  type BinaryFrame,
  type VoiceEvent,
  type VoiceEventSink,
  type SttProvider,
  type TtsProvider,
  type ProviderInfo,
  type VoiceLimits,
} from './voice/index.js';
export { WsToolExecutor, type WsToolExecutorOptions } from './server/tool-executor.js';
export {
  defineMethod,
  MethodTable,
  mayCall,
  buildOpenRpcDocument,
  GATE_ORDER,
  ROLE_RANK,
  type MethodSpec,
  type MethodRoute,
  type MethodContext,
  type ServerContext,
  type SessionContext,
  type SessionChannel,
  type HandlerConfig,
  type ProposalParams,
  type GateName,
  type Role,
} from './contract/index.js';
export { coreMethods } from './methods/index.js';
export {
  HostState,
  HostSubscribers,
  HostError,
  MAX_HOST_EVENTS,
  AGENT_STATUSES,
  type AgentStatus,
  type HostAgent,
  type HostDevice,
  type HostApproval,
  type HostEvent,
  type HostEventSink,
  type HostSnapshot,
  type ApprovalOutcome,
} from './host/index.js';
export { ApprovalGate, GATE_ACTION_PREFIX } from './server/approval-gate.js';

export type { ToolCall, ToolExecutor, ToolOutcome, ToolFailureReason } from './engine/tool-executor.js';
export { StateStore, StateView, StateError } from './engine/state-store.js';
export { ToolRegistry, type ToolDefinition } from './engine/tool-registry.js';
export { ToolHandleStore, type ToolChunk, type HandlePoll, type HandleStatus } from './engine/tool-handles.js';
export { EventLog, type RuntimeEvent, type EventFields, type EventLogOptions } from './engine/event-log.js';
export { EventKind, type EventKindName } from './engine/event-kinds.js';
export { EventJournal, readJournal, type EventJournalOptions } from './engine/events/journal.js';
export { verifyChain, eventHash, GENESIS_HASH, type ChainVerdict } from './engine/events/chain.js';
export { queryEvents, DEFAULT_QUERY_LIMIT, type EventFilter } from './engine/events/query.js';
export { RetentionPolicyError, type RetentionPolicy } from './engine/events/retention.js';
export { summarize, costByAgent, RunningTotals, type MetricsSummary, type AgentCost } from './engine/events/metrics.js';
export { evaluateAlerts, type Alert, type AlertKind, type AlertThresholds } from './engine/events/alerts.js';
export { DEFAULT_REPLAN_CONFIG, type ReplanConfig } from './engine/replan.js';
export { PolicyEngine, PolicySet, PolicyError, POLICY_RULES, type PolicySpec, type PolicyScope } from './engine/policy/index.js';
export {
  executeProposal,
  type ExecuteOptions,
  type ProposalResult,
  type ActionResult,
  type ProposalCost,
} from './engine/executor/index.js';
export {
  ApprovalLedger,
  actionFingerprint,
  classifyAction,
  classifyProposal,
  evaluateProposal,
  checkProposalPermissions,
  PermissionDeniedError,
  TIERS,
  DEFAULT_TIER,
  type Tier,
  type ApprovalRecord,
  type ActionClassification,
  type ProposalClassification,
  type PermissionDecisionRow,
  type PermissionCheck,
  type BlockedAction,
} from './engine/permission/index.js';
export { permissionGateError, enforcePermissionGate } from './server/permission-gate.js';
export {
  Supervisor,
  SupervisionError,
  buildIntent,
  parametersDigest,
  filterMatches,
  type SupervisionIntent,
  type IntentAction,
  type SupervisionFilter,
  type SupervisionDecision,
  type SupervisionVerdict,
  type SupervisorHandle,
} from './engine/supervision/index.js';
export { enforceSupervisionGate } from './server/supervision-gate.js';
export {
  InferenceAdmission,
  AdmissionBusyError,
  permitsForMemory,
  BYTES_PER_PERMIT,
  type AdmissionOptions,
  type AdmissionStatus,
  type Permit,
} from './engine/admission.js';
export {
  InferenceService,
  ModelRegistry,
  RunnerHub,
  createEmbedder,
  ContentRefusedError,
  ProviderError,
  UnsupportedModeError,
  BUILTIN_MODELS,
  type InferenceOptions,
  type ModelSchema,
  type ModelEntry,
  type Provider,
  type GenerateRequest,
  type GenerateResult,
  type StreamEvent,
  type RouteDecision,
  type UnifiedModel,
} from './inference/index.js';
export {
  MemoryService,
  MemoryScope,
  MemoryEngine,
  MemoryError,
  buildContext,
  encodeNamespace,
  type MemoryServiceOptions,
  type Embedder,
  type FactInput,
  type FactRecord,
  type QueryRow,
  type ConsolidationReport,
  type SkillRecord,
} from './memory/index.js';

export {
  RunStore,
  RunFiles,
  RunError,
  RUN_LIMITS,
  type RunStoreOptions,
  type RunRecord,
  type RunTurn,
  type RunOutcome,
  type RunStatus,
  type RunSummary,
  type TraceEvent,
  type TraceSnapshot,
  type RecordTurnsResult,
} from './engine/runs/index.js';
export {
  RegistryService,
  RegistryStore,
  RegistryError,
  type RegistryEntry,
  type RegistryEntryInput,
  type RegistryStatus,
} from './registry/index.js';
export { RpcError, RemoteError, RequestAbortedError, ErrorCode, type JsonRpcErrorObject } from './rpc/errors.js';
export {
  classify,
  type Classified,
  type JsonRpcId,
  type JsonRpcParams,
  type JsonRpcRequest,
  type JsonRpcNotification,
  type JsonRpcResponse,
  type JsonRpcSuccess,
  type JsonRpcFailure,
  type JsonRpcMessage,
} from './rpc/messages.js';
export { Peer, type PeerOptions, type InboundContext, type InboundHandler, type OutboundOptions } from './rpc/peer.js';

export type { FrameTransport, CloseInfo, TransportKind } from './transport/frame.js';
export { CloseCode } from './transport/frame.js';
export { WsTransport, type WsTransportOptions } from './transport/ws-transport.js';
export { WsEndpoint, type WsEndpointOptions } from './transport/ws-endpoint.js';
export { createMemoryPair, MemoryTransport } from './transport/memory.js';
export { isAllowedOrigin, isLoopbackHost } from './transport/origin.js';
export {
  createDashboardHandler,
  listenDashboard,
  isLoopbackRequest,
  type DashboardHandler,
  type DashboardOptions,
} from './dashboard/index.js';
export { silentLogger, type Logger } from './util/logger.js';
export { CarError, isCarError, type CarErrorKind, type CarErrorOptions } from './util/errors.js';
export { toRpcError } from './server/error-map.js';
export { createMcpEndpoint, daemonMcpHost, type McpEndpointOptions } from './core-mcp.js';
export { McpHttpEndpoint, McpSession, sharedTools, MCP_PATH, MCP_HEALTH_PATH, type McpHost, type McpLimits, type McpTool } from './mcp/index.js';
export {
  AgentSupervisor,
  AGENT_STATUSES as MANAGED_AGENT_STATUSES,
  type AgentSpec,
  type AgentSpecInput,
  type ManagedAgent,
  type ManagedStatus,
  type AgentHealth,
  type TailResult,
} from './agents/index.js';
