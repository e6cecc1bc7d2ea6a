import { WebSocket } from 'ws';
import { ErrorCode, RemoteError, RpcError } from '../rpc/errors.js';
import type { JsonRpcId, JsonRpcParams } from '../rpc/messages.js';
import { Peer, type InboundContext } from '../rpc/peer.js';
import type { CloseInfo } from '../transport/frame.js';
import { WsTransport } from '../transport/ws-transport.js';
import { hostApi, registryApi, runsApi, supervisionApi } from './host-api.js';
import { memoryApi } from './memory-api.js';
import { agentsApi, multiApi, runAgent, type ChatHandler } from './agents-api.js';
import { inferenceApi } from './inference-api.js';
import { eventsApi, permissionApi, policyApi, proposalApi, sessionApi, type Call } from './runtime-api.js';
import type { ProposalInput, ProposalResult, SubmitOptions } from './runtime-types.js';
import { describeTokenLookup, discoverToken } from './token.js';
import type {
  AuthResult,
  CapabilitiesList,
  HandshakeResult,
  ToolDefinitionInput,
  ToolExecuteParams,
  ToolsList,
} from './types.js';

export interface ConnectOptions {
  /** WebSocket URL; default `ws://127.0.0.1:9100/`. Ignored when `socketPath` is given. */
  url?: string;
  /** Connect over the daemon's Unix socket instead of TCP. */
  socketPath?: string;
  /** Token to present; `null` skips `session.auth`. Default: `CAR_AUTH_TOKEN`, then the token file. */
  token?: string | null;
  /** Authenticate with the host token instead (host role). */
  hostToken?: string;
  agentId?: string;
  memoryNamespace?: string;
  /** Run `server.handshake` after auth (default true). */
  handshake?: boolean;
  clientVersion?: string;
  /** Environment used for token discovery; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Token file to read instead of the platform default. */
  tokenFile?: string;
  /** Default timeout for `call` in ms; none by default. */
  requestTimeoutMs?: number;
  /** Largest inbound message (default 64 MiB). */
  maxPayloadBytes?: number;
  /** Abort the connection attempt. */
  signal?: AbortSignal;
}

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Request id to use (from `nextRequestId()`), when the caller must know it before the reply. */
  id?: string | number;
}

export interface RequestContext {
  readonly id: JsonRpcId | undefined;
  /** Aborted when the connection closes, or (for `tools.execute`) when the daemon sends `tools.cancel`. */
  readonly signal: AbortSignal;
}

export type RequestHandler = (params: unknown, ctx: RequestContext) => unknown;
export type NotificationHandler = (params: unknown) => void;
export type ToolHandler = (parameters: Record<string, unknown>, ctx: RequestContext & { call: ToolExecuteParams }) => unknown;
/** Runs any tool the daemon calls back for: receives the whole `tools.execute` params. */
export type ToolCallHandler = (call: ToolExecuteParams, ctx: RequestContext) => unknown;

const PROTOCOL_VERSION = 2;

/**
 * A client of the daemon over one WebSocket: calls methods, answers server→client requests
 * (`tools.execute`, …) and receives notifications, on the same symmetric JSON-RPC peer the
 * server uses.
 */
export class CarClient {
  private readonly requestHandlers = new Map<string, RequestHandler>();
  private readonly notificationHandlers = new Map<string, Set<NotificationHandler>>();
  private readonly toolCalls = new Map<string, AbortController>();
  private readonly peer: Peer;
  private readonly closedPromise: Promise<CloseInfo>;
  authResult: AuthResult | null = null;
  handshakeResult: HandshakeResult | null = null;

  private constructor(
    ws: WebSocket,
    kind: 'ws-tcp' | 'ws-unix',
    private readonly defaultTimeoutMs: number | undefined,
  ) {
    const transport = new WsTransport(ws, { kind, maxBufferedBytes: 256 * 1024 * 1024, heartbeatIntervalMs: 0 });
    this.peer = new Peer(transport, (method, params, ctx) => this.onInbound(method, params, ctx), {
      maxBatchItems: 1000,
      maxInFlight: 10_000,
      maxJsonDepth: 1000,
      firstId: 1,
    });
    this.closedPromise = new Promise((resolve) => this.peer.onClose(resolve));
    this.onNotification('tools.cancel', (params) => {
      const requestId = (params as { request_id?: unknown } | undefined)?.request_id;
      if (typeof requestId === 'string') this.toolCalls.get(requestId)?.abort(params);
    });
  }

  /**
   * Run as a supervised agent: connect with `CAR_AGENT_ID` / `CAR_AGENT_TOKEN` / `CAR_DAEMON_URL`
   * (set by the daemon that started this process) and serve `agent.chat` with `handler`.
   */
  static serveAgent(handler: ChatHandler, options: ConnectOptions & { env?: Record<string, string | undefined> } = {}): Promise<CarClient> {
    return runAgent(handler, options, (o) => CarClient.connect(o));
  }

  /** Open a connection, authenticate (unless there is no token) and negotiate the protocol. */
  static async connect(options: ConnectOptions = {}): Promise<CarClient> {
    const maxPayload = options.maxPayloadBytes ?? 64 * 1024 * 1024;
    const url = options.socketPath ? `ws+unix://${options.socketPath}:/` : (options.url ?? 'ws://127.0.0.1:9100/');
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload });
    await opened(ws, options.signal);
    const client = new CarClient(ws, options.socketPath ? 'ws-unix' : 'ws-tcp', options.requestTimeoutMs);
    const lookup = { env: options.env ?? process.env, tokenFile: options.tokenFile };
    let token: string | null = null;
    try {
      token = options.token !== undefined ? options.token : discoverToken(lookup);
      if (options.hostToken !== undefined) {
        client.authResult = await client.auth({ host_token: options.hostToken, memory_namespace: options.memoryNamespace });
      } else if (token !== null) {
        client.authResult = await client.auth({
          token,
          agent_id: options.agentId,
          memory_namespace: options.memoryNamespace,
        });
      }
      if (options.handshake !== false) {
        client.handshakeResult = await client.handshake(options.clientVersion);
      }
    } catch (err) {
      client.close();
      if (token === null && options.hostToken === undefined && err instanceof RemoteError && err.code === ErrorCode.AuthRequired) {
        throw new Error(`the daemon at ${url} requires a token and none was found: ${describeTokenLookup(lookup)}. Pass {token} or set CAR_AUTH_TOKEN.`, { cause: err });
      }
      throw err;
    }
    return client;
  }

  get isOpen(): boolean {
    return this.peer.isOpen;
  }

  /** Resolves with the close code and reason once the connection is down. */
  get closed(): Promise<CloseInfo> {
    return this.closedPromise;
  }

  /** Call a method; rejects with `RemoteError` (carrying the JSON-RPC `code`) when the daemon answers an error. */
  call<T = unknown>(method: string, params?: JsonRpcParams, options: CallOptions = {}): Promise<T> {
    return this.peer.request<T>(method, params, {
      timeoutMs: options.timeoutMs ?? this.defaultTimeoutMs,
      signal: options.signal,
      ...(options.id !== undefined && { id: options.id }),
    });
  }

  /** A fresh request id for `call({id})`: streamed notifications name the request they belong to. */
  nextRequestId(): string | number {
    return this.peer.nextRequestId();
  }

  notify(method: string, params?: JsonRpcParams): boolean {
    return this.peer.notify(method, params);
  }

  /** Answer server→client requests of `method` (one handler per method). */
  onRequest(method: string, handler: RequestHandler): void {
    this.requestHandlers.set(method, handler);
  }

  /** Listen for server notifications of `method`; returns an unsubscribe function. */
  onNotification(method: string, handler: NotificationHandler): () => void {
    let set = this.notificationHandlers.get(method);
    if (!set) this.notificationHandlers.set(method, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  /**
   * Serve `tools.execute` callbacks from a table of tool handlers. A handler's return value is
   * the tool output; a throw is the tool's error; its signal aborts on `tools.cancel`.
   */
  serveTools(tools: Record<string, ToolHandler>): void {
    this.onRequest('tools.execute', (params, ctx) => {
      const call = params as ToolExecuteParams;
      const handler = Object.hasOwn(tools, call.tool) ? tools[call.tool] : undefined;
      if (!handler) throw new RpcError(ErrorCode.MethodNotFound, `unknown tool: ${call.tool}`);
      return this.trackToolCall(call.request_id, ctx, (signal) =>
        handler(call.parameters ?? call.params ?? {}, { id: ctx.id, signal, call }),
      );
    });
  }

  /** Run one tool call with a signal that aborts on `tools.cancel` for its request id or on disconnect. */
  private async trackToolCall(requestId: string, ctx: RequestContext, run: (signal: AbortSignal) => unknown): Promise<unknown> {
    const controller = new AbortController();
    const onClose = (): void => controller.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', onClose, { once: true });
    this.toolCalls.set(requestId, controller);
    try {
      return await run(controller.signal);
    } finally {
      this.toolCalls.delete(requestId);
      ctx.signal.removeEventListener('abort', onClose);
    }
  }

  close(code = 1000, reason = ''): Promise<CloseInfo> {
    this.peer.close(code, reason);
    return this.closedPromise;
  }

  auth(params: {
    token?: string;
    host_token?: string;
    agent_id?: string | undefined;
    memory_namespace?: string | undefined;
  }): Promise<AuthResult> {
    return this.call<AuthResult>('session.auth', stripUndefined(params));
  }

  handshake(clientVersion?: string): Promise<HandshakeResult> {
    return this.call<HandshakeResult>(
      'server.handshake',
      stripUndefined({ protocol_version: PROTOCOL_VERSION, client_version: clientVersion }),
    );
  }

  capabilities(): Promise<CapabilitiesList> {
    return this.call<CapabilitiesList>('capabilities.list', {});
  }

  discover(): Promise<Record<string, unknown>> {
    return this.call('rpc.discover', {});
  }

  readonly state = {
    get: (key: string, tenantId?: string): Promise<unknown> =>
      this.call('state.get', stripUndefined({ key, tenant_id: tenantId })),
    set: (key: string, value: unknown, tenantId?: string): Promise<'ok'> =>
      this.call('state.set', stripUndefined({ key, value, tenant_id: tenantId })),
    exists: (key: string, tenantId?: string): Promise<boolean> =>
      this.call('state.exists', stripUndefined({ key, tenant_id: tenantId })),
    keys: (tenantId?: string): Promise<string[]> => this.call('state.keys', stripUndefined({ tenant_id: tenantId })),
    snapshot: (tenantId?: string): Promise<Record<string, unknown>> =>
      this.call('state.snapshot', stripUndefined({ tenant_id: tenantId })),
  };

  private readonly bound: Call = (method, params) => this.call(method, params);
  readonly session = sessionApi(this.bound);
  readonly policy = policyApi(this.bound);
  readonly proposals = proposalApi(this.bound);
  readonly permission = permissionApi(this.bound);
  readonly events = eventsApi(this.bound);
  readonly host = hostApi(this.bound);
  readonly supervision = supervisionApi(this.bound);
  readonly runs = runsApi(this.bound);
  readonly registry = registryApi(this.bound);
  /**
   * Inference (`infer`, `infer_stream`, `embed`, `classify`, `tokenize`, `models.*`) and the
   * delegated runner, with the upstream Node names (`infer`, `inferStream`, `embed`, `registerRunner`).
   */
  readonly inference = inferenceApi(this);
  /** Supervised agents, chat turns with them and chat goals (`agents.*`, `agents.chat`, `goal.*`). */
  readonly agents = agentsApi(this);
  /** Multi-agent patterns (`multi.*`) and `registerAgentRunner` for the `multi.run_agent` callback. */
  readonly multi = multiApi(this);
  /** Memory and skills (`memory.*`, `skill.*`, `skills.*`), with the upstream Node names. */
  readonly memory = memoryApi((method, params) => this.call(method, params));

  /**
   * Submit a proposal and run its tool calls with `toolHandler` (the upstream Node binding's
   * `executeProposal` shape). The handler becomes this connection's `tools.execute` handler; a
   * throw or an `{error}` result fails that action. Its signal aborts on `tools.cancel`.
   */
  executeProposal(proposal: ProposalInput, toolHandler: ToolCallHandler, options: SubmitOptions = {}): Promise<ProposalResult> {
    this.onRequest('tools.execute', (params, ctx) => {
      const call = params as ToolExecuteParams;
      return this.trackToolCall(call.request_id, ctx, (signal) => toolHandler(call, { id: ctx.id, signal }));
    });
    return this.proposals.submit(proposal, options);
  }

  readonly tools = {
    register: (tools: ToolDefinitionInput[]): Promise<number> => this.call('tools.register', tools),
    list: (): Promise<ToolsList> => this.call('tools.list', {}),
    unregister: (name: string): Promise<{ unregistered: string; removed: number }> =>
      this.call('tools.unregister', { name }),
  };

  private onInbound(method: string, params: JsonRpcParams | undefined, ctx: InboundContext): unknown {
    if (ctx.id === undefined) {
      const handlers = this.notificationHandlers.get(method);
      if (handlers) for (const fn of handlers) fn(params);
      return undefined;
    }
    const handler = this.requestHandlers.get(method);
    if (!handler) throw new RpcError(ErrorCode.MethodNotFound, `unknown method: ${method}`);
    return handler(params, ctx);
  }
}

function stripUndefined<T extends Record<string, unknown>>(o: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function opened(ws: WebSocket, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error): void => {
      cleanup();
      ws.terminate();
      reject(err);
    };
    const onOpen = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => fail(err);
    const onUnexpected = (_req: unknown, res: { statusCode?: number }): void =>
      fail(new Error(`the daemon refused the WebSocket upgrade (HTTP ${res.statusCode ?? '?'})`));
    const onAbort = (): void => fail(new Error('connect aborted'));
    function cleanup(): void {
      ws.off('open', onOpen);
      ws.off('error', onError);
      ws.off('unexpected-response', onUnexpected);
      signal?.removeEventListener('abort', onAbort);
    }
    ws.on('open', onOpen);
    ws.on('error', onError);
    ws.on('unexpected-response', onUnexpected);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
