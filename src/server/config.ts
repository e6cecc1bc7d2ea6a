import { isAbsolute } from 'node:path';
import { silentLogger, type Logger } from '../util/logger.js';
import type { MethodSpec } from '../contract/method.js';
import { DEFAULT_GATED_METHODS } from '../contract/protocol.js';
import { DEFAULT_MAX_CONCURRENCY } from '../engine/executor/execute.js';
import { DEFAULT_MESSAGING_MAX_KEYS } from '../engine/executor/messaging.js';
import { DEFAULT_TOOL_CACHE_LIMITS } from '../engine/executor/tool-cache.js';
import { DEFAULT_JOURNAL_MAX_FILES } from '../engine/events/journal-dir.js';
import { DEFAULT_POLICY_LIMITS } from '../engine/policy/policy-engine.js';
import { DEFAULT_POLICY_FILE_MAX_BYTES } from '../engine/policy/file-policies.js';
import { DEFAULT_FINISHED_IN_MEMORY } from '../engine/runs/run-store.js';
import { DEFAULT_SUPERVISION_HISTORY } from '../engine/supervision/supervisor.js';
import { DEFAULT_HANDLE_CHUNKS, DEFAULT_HANDLE_REAP_MS } from '../engine/tool-handles.js';
import { DEFAULT_MAX_ACTIONS } from '../engine/verify/verify.js';
import {
  MAX_APPROVAL_HISTORY,
  MAX_HOST_EVENT_BYTES,
  MAX_HOST_EVENTS,
  MAX_HOST_RECORD_BYTES,
  MAX_HOST_EVENT_PAYLOAD_BYTES,
  MAX_HOST_REGISTRATIONS_PER_SESSION,
  MAX_PENDING_APPROVALS_PER_SESSION,
} from '../host/host-state.js';
import { DEFAULT_SUBSCRIBER_BYTES, DEFAULT_SUBSCRIBER_QUEUE, DEFAULT_SUBSCRIBERS_TOTAL_BYTES } from '../host/subscribers.js';
import { DEFAULT_MAX_ITERATIONS, DEFAULT_OSCILLATION_WINDOW } from '../a2ui/ui-loop.js';
import { DEFAULT_MAX_OPEN_STORES } from '../registry/service.js';
import { DEFAULT_MEETING_LIMITS, DEFAULT_POCKETSPHINX_MODEL_DIR, DEFAULT_VOICE_LIMITS, DEFAULT_VOICE_SEARCH_PATH } from '../voice/index.js';

export { PROTOCOL_VERSION, DEFAULT_GATED_METHODS } from '../contract/protocol.js';

/** The high-risk method gate: which methods park for a human approval, and for how long. */
export interface ApprovalGateOptions {
  enabled: boolean;
  methods: readonly string[];
  /** How long a gated call waits for `host.resolve_approval` before failing with -32003. */
  timeoutMs: number;
}

export interface ServerStateOptions {
  /** Token clients must present to `session.auth`; `null` disables auth. */
  authToken: string | null;
  /** Token that grants the host role; `null` leaves host-only methods open to every session. */
  hostToken: string | null;
  serverVersion: string;
  /** Default bind address and port for listeners the embedder starts through the library. */
  host: string;
  port: number;
  /** Unix socket path for `listenUnix`, when the embedder wants one. */
  socketPath: string | null;
  /** State root for durable files (approval ledger, run traces, …); `null` keeps everything in memory. */
  carHome: string | null;
  /** The permission approval journal (`approvals.jsonl`); `null` keeps approvals in memory. */
  approvalsPath: string | null;
  /**
   * Durable memory root (`$CAR_HOME/memory`): namespace and agent graphs, and the sandbox of
   * `memory.persist` / `memory.load`. `null` keeps every graph in memory and refuses persist/load.
   */
  memoryDir: string | null;
  /**
   * Snapshot file of the shared memory graph (unbound sessions and MCP), its log beside it
   * (`$CAR_HOME/memory/shared.json` in the binary). `null` keeps the shared graph in memory only.
   */
  sharedMemoryPath: string | null;
  /** Directory for per-connection event journals (`<client_id>.jsonl`); `null` keeps event logs in memory. */
  journalDir: string | null;
  /** Most journals kept in `journalDir`: the oldest ones no connection is writing are deleted beyond it. */
  journalMaxFiles: number;
  /** Where per-tool dispatch outcomes are kept (`tool-outcomes.jsonl`) for `verify.monte_carlo`; `null` keeps them in memory. */
  trajectoriesDir: string | null;
  /** Tool outcomes the trajectory history keeps; the oldest go first. */
  maxTrajectoryRecords: number;
  /** Root of the durable run traces (`<runsDir>/<agent_id>/<run_id>.jsonl`); `null` keeps runs in memory. */
  runsDir: string | null;
  /** Registry directory (`<registryDir>/<name>.json`); `null` refuses every `registry.*` call. */
  registryDir: string | null;
  /** How long an open run outlives its dropped connection before it is ended `incomplete`. */
  runCompleteGraceMs: number;
  /** Server-side deadline for one handler; past it the call fails with -32004. */
  handlerTimeoutMs: number;
  /** How long a `tools.execute` callback may wait when the action declared no budget. */
  toolTimeoutMs: number;
  /**
   * Added, per action with a `timeout_ms`, to `proposal.submit`'s handler deadline; the callback
   * itself waits exactly `timeout_ms`.
   */
  toolCallbackGraceMs: number;
  /** Cached tool results held per session (idempotent tools with `cache_ttl_secs`). */
  toolCacheMaxEntries: number;
  /** Bytes of cached tool results held per session (key plus JSON output). */
  toolCacheMaxBytes: number;
  /** `messaging.send` idempotency keys remembered per session. */
  messagingMaxIdempotencyKeys: number;
  /** Directory of `*.toml` policy files every session loads (runtime.md §1.7); `null` loads none. */
  policiesDir: string | null;
  /** Largest policy file read; a bigger one fails the session's proposals like a malformed one. */
  policyFileMaxBytes: number;
  /** Largest inbound WebSocket message, in bytes. */
  maxPayloadBytes: number;
  /**
   * Text frames of at least this many bytes are decoded and parsed on a parser thread, handed
   * back in slices, so one big frame never stalls the other connections. Smaller ones are parsed inline.
   */
  workerParseThresholdBytes: number;
  /** Parser threads for big frames, daemon-wide (started on demand); 0 parses every frame inline. */
  maxFrameParseWorkers: number;
  /** Most fragments one inbound message may be split into. */
  maxFragments: number;
  /** Most buffered inbound chunks per connection. */
  maxBufferedChunks: number;
  /**
   * Most outbound frames of one connection gathered into one socket write. Frames sent in the
   * same event-loop turn are written in groups of this many (a frame of 64 KiB or more ends its
   * group), the last group at the end of the turn; 1 writes every frame on its own.
   */
  maxFramesPerWrite: number;
  /** Outbound bytes a client may leave unread before it is disconnected (one frame to a drained client always goes). */
  maxOutboundBufferedBytes: number;
  /** Largest reply frame; a bigger result is answered with -32603 `data.kind: "limit"` instead. */
  maxReplyBytes: number;
  /** Most connections open at once; an upgrade past it gets HTTP 503. */
  maxConnections: number;
  /** Most connections open at once that have not authenticated yet (auth on); past it HTTP 503. */
  maxUnauthenticatedConnections: number;
  /** How long a connection may stay unauthenticated (auth on) before it is closed (1008). */
  authTimeoutMs: number;
  /** Failed `session.auth` attempts one connection may make; the last one's reply closes it (1008). */
  maxAuthFailures: number;
  /** Most items in one JSON-RPC batch. */
  maxBatchItems: number;
  /** Most requests handled at once per connection; excess requests are refused with -32603. */
  maxInFlightPerConnection: number;
  /** Deepest JSON nesting accepted in one message. */
  maxJsonDepth: number;
  /** Ping period for dead-peer detection; 0 turns it off. */
  heartbeatIntervalMs: number;
  /** Most tools one session may register. */
  maxToolsPerSession: number;
  /** Most keys in one session's state map (all tenants together). */
  maxStateKeysPerSession: number;
  /** Most bytes (keys plus values' JSON) in one session's state map, all tenants together. */
  maxStateBytesPerSession: number;
  /** Largest JSON of one state value. */
  maxStateValueBytes: number;
  /** Most events one session's event log holds; past it the oldest are dropped, whatever retention is set. */
  maxEventsPerSession: number;
  /** Most actions of one proposal running at once (within a DAG level). */
  maxActionConcurrency: number;
  /** Added to `proposal.submit`'s summed tool budgets to make its deadline. */
  deadlineSlackMs: number;
  /** Deadline of `verify` and `verify.monte_carlo`. */
  verifyDeadlineMs: number;
  /** Most actions `verify` accepts in one proposal. */
  maxVerifyActions: number;
  /** Most policies one connection holds, all scopes together. */
  maxPoliciesPerSession: number;
  /** Most policy sub-contexts (`session.policy.open`) one connection has open. */
  maxPolicySessions: number;
  /** Chunks one detached tool handle buffers; past it the oldest are dropped. */
  maxToolHandleChunks: number;
  /** How long a finished detached tool handle nobody polls is kept. */
  toolHandleReapMs: number;
  /** Largest `evidence` (serialised JSON bytes) `permission.approve` / `reject` record. */
  maxEvidenceBytes: number;
  /** Host events the ring keeps for `host.events` and the subscribe snapshot. */
  maxHostEvents: number;
  /** Bytes (JSON) of all host events the ring keeps together; the oldest go first, the newest always stays. */
  maxHostEventBytes: number;
  /** Approvals one session may have waiting (its own and its gated calls'); one more is refused. */
  maxPendingApprovalsPerSession: number;
  /** Decided and expired approvals `host.approvals` keeps listing; the oldest is forgotten first. */
  maxApprovalHistory: number;
  /** Host events one subscriber may have queued; past it new ones are lost for that subscriber. */
  maxHostSubscriberQueue: number;
  /** Bytes of host events one subscriber may have queued and unread; past it its connection is closed (1008). */
  maxHostSubscriberBytes: number;
  /** Bytes of host events all subscribers together may have queued and unread; past it the biggest backlogs are closed. */
  maxHostSubscribersTotalBytes: number;
  /** Agents and devices one session may register on the host, together. */
  maxHostRegistrationsPerSession: number;
  /** Bytes of JSON one registered agent or device, or one approval a client raises, may hold (metadata, display, names, context, …). */
  maxHostRecordBytes: number;
  /** Bytes of a client's host event (`host.notify`, `host.set_status`): its payload's JSON, and its message, each. */
  maxHostEventPayloadBytes: number;
  /** Finished supervision intents remembered, to tell "already decided" from "unknown". */
  maxSupervisionHistory: number;
  /** Finished runs kept in memory (all of them when there is no runs dir to read them back from). */
  maxFinishedRunsInMemory: number;
  /** Registry directories (`registry_path`) kept open at once. */
  maxRegistryStores: number;
  /** Method prefixes (and exact names) refused with -32005 until `server.handshake` succeeded. */
  handshakeGated: readonly string[];
  /** Extra methods an embedder serves alongside the built-in ones (same gate pipeline). */
  methods: readonly MethodSpec[];
  /** High-risk methods that wait for a human approval before their handler runs. */
  approvalGate: ApprovalGateOptions;
  /** Structured logger; silent by default. */
  logger: Logger;
  /** How long a supervised proposal waits for a supervisor's decision before it is rejected. */
  supervisionDecisionTimeoutMs: number;
  /** Inference permits; `null` sizes them from host memory (one per 8 GiB, 1..8). */
  inferenceMaxConcurrent: number | null;
  /** Host memory used to size inference permits; `null` asks the OS the first time it is needed. */
  totalMemoryBytes: number | null;
  /** Most inference callers waiting for a permit; one more is refused at once as busy. 0 = never wait. */
  inferenceQueueMax: number;
  /** Period of the `infer.progress` keep-alive sent while an `infer` call runs. */
  inferenceProgressIntervalMs: number;
  /** Longest one provider attempt may take (request, stream and all) before it fails as a timeout. */
  inferenceRequestTimeoutMs: number;
  /** Extra attempts on the same model after a retryable provider error (429, 5xx, a cut connection). */
  inferenceMaxRetries: number;
  /** First retry delay; doubled per attempt, with jitter, up to `inferenceRetryMaxDelayMs` (a provider's Retry-After wins up to that cap). */
  inferenceRetryBaseDelayMs: number;
  inferenceRetryMaxDelayMs: number;
  /** Runner events buffered per delegated call before the runner's `inference.runner.event` replies wait for the reader. */
  inferenceRunnerQueueMax: number;
  /** How long boot-time discovery waits for the local Ollama to list its models. */
  ollamaDiscoveryTimeoutMs: number;
  /** Local Ollama whose models are discovered (native `/api/tags`); `null` skips discovery. */
  ollamaEndpoint: string | null;
  /** The user's model registry file (`models.json`); `null` serves the built-in catalogue only. */
  modelsPath: string | null;
  /** Where `api_key_env` names are looked up (the binary passes its environment); nothing else reads it. */
  providerEnv: Readonly<Record<string, string | undefined>>;
  /** Model whose embeddings give memory its vector seeds; `null` keeps memory lexical only. */
  embedModel: string | null;
  /** Model `skills.distill`, `skills.evolve` and `skill.repair` run on; `null` routes by capability. */
  skillsModel: string | null;
  /** The daemon's ed25519 key (PEM, 0600) that signs A2A agent cards; `null` keeps one for this process only. */
  a2aKeyPath: string | null;
  /** Peers `a2a.peers.*` trusts (`a2a-peers.json`); `null` keeps the list in memory. */
  a2aPeersPath: string | null;
  /** Inbound peer messages, one JSON line each (`peer-messages.jsonl`); `null` logs none. */
  a2aPeerLogPath: string | null;
  /** Largest A2A JSON-RPC request body, in bytes; past it the request is refused with 413. */
  a2aMaxBodyBytes: number;
  /** A2A tasks kept for `GetTask` / `ListTasks`; past it the oldest finished task is dropped. */
  a2aMaxTasks: number;
  /** Push notification configs one A2A task may hold. */
  a2aMaxPushConfigsPerTask: number;
  /** How long one A2A push notification POST may take. */
  a2aPushTimeoutMs: number;
  /** Origins or host names A2A push notifications may go to besides the loopback. */
  a2aPushAllowList: readonly string[];
  /** How long the host's `agent.chat` has to accept shared A2A text before it is acknowledged instead. */
  a2aChatAckTimeoutMs: number;
  /** Longest wait for the host's chat reply to shared A2A text. */
  a2aChatReplyTimeoutMs: number;
  /** The directory an A2A listener's own filesystem tools serve (created at start); `null` offers no such tools. */
  a2aFilesRoot: string | null;
  /** Largest file those tools read or write, in bytes. */
  a2aMaxFileBytes: number;
  /** Peers `a2a.peers.add` keeps. */
  a2aMaxPeers: number;
  /** Longest an outbound `a2a.send` may take (card fetch and send). */
  a2aSendTimeoutMs: number;
  /** A2UI surfaces alive at once, daemon-wide; a createSurface past it is refused. */
  a2uiMaxSurfaces: number;
  /** A2UI surfaces one owner (an A2A conversation, or one connection's `a2ui.apply`) may hold. */
  a2uiMaxSurfacesPerOwner: number;
  /** Components one A2UI surface may hold. */
  a2uiMaxComponentsPerSurface: number;
  /** JSON bytes of one A2UI surface's components together. */
  a2uiMaxComponentsBytes: number;
  /** JSON bytes of one A2UI surface's data model. */
  a2uiMaxDataModelBytes: number;
  /** A2UI messages one call (`a2ui.ingest`, one A2A payload) may carry. */
  a2uiMaxMessagesPerCall: number;
  /** Surfaces untouched this long are what `a2ui.reap` removes when given no other filter. */
  a2uiSurfaceIdleMs: number;
  /** Agent patches one surface takes in the UI-improvement loop before it must be recreated. */
  a2uiLoopMaxIterations: number;
  /** Recent patches per surface the loop's oscillation detector remembers. */
  a2uiOscillationWindow: number;
  /** `host:port` of the peer-authenticated A2A listener (`ServerState.a2a.listenPeers()`); `null`, the default, serves none. */
  a2aPeerBind: string | null;
  /** Let `a2aPeerBind` name an address off the loopback (a LAN interface). */
  a2aPeerAllowNonLoopbackBind: boolean;
  /** A peer request whose signed timestamp is further than this from the daemon's clock, either way, is refused. */
  a2aPeerSignatureMaxAgeMs: number;
  /** Nonces of signed peer requests remembered against replay; past it new peer requests wait (503) for the oldest to age out. */
  a2aPeerMaxNonces: number;
  /** Bytes `peer-messages.jsonl` grows to before it is rotated to `peer-messages.jsonl.1` (one older generation kept). */
  a2aPeerLogMaxBytes: number;
  /** Characters of a peer message's text repeated in its `a2a.peer_message` host event. */
  a2aPeerEventTextChars: number;
  /** Directories searched for the voice engines' programs (the binary passes its PATH). */
  voiceSearchPath: readonly string[];
  /** PocketSphinx's model directory (`en-us/`, `en-us.lm.bin`, `cmudict-en-us.dict`). */
  pocketsphinxModelDir: string;
  /** Transcription sessions open at once, daemon-wide (meetings' sessions included). */
  maxVoiceSessions: number;
  /** Audio bytes one transcription session takes in over its life; a file source is held to it too. */
  maxVoiceSessionAudioBytes: number;
  /** Converted audio waiting for the recognizer, per session; a push past it is refused. */
  maxVoiceBufferedBytes: number;
  /** Synthesis streams running at once, daemon-wide. */
  maxTtsStreams: number;
  /** Longest text (UTF-8 bytes) one synthesis stream speaks. */
  maxTtsTextBytes: number;
  /** Meetings root (`$CAR_HOME/meetings`: `<id>/meeting.json`, `<id>/transcript.jsonl`); `null` keeps meetings in memory. */
  meetingsDir: string | null;
  /** Meetings recording at once, daemon-wide. */
  maxActiveMeetings: number;
  /** How long a voice turn waits for its sidecar when `sidecar_timeout_ms` is not given. */
  voiceSidecarTimeoutMs: number;
  /** Tool rounds one voice-turn sidecar may run before it is stopped. */
  voiceSidecarMaxToolRounds: number;
  /** Finished meetings kept in memory when there is no meetings directory (oldest forgotten first). */
  maxMeetingsInMemory: number;
  /** MCP sessions open at once; one more `initialize` is refused with HTTP 503. */
  mcpMaxSessions: number;
  /** An MCP session with no request and no open stream for this long is closed (its id then gets 404). */
  mcpSessionIdleMs: number;
  /** Largest MCP POST body; past it HTTP 413. */
  mcpMaxBodyBytes: number;
  /** Resources per `resources/list` page. */
  mcpResourcePageSize: number;
  /** MCP assistant runs in progress at once; one more `assistant_start` is an `isError` result. */
  mcpAssistantMaxRuns: number;
  /** An assistant run nobody polled for this long is cancelled (a finished one is forgotten). */
  mcpAssistantIdleMs: number;
  /** Events an assistant run keeps; older ones are dropped and counted in `events_skipped`. */
  mcpAssistantMaxEvents: number;
  /** Model turns per assistant run; still calling tools after the last one fails the run. */
  mcpAssistantMaxTurns: number;
  /** Model the assistant runs on; `null` routes to a model with generate and tool_use. */
  mcpAssistantModel: string | null;
  /** The Tesseract program `vision.ocr` runs (found on PATH by name); when missing, OCR reports `available: false`. */
  ocrProgram: string;
  /** Longest one `vision.ocr` recognition may run. */
  ocrTimeoutMs: number;
  /** Most bytes of recognition output `vision.ocr` reads; more fails the call. */
  ocrMaxOutputBytes: number;
  /** The supervised agents' manifest (`agents.json`, with each agent's token; 0600); `null` keeps it in memory. */
  agentsManifestPath: string | null;
  /** Directory of supervised agents' stdout/stderr files; `null` keeps the last `agentLogTailBytes` in memory. */
  agentsLogDir: string | null;
  /** The environment supervised agents start from (the binary passes its own); its PATH resolves commands. */
  agentEnv: Readonly<Record<string, string | undefined>>;
  /** Most supervised agents in the manifest. */
  maxAgents: number;
  /** How long `agents.stop {signal: "term"}` waits before SIGKILL. */
  agentStopGraceMs: number;
  /** Longest back-off between restarts (`backoff_secs · 2^restarts` is capped here). */
  agentBackoffMaxMs: number;
  /** Bytes of each log stream `agents.tail_log` reads (the end of the file). */
  agentLogTailBytes: number;
  /** How long an agent has to acknowledge `agent.chat` before `agents.chat` fails. */
  chatAckTimeoutMs: number;
  /** Chat sessions in flight at once, daemon-wide. */
  maxChatSessions: number;
  /** `chat-goals.json` (standing goals per chat session); `null` keeps goals in memory. */
  chatGoalsPath: string | null;
  /** Standing chat goals kept. */
  maxChatGoals: number;
  /** How long one `multi.run_agent` callback may take before that agent fails. */
  multiRunAgentTimeoutMs: number;
  /** Agents of one `multi.*` call running at once (the rest wait). */
  multiMaxConcurrency: number;
  /** Subtasks `multi.subtask`'s main agent may spawn. */
  multiMaxSubtasks: number;
}

const DEFAULTS: ServerStateOptions = {
  authToken: null,
  hostToken: null,
  serverVersion: '0.1.0',
  host: '127.0.0.1',
  port: 9100,
  socketPath: null,
  carHome: null,
  approvalsPath: null,
  memoryDir: null,
  sharedMemoryPath: null,
  journalDir: null,
  journalMaxFiles: DEFAULT_JOURNAL_MAX_FILES,
  runsDir: null,
  trajectoriesDir: null,
  maxTrajectoryRecords: 100_000,
  registryDir: null,
  runCompleteGraceMs: 250,
  handlerTimeoutMs: 30 * 60 * 1000,
  toolTimeoutMs: 300 * 1000,
  toolCallbackGraceMs: 5 * 1000,
  toolCacheMaxEntries: DEFAULT_TOOL_CACHE_LIMITS.maxEntries,
  toolCacheMaxBytes: DEFAULT_TOOL_CACHE_LIMITS.maxBytes,
  messagingMaxIdempotencyKeys: DEFAULT_MESSAGING_MAX_KEYS,
  policiesDir: null,
  policyFileMaxBytes: DEFAULT_POLICY_FILE_MAX_BYTES,
  maxPayloadBytes: 16 * 1024 * 1024,
  workerParseThresholdBytes: 1024 * 1024,
  maxFrameParseWorkers: 2,
  maxFragments: 64,
  maxBufferedChunks: 4096,
  maxFramesPerWrite: 8,
  maxOutboundBufferedBytes: 32 * 1024 * 1024,
  maxReplyBytes: 16 * 1024 * 1024,
  maxConnections: 1024,
  maxUnauthenticatedConnections: 64,
  authTimeoutMs: 10_000,
  maxAuthFailures: 5,
  maxBatchItems: 100,
  maxInFlightPerConnection: 256,
  maxJsonDepth: 256,
  heartbeatIntervalMs: 30 * 1000,
  maxToolsPerSession: 4096,
  maxStateKeysPerSession: 100_000,
  maxStateBytesPerSession: 64 * 1024 * 1024,
  maxStateValueBytes: 4 * 1024 * 1024,
  maxEventsPerSession: 100_000,
  maxActionConcurrency: DEFAULT_MAX_CONCURRENCY,
  deadlineSlackMs: 15 * 1000,
  verifyDeadlineMs: 30 * 1000,
  maxVerifyActions: DEFAULT_MAX_ACTIONS,
  maxPoliciesPerSession: DEFAULT_POLICY_LIMITS.maxPolicies,
  maxPolicySessions: DEFAULT_POLICY_LIMITS.maxSessions,
  maxToolHandleChunks: DEFAULT_HANDLE_CHUNKS,
  toolHandleReapMs: DEFAULT_HANDLE_REAP_MS,
  maxEvidenceBytes: 64 * 1024,
  maxHostEvents: MAX_HOST_EVENTS,
  maxHostEventBytes: MAX_HOST_EVENT_BYTES,
  maxPendingApprovalsPerSession: MAX_PENDING_APPROVALS_PER_SESSION,
  maxApprovalHistory: MAX_APPROVAL_HISTORY,
  maxHostSubscriberQueue: DEFAULT_SUBSCRIBER_QUEUE,
  maxHostSubscriberBytes: DEFAULT_SUBSCRIBER_BYTES,
  maxHostSubscribersTotalBytes: DEFAULT_SUBSCRIBERS_TOTAL_BYTES,
  maxHostRegistrationsPerSession: MAX_HOST_REGISTRATIONS_PER_SESSION,
  maxHostRecordBytes: MAX_HOST_RECORD_BYTES,
  maxHostEventPayloadBytes: MAX_HOST_EVENT_PAYLOAD_BYTES,
  maxSupervisionHistory: DEFAULT_SUPERVISION_HISTORY,
  maxFinishedRunsInMemory: DEFAULT_FINISHED_IN_MEMORY,
  maxRegistryStores: DEFAULT_MAX_OPEN_STORES,
  handshakeGated: ['host.subscribe', 'auth.'],
  methods: [],
  approvalGate: { enabled: true, methods: DEFAULT_GATED_METHODS, timeoutMs: 60 * 1000 },
  logger: silentLogger,
  supervisionDecisionTimeoutMs: 30_000,
  inferenceMaxConcurrent: null,
  totalMemoryBytes: null,
  inferenceQueueMax: 512,
  inferenceProgressIntervalMs: 10_000,
  inferenceRequestTimeoutMs: 10 * 60 * 1000,
  inferenceMaxRetries: 2,
  inferenceRetryBaseDelayMs: 250,
  inferenceRetryMaxDelayMs: 8000,
  inferenceRunnerQueueMax: 256,
  ollamaDiscoveryTimeoutMs: 500,
  ollamaEndpoint: null,
  modelsPath: null,
  providerEnv: {},
  embedModel: null,
  skillsModel: null,
  a2aKeyPath: null,
  a2aPeersPath: null,
  a2aPeerLogPath: null,
  a2aMaxBodyBytes: 4 * 1024 * 1024,
  a2aMaxTasks: 1000,
  a2aMaxPushConfigsPerTask: 16,
  a2aPushTimeoutMs: 10_000,
  a2aPushAllowList: [],
  a2aChatAckTimeoutMs: 5_000,
  a2aChatReplyTimeoutMs: 180_000,
  a2aFilesRoot: null,
  a2aMaxFileBytes: 1024 * 1024,
  a2aMaxPeers: 256,
  a2aSendTimeoutMs: 60_000,
  a2uiMaxSurfaces: 128,
  a2uiMaxSurfacesPerOwner: 32,
  a2uiMaxComponentsPerSurface: 1000,
  a2uiMaxComponentsBytes: 512 * 1024,
  a2uiMaxDataModelBytes: 256 * 1024,
  a2uiMaxMessagesPerCall: 256,
  a2uiSurfaceIdleMs: 60 * 60_000,
  a2uiLoopMaxIterations: DEFAULT_MAX_ITERATIONS,
  a2uiOscillationWindow: DEFAULT_OSCILLATION_WINDOW,
  a2aPeerBind: null,
  a2aPeerAllowNonLoopbackBind: false,
  a2aPeerSignatureMaxAgeMs: 60_000,
  a2aPeerMaxNonces: 10_000,
  a2aPeerLogMaxBytes: 16 * 1024 * 1024,
  a2aPeerEventTextChars: 500,
  voiceSearchPath: DEFAULT_VOICE_SEARCH_PATH,
  pocketsphinxModelDir: DEFAULT_POCKETSPHINX_MODEL_DIR,
  maxVoiceSessions: DEFAULT_VOICE_LIMITS.maxSessions,
  maxVoiceSessionAudioBytes: DEFAULT_VOICE_LIMITS.maxSessionAudioBytes,
  maxVoiceBufferedBytes: DEFAULT_VOICE_LIMITS.maxBufferedBytes,
  maxTtsStreams: DEFAULT_VOICE_LIMITS.maxTtsStreams,
  maxTtsTextBytes: DEFAULT_VOICE_LIMITS.maxTtsTextBytes,
  meetingsDir: null,
  maxActiveMeetings: DEFAULT_MEETING_LIMITS.maxActive,
  voiceSidecarTimeoutMs: 30_000,
  voiceSidecarMaxToolRounds: 8,
  maxMeetingsInMemory: DEFAULT_MEETING_LIMITS.maxStoredInMemory,
  mcpMaxSessions: 256,
  mcpSessionIdleMs: 30 * 60 * 1000,
  mcpMaxBodyBytes: 4 * 1024 * 1024,
  mcpResourcePageSize: 100,
  mcpAssistantMaxRuns: 8,
  mcpAssistantIdleMs: 60 * 60 * 1000,
  mcpAssistantMaxEvents: 2000,
  mcpAssistantMaxTurns: 32,
  mcpAssistantModel: null,
  ocrProgram: 'tesseract',
  ocrTimeoutMs: 60 * 1000,
  ocrMaxOutputBytes: 4 * 1024 * 1024,
  agentsManifestPath: null,
  agentsLogDir: null,
  agentEnv: {},
  maxAgents: 256,
  agentStopGraceMs: 5000,
  agentBackoffMaxMs: 60_000,
  agentLogTailBytes: 8 * 1024 * 1024,
  chatAckTimeoutMs: 5000,
  maxChatSessions: 1024,
  chatGoalsPath: null,
  maxChatGoals: 4096,
  multiRunAgentTimeoutMs: 10 * 60 * 1000,
  multiMaxConcurrency: 64,
  multiMaxSubtasks: 16,
};

/**
 * Every tunable of the daemon core with its default. Immutable: `with()` returns a new config.
 * Nothing here reads the environment; the `car-server` binary maps flags and env onto it.
 */
export class ServerStateConfig implements Readonly<ServerStateOptions> {
  readonly authToken!: string | null;
  readonly hostToken!: string | null;
  readonly serverVersion!: string;
  readonly host!: string;
  readonly port!: number;
  readonly socketPath!: string | null;
  readonly carHome!: string | null;
  readonly approvalsPath!: string | null;
  readonly memoryDir!: string | null;
  readonly sharedMemoryPath!: string | null;
  readonly journalDir!: string | null;
  readonly journalMaxFiles!: number;
  readonly runsDir!: string | null;
  readonly trajectoriesDir!: string | null;
  readonly maxTrajectoryRecords!: number;
  readonly registryDir!: string | null;
  readonly runCompleteGraceMs!: number;
  readonly handlerTimeoutMs!: number;
  readonly toolTimeoutMs!: number;
  readonly toolCallbackGraceMs!: number;
  readonly toolCacheMaxEntries!: number;
  readonly toolCacheMaxBytes!: number;
  readonly messagingMaxIdempotencyKeys!: number;
  readonly policiesDir!: string | null;
  readonly policyFileMaxBytes!: number;
  readonly maxPayloadBytes!: number;
  readonly workerParseThresholdBytes!: number;
  readonly maxFrameParseWorkers!: number;
  readonly maxFragments!: number;
  readonly maxFramesPerWrite!: number;
  readonly maxBufferedChunks!: number;
  readonly maxOutboundBufferedBytes!: number;
  readonly maxReplyBytes!: number;
  readonly maxConnections!: number;
  readonly maxUnauthenticatedConnections!: number;
  readonly authTimeoutMs!: number;
  readonly maxAuthFailures!: number;
  readonly maxBatchItems!: number;
  readonly maxInFlightPerConnection!: number;
  readonly maxJsonDepth!: number;
  readonly heartbeatIntervalMs!: number;
  readonly maxToolsPerSession!: number;
  readonly maxStateKeysPerSession!: number;
  readonly maxStateBytesPerSession!: number;
  readonly maxStateValueBytes!: number;
  readonly maxEventsPerSession!: number;
  readonly maxActionConcurrency!: number;
  readonly deadlineSlackMs!: number;
  readonly verifyDeadlineMs!: number;
  readonly maxVerifyActions!: number;
  readonly maxPoliciesPerSession!: number;
  readonly maxPolicySessions!: number;
  readonly maxToolHandleChunks!: number;
  readonly toolHandleReapMs!: number;
  readonly maxEvidenceBytes!: number;
  readonly maxHostEvents!: number;
  readonly maxHostEventBytes!: number;
  readonly maxPendingApprovalsPerSession!: number;
  readonly maxApprovalHistory!: number;
  readonly maxHostSubscriberQueue!: number;
  readonly maxHostSubscriberBytes!: number;
  readonly maxHostSubscribersTotalBytes!: number;
  readonly maxHostRegistrationsPerSession!: number;
  readonly maxHostRecordBytes!: number;
  readonly maxHostEventPayloadBytes!: number;
  readonly maxSupervisionHistory!: number;
  readonly maxFinishedRunsInMemory!: number;
  readonly maxRegistryStores!: number;
  readonly handshakeGated!: readonly string[];
  readonly methods!: readonly MethodSpec[];
  readonly approvalGate!: ApprovalGateOptions;
  readonly logger!: Logger;
  readonly supervisionDecisionTimeoutMs!: number;
  readonly inferenceMaxConcurrent!: number | null;
  readonly totalMemoryBytes!: number | null;
  readonly inferenceQueueMax!: number;
  readonly inferenceProgressIntervalMs!: number;
  readonly inferenceRequestTimeoutMs!: number;
  readonly inferenceMaxRetries!: number;
  readonly inferenceRetryBaseDelayMs!: number;
  readonly inferenceRetryMaxDelayMs!: number;
  readonly inferenceRunnerQueueMax!: number;
  readonly ollamaDiscoveryTimeoutMs!: number;
  readonly ollamaEndpoint!: string | null;
  readonly modelsPath!: string | null;
  readonly providerEnv!: Readonly<Record<string, string | undefined>>;
  readonly embedModel!: string | null;
  readonly skillsModel!: string | null;
  readonly a2aKeyPath!: string | null;
  readonly a2aPeersPath!: string | null;
  readonly a2aPeerLogPath!: string | null;
  readonly a2aMaxBodyBytes!: number;
  readonly a2aMaxTasks!: number;
  readonly a2aMaxPushConfigsPerTask!: number;
  readonly a2aPushTimeoutMs!: number;
  readonly a2aPushAllowList!: readonly string[];
  readonly a2aChatAckTimeoutMs!: number;
  readonly a2aChatReplyTimeoutMs!: number;
  readonly a2aFilesRoot!: string | null;
  readonly a2aMaxFileBytes!: number;
  readonly a2aMaxPeers!: number;
  readonly a2aSendTimeoutMs!: number;
  readonly a2uiMaxSurfaces!: number;
  readonly a2uiMaxSurfacesPerOwner!: number;
  readonly a2uiMaxComponentsPerSurface!: number;
  readonly a2uiMaxComponentsBytes!: number;
  readonly a2uiMaxDataModelBytes!: number;
  readonly a2uiMaxMessagesPerCall!: number;
  readonly a2uiSurfaceIdleMs!: number;
  readonly a2uiLoopMaxIterations!: number;
  readonly a2uiOscillationWindow!: number;
  readonly a2aPeerBind!: string | null;
  readonly a2aPeerAllowNonLoopbackBind!: boolean;
  readonly a2aPeerSignatureMaxAgeMs!: number;
  readonly a2aPeerMaxNonces!: number;
  readonly a2aPeerLogMaxBytes!: number;
  readonly a2aPeerEventTextChars!: number;
  readonly voiceSearchPath!: readonly string[];
  readonly pocketsphinxModelDir!: string;
  readonly maxVoiceSessions!: number;
  readonly maxVoiceSessionAudioBytes!: number;
  readonly maxVoiceBufferedBytes!: number;
  readonly maxTtsStreams!: number;
  readonly maxTtsTextBytes!: number;
  readonly meetingsDir!: string | null;
  readonly maxActiveMeetings!: number;
  readonly voiceSidecarTimeoutMs!: number;
  readonly voiceSidecarMaxToolRounds!: number;
  readonly maxMeetingsInMemory!: number;
  readonly mcpMaxSessions!: number;
  readonly mcpSessionIdleMs!: number;
  readonly mcpMaxBodyBytes!: number;
  readonly mcpResourcePageSize!: number;
  readonly mcpAssistantMaxRuns!: number;
  readonly mcpAssistantIdleMs!: number;
  readonly mcpAssistantMaxEvents!: number;
  readonly mcpAssistantMaxTurns!: number;
  readonly mcpAssistantModel!: string | null;
  readonly ocrProgram!: string;
  readonly ocrTimeoutMs!: number;
  readonly ocrMaxOutputBytes!: number;
  readonly agentsManifestPath!: string | null;
  readonly agentsLogDir!: string | null;
  readonly agentEnv!: Readonly<Record<string, string | undefined>>;
  readonly maxAgents!: number;
  readonly agentStopGraceMs!: number;
  readonly agentBackoffMaxMs!: number;
  readonly agentLogTailBytes!: number;
  readonly chatAckTimeoutMs!: number;
  readonly maxChatSessions!: number;
  readonly chatGoalsPath!: string | null;
  readonly maxChatGoals!: number;
  readonly multiRunAgentTimeoutMs!: number;
  readonly multiMaxConcurrency!: number;
  readonly multiMaxSubtasks!: number;

  constructor(overrides: Partial<ServerStateOptions> = {}) {
    const merged = { ...DEFAULTS, ...stripUndefined(overrides) };
    validate(merged);
    const gate = merged.approvalGate;
    merged.approvalGate = Object.freeze({ enabled: gate.enabled, methods: Object.freeze([...gate.methods]), timeoutMs: gate.timeoutMs });
    merged.providerEnv = Object.freeze({ ...merged.providerEnv });
    merged.a2aPushAllowList = Object.freeze([...merged.a2aPushAllowList]);
    merged.voiceSearchPath = Object.freeze([...merged.voiceSearchPath]);
    merged.agentEnv = Object.freeze({ ...merged.agentEnv });
    Object.assign(this, merged);
    Object.freeze(this);
  }

  static defaults(): ServerStateConfig {
    return new ServerStateConfig();
  }

  /** A copy with some values replaced. */
  with(overrides: Partial<ServerStateOptions>): ServerStateConfig {
    return new ServerStateConfig({ ...this.toOptions(), ...stripUndefined(overrides) });
  }

  withAuthToken(token: string | null): ServerStateConfig {
    return this.with({ authToken: token });
  }

  withHostToken(token: string | null): ServerStateConfig {
    return this.with({ hostToken: token });
  }

  withMethods(...methods: MethodSpec[]): ServerStateConfig {
    return this.with({ methods: [...this.methods, ...methods] });
  }

  get authEnabled(): boolean {
    return this.authToken !== null;
  }

  toOptions(): ServerStateOptions {
    const out = {} as Record<string, unknown>;
    for (const key of Object.keys(DEFAULTS)) out[key] = (this as unknown as Record<string, unknown>)[key];
    return out as unknown as ServerStateOptions;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validate(o: ServerStateOptions): void {
  const positive: (keyof ServerStateOptions)[] = [
    'handlerTimeoutMs',
    'toolTimeoutMs',
    'maxPayloadBytes',
    'maxFragments',
    'maxBufferedChunks',
    'maxOutboundBufferedBytes',
    'maxBatchItems',
    'maxInFlightPerConnection',
    'maxJsonDepth',
    'maxToolsPerSession',
    'maxStateKeysPerSession',
    'maxEventsPerSession',
    'journalMaxFiles',
    'supervisionDecisionTimeoutMs',
    'verifyDeadlineMs',
    'toolHandleReapMs',
    'inferenceProgressIntervalMs',
    'inferenceRequestTimeoutMs',
    'authTimeoutMs',
    'ollamaDiscoveryTimeoutMs',
    'a2aPushTimeoutMs',
    'a2aChatAckTimeoutMs',
    'a2aChatReplyTimeoutMs',
    'a2aSendTimeoutMs',
    'a2aPeerSignatureMaxAgeMs',
    'ocrTimeoutMs',
    'agentStopGraceMs',
    'agentBackoffMaxMs',
    'chatAckTimeoutMs',
    'multiRunAgentTimeoutMs',
  ];
  for (const key of positive) {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new RangeError(`ServerStateConfig.${key} must be a positive number, got ${String(v)}`);
    }
  }
  // Counts: whole numbers of at least 1.
  const counts = [
    'maxFramesPerWrite',
    'maxActionConcurrency',
    'maxVerifyActions',
    'maxPoliciesPerSession',
    'maxPolicySessions',
    'maxToolHandleChunks',
    'maxEvidenceBytes',
    'maxHostEvents',
    'maxHostEventBytes',
    'maxPendingApprovalsPerSession',
    'maxApprovalHistory',
    'maxStateBytesPerSession',
    'maxStateValueBytes',
    'maxHostSubscriberQueue',
    'maxHostSubscriberBytes',
    'maxHostSubscribersTotalBytes',
    'maxHostRegistrationsPerSession',
    'maxHostRecordBytes',
    'maxHostEventPayloadBytes',
    'workerParseThresholdBytes',
    'maxReplyBytes',
    'maxConnections',
    'maxUnauthenticatedConnections',
    'maxAuthFailures',
    'maxSupervisionHistory',
    'maxFinishedRunsInMemory',
    'maxRegistryStores',
    'inferenceRunnerQueueMax',
    'a2aMaxBodyBytes',
    'a2aMaxTasks',
    'a2aMaxPushConfigsPerTask',
    'a2aMaxFileBytes',
    'a2aMaxPeers',
    'a2uiMaxSurfaces',
    'a2uiMaxSurfacesPerOwner',
    'a2uiMaxComponentsPerSurface',
    'a2uiMaxComponentsBytes',
    'a2uiMaxDataModelBytes',
    'a2uiMaxMessagesPerCall',
    'a2uiSurfaceIdleMs',
    'a2uiLoopMaxIterations',
    'a2uiOscillationWindow',
    'a2aPeerMaxNonces',
    'a2aPeerLogMaxBytes',
    'a2aPeerEventTextChars',
    'maxVoiceSessions',
    'maxVoiceSessionAudioBytes',
    'maxVoiceBufferedBytes',
    'maxTtsStreams',
    'maxTtsTextBytes',
    'maxActiveMeetings',
    'voiceSidecarTimeoutMs',
    'voiceSidecarMaxToolRounds',
    'maxMeetingsInMemory',
    'mcpMaxSessions',
    'mcpSessionIdleMs',
    'mcpMaxBodyBytes',
    'mcpResourcePageSize',
    'mcpAssistantMaxRuns',
    'mcpAssistantIdleMs',
    'mcpAssistantMaxEvents',
    'mcpAssistantMaxTurns',
    'ocrMaxOutputBytes',
    'maxTrajectoryRecords',
    'toolCacheMaxEntries',
    'toolCacheMaxBytes',
    'messagingMaxIdempotencyKeys',
    'policyFileMaxBytes',
    'maxAgents',
    'agentLogTailBytes',
    'maxChatSessions',
    'maxChatGoals',
    'multiMaxConcurrency',
    'multiMaxSubtasks',
  ] as const;
  for (const key of counts) {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
      throw new RangeError(`ServerStateConfig.${key} must be a positive integer, got ${String(v)}`);
    }
  }
  for (const key of [
    'toolCallbackGraceMs',
    'heartbeatIntervalMs',
    'port',
    'runCompleteGraceMs',
    'deadlineSlackMs',
    'inferenceRetryBaseDelayMs',
    'inferenceRetryMaxDelayMs',
  ] as const) {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new RangeError(`ServerStateConfig.${key} must be a non-negative number, got ${String(v)}`);
    }
  }
  if (o.port > 65535) throw new RangeError(`ServerStateConfig.port must be at most 65535, got ${o.port}`);
  for (const key of ['authToken', 'hostToken'] as const) {
    const v = o[key];
    if (v !== null && (typeof v !== 'string' || v.length === 0)) {
      throw new TypeError(`ServerStateConfig.${key} must be a non-empty string or null`);
    }
  }
  if (o.approvalsPath !== null && (typeof o.approvalsPath !== 'string' || o.approvalsPath.length === 0)) {
    throw new TypeError('ServerStateConfig.approvalsPath must be a non-empty path or null');
  }
  if (o.memoryDir !== null && (typeof o.memoryDir !== 'string' || !isAbsolute(o.memoryDir))) {
    throw new TypeError('ServerStateConfig.memoryDir must be an absolute path or null');
  }
  if (o.sharedMemoryPath !== null && (typeof o.sharedMemoryPath !== 'string' || !isAbsolute(o.sharedMemoryPath) || !o.sharedMemoryPath.endsWith('.json'))) {
    throw new TypeError('ServerStateConfig.sharedMemoryPath must be an absolute path ending in .json, or null');
  }
  const gate = o.approvalGate;
  if (typeof gate !== 'object' || gate === null || typeof gate.enabled !== 'boolean' || !Array.isArray(gate.methods)) {
    throw new TypeError('ServerStateConfig.approvalGate must be {enabled: boolean, methods: string[], timeoutMs: number}');
  }
  if (typeof gate.timeoutMs !== 'number' || !Number.isFinite(gate.timeoutMs) || gate.timeoutMs <= 0) {
    throw new RangeError(`ServerStateConfig.approvalGate.timeoutMs must be a positive number, got ${String(gate.timeoutMs)}`);
  }
  if (o.journalDir !== null && (typeof o.journalDir !== 'string' || o.journalDir.length === 0)) {
    throw new TypeError('ServerStateConfig.journalDir must be a non-empty path or null');
  }
  for (const key of ['runsDir', 'trajectoriesDir', 'registryDir', 'agentsManifestPath', 'agentsLogDir', 'chatGoalsPath'] as const) {
    const v = o[key];
    if (v !== null && (typeof v !== 'string' || !isAbsolute(v))) {
      throw new TypeError(`ServerStateConfig.${key} must be an absolute path or null`);
    }
  }
  const permits = o.inferenceMaxConcurrent;
  if (permits !== null && (typeof permits !== 'number' || !Number.isInteger(permits) || permits < 1)) {
    throw new RangeError(`ServerStateConfig.inferenceMaxConcurrent must be a positive integer or null, got ${String(permits)}`);
  }
  for (const key of ['inferenceQueueMax', 'inferenceMaxRetries', 'maxFrameParseWorkers'] as const) {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new RangeError(`ServerStateConfig.${key} must be a non-negative integer, got ${String(v)}`);
    }
  }
  if (o.modelsPath !== null && (typeof o.modelsPath !== 'string' || !isAbsolute(o.modelsPath))) {
    throw new TypeError('ServerStateConfig.modelsPath must be an absolute path or null');
  }
  if (o.ollamaEndpoint !== null && !isHttpUrl(o.ollamaEndpoint)) {
    throw new TypeError(`ServerStateConfig.ollamaEndpoint must be an http(s) URL or null, got ${String(o.ollamaEndpoint)}`);
  }
  for (const key of ['providerEnv', 'agentEnv'] as const) {
    if (typeof o[key] !== 'object' || o[key] === null) throw new TypeError(`ServerStateConfig.${key} must be an object of strings`);
  }
  for (const key of ['embedModel', 'skillsModel', 'mcpAssistantModel'] as const) {
    const v = o[key];
    if (v !== null && (typeof v !== 'string' || v.length === 0)) {
      throw new TypeError(`ServerStateConfig.${key} must be a model id or null`);
    }
  }
  for (const key of ['a2aKeyPath', 'a2aPeersPath', 'a2aPeerLogPath', 'a2aFilesRoot'] as const) {
    const v = o[key];
    if (v !== null && (typeof v !== 'string' || !isAbsolute(v))) {
      throw new TypeError(`ServerStateConfig.${key} must be an absolute path or null`);
    }
  }
  if (o.a2aPeerBind !== null && (typeof o.a2aPeerBind !== 'string' || o.a2aPeerBind.length === 0)) {
    throw new TypeError('ServerStateConfig.a2aPeerBind must be host:port or null');
  }
  if (typeof o.a2aPeerAllowNonLoopbackBind !== 'boolean') throw new TypeError('ServerStateConfig.a2aPeerAllowNonLoopbackBind must be a boolean');
  if (!Array.isArray(o.a2aPushAllowList) || o.a2aPushAllowList.some((e) => typeof e !== 'string' || e.length === 0)) {
    throw new TypeError('ServerStateConfig.a2aPushAllowList must be an array of origins or host names');
  }
  if (!Array.isArray(o.voiceSearchPath) || o.voiceSearchPath.some((d) => typeof d !== 'string' || !isAbsolute(d))) {
    throw new TypeError('ServerStateConfig.voiceSearchPath must be a list of absolute directories');
  }
  if (typeof o.pocketsphinxModelDir !== 'string' || !isAbsolute(o.pocketsphinxModelDir)) {
    throw new TypeError('ServerStateConfig.pocketsphinxModelDir must be an absolute path');
  }
  const mem = o.totalMemoryBytes;
  if (mem !== null && (typeof mem !== 'number' || !Number.isFinite(mem) || mem < 0)) {
    throw new RangeError(`ServerStateConfig.totalMemoryBytes must be a non-negative number or null, got ${String(mem)}`);
  }
}

function isHttpUrl(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
