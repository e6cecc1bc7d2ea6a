import { AgentCard } from '@a2a-js/sdk';
import {
  DefaultExecutionEventBusManager,
  DefaultRequestHandler,
  JsonRpcTransportHandler,
  ServerCallContext,
  UnauthenticatedUser,
} from '@a2a-js/sdk/server';
import { isLegacyJsonRpcMethod } from '@a2a-js/sdk/compat/v0_3';
import { LegacyJsonRpcTransportHandler } from '@a2a-js/sdk/compat/v0_3/server';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../util/logger.js';
import { formatAuthority, type BindAddress } from './bind.js';
import { buildCard, signCard, type CardIdentity } from './card.js';
import { A2aProtocolError } from './errors.js';
import { CarAgentExecutor } from './executor.js';
import { BodyTooLarge, readBodyBytes, sendJson, streamSse } from './http.js';
import type { PeerGate } from './peer-gate.js';
import type { PeerIdentity } from './peer-signature.js';
import { GuardedPushStore, TaskPushSender } from './push.js';
import type { A2aRuntime } from './runtime.js';
import type { SigningKey } from './signing-key.js';
import { BoundedTaskStore } from './task-store.js';

/** Bounds of one A2A listener. */
export interface A2aLimits {
  /** Largest JSON-RPC request body, in bytes. */
  maxBodyBytes: number;
  /** Tasks kept for `tasks/get` / `tasks/list`; past it the oldest finished one goes. */
  maxTasks: number;
  /** Push notification configs one task may hold. */
  maxPushConfigsPerTask: number;
  /** How long one push notification POST may take. */
  pushTimeoutMs: number;
  /** Origins (or host names) push notifications may go to besides the loopback. */
  pushAllowList: readonly string[];
}

export interface A2aServerOptions {
  bind: BindAddress;
  /** Advertised base URL; defaults to `http://<bound>`. */
  publicUrl?: string;
  identity: CardIdentity;
  key: SigningKey;
  runtime: A2aRuntime;
  limits: A2aLimits;
  logger: Logger;
  /**
   * Makes this the peer-authenticated listener: only signed requests from trusted peers, only
   * messages (no tools, no task reads, no streams), no skills on the card.
   */
  peerGate?: PeerGate;
}

/** Streaming methods: answered as SSE over HTTP, never on the in-core (WS) dispatcher. */
export const STREAMING_METHODS = new Set(['SendStreamingMessage', 'SubscribeToTask', 'message/stream', 'tasks/resubscribe']);

const CARD_PATHS = new Set(['/.well-known/agent-card.json', '/.well-known/agent.json']);
const RPC_PATHS = new Set(['/', '/a2a']);
const STREAM_PREFIX = '/a2a/stream/';
/** `tasks/list` has no v0.3 wire form in the SDK; its `{contextId, state, limit}` maps onto ListTasks. */
const LEGACY_LIST = 'tasks/list';

function listParams(raw: unknown): Record<string, unknown> {
  const p = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const out: Record<string, unknown> = { ...p };
  delete out.state;
  delete out.limit;
  if (typeof p.state === 'string') {
    out.status = p.state.startsWith('TASK_STATE_') ? p.state : `TASK_STATE_${p.state.toUpperCase().replace(/-/g, '_')}`;
  }
  if (typeof p.limit === 'number') out.pageSize = p.limit;
  return out;
}

/**
 * One A2A listener: the agent card, JSON-RPC (A2A 1.0 names, and the v0.3 slash names through
 * the SDK's compatibility layer), SSE streams, tasks and push configs, all on the official SDK's
 * request handler; the work itself runs on the daemon through `runtime`.
 */
export class A2aServer {
  readonly startedAt = Date.now();
  readonly store: BoundedTaskStore;
  private readonly executor: CarAgentExecutor;
  private readonly v1: JsonRpcTransportHandler;
  private readonly legacy: LegacyJsonRpcTransportHandler;
  private publicUrl = '';
  private http: Server | undefined;
  private boundTo = '';
  /** `Host` header values this listener answers to (peer mode). */
  private ownHosts = new Set<string>();

  private constructor(private readonly options: A2aServerOptions) {
    const limits = options.limits;
    this.store = new BoundedTaskStore(limits.maxTasks);
    this.executor = new CarAgentExecutor(options.runtime);
    const pushStore = new GuardedPushStore(limits.pushAllowList, limits.maxPushConfigsPerTask);
    const pushSender = new TaskPushSender(pushStore, (id) => this.store.peek(id), {
      timeoutMs: limits.pushTimeoutMs,
      allowList: limits.pushAllowList,
      logger: options.logger,
    });
    const handler = new DefaultRequestHandler(
      AgentCard.fromJSON(buildCard(options.identity, 'http://127.0.0.1', [])),
      this.store,
      this.executor,
      new DefaultExecutionEventBusManager(() => 'a2a'),
      pushStore,
      pushSender,
      async () => AgentCard.fromJSON(this.card()),
    );
    this.v1 = new JsonRpcTransportHandler(handler);
    this.legacy = new LegacyJsonRpcTransportHandler(handler);
  }

  /** Listen on `options.bind`; rejects when the address cannot be bound. */
  static async start(options: A2aServerOptions): Promise<A2aServer> {
    const server = new A2aServer(options);
    await server.listen();
    return server;
  }

  private async listen(): Promise<void> {
    const http = createServer((req, res) => void this.route(req, res));
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(this.options.bind.port, this.options.bind.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    const addr = http.address() as AddressInfo;
    this.http = http;
    this.boundTo = formatAuthority(addr.address, addr.port);
    this.publicUrl = (this.options.publicUrl ?? `http://${this.boundTo}`).replace(/\/+$/, '');
    this.ownHosts = new Set([this.boundTo, new URL(this.publicUrl).host]);
    if (addr.address === '127.0.0.1' || addr.address === '::1') {
      for (const h of ['localhost', '127.0.0.1', '[::1]']) this.ownHosts.add(`${h}:${addr.port}`);
    }
  }

  /** `host:port` actually bound. */
  get bound(): string {
    return this.boundTo;
  }

  get taskCount(): number {
    return this.store.size;
  }

  get name(): string {
    return this.options.identity.name;
  }

  /** The signed card, with one skill per tool the runtime has now. */
  card(): Record<string, unknown> {
    const card = buildCard(this.options.identity, this.publicUrl, this.options.runtime.tools());
    if (this.options.peerGate !== undefined) {
      card.skills = [];
      card.capabilities = { ...(card.capabilities as Record<string, unknown>), streaming: false, pushNotifications: false, extendedAgentCard: false };
    }
    return signCard(card, this.options.key);
  }

  async stop(): Promise<void> {
    this.executor.stop(new Error('the A2A server stopped'));
    const http = this.http;
    if (http === undefined) return;
    this.http = undefined;
    await new Promise<void>((resolve) => {
      http.close(() => resolve());
      http.closeAllConnections();
    });
  }

  /**
   * One non-streaming A2A call from a WS client (the in-core dispatcher), against this listener's
   * task store. Resolves to the result; throws `A2aProtocolError` with the A2A error.
   */
  async dispatch(method: string, params: unknown): Promise<unknown> {
    if (method === LEGACY_LIST) return this.dispatch('ListTasks', listParams(params));
    const legacy = isLegacyJsonRpcMethod(method);
    const ctx = this.context(legacy ? '0.3' : '1.0', {});
    const out = await (legacy ? this.legacy : this.v1).handle({ jsonrpc: '2.0', id: 0, method, params: params ?? {} }, ctx);
    if (Symbol.asyncIterator in Object(out)) throw new A2aProtocolError(-32601, `'${method}' streams; it is served over HTTP only`, undefined);
    const reply = out as { result?: unknown; error?: { code: number; message: string; data?: unknown } };
    if (reply.error !== undefined) throw new A2aProtocolError(reply.error.code, reply.error.message, reply.error.data);
    return reply.result ?? null;
  }

  private context(version: string, headers: IncomingMessage['headers'], peer?: PeerIdentity): ServerCallContext {
    const user = peer === undefined ? new UnauthenticatedUser() : { isAuthenticated: true, userName: peer.subject };
    return new ServerCallContext({ user, requestedVersion: version, state: new Map<string, unknown>([['headers', headers], ['peer', peer]]) });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    try {
      if (req.method === 'GET' && CARD_PATHS.has(path)) {
        sendJson(res, 200, this.card());
      } else if (req.method === 'POST' && RPC_PATHS.has(path)) {
        await this.rpc(req, res);
      } else if (req.method === 'GET' && path.startsWith(STREAM_PREFIX) && this.options.peerGate === undefined) {
        const id = decodeURIComponent(path.slice(STREAM_PREFIX.length));
        const out = await this.v1.handle({ jsonrpc: '2.0', id: null, method: 'SubscribeToTask', params: { id } }, this.context('1.0', req.headers));
        await this.reply(res, out, null, false);
      } else {
        sendJson(res, 404, { error: `no A2A route for ${req.method ?? ''} ${path}` });
      }
    } catch (err) {
      this.options.logger.warn({ err, path }, 'A2A request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else if (!res.writableEnded) res.end();
    }
  }

  private async rpc(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let bytes: Buffer;
    try {
      bytes = await readBodyBytes(req, this.options.limits.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        res.setHeader('connection', 'close');
        sendJson(res, 413, { jsonrpc: '2.0', id: null, error: { code: -32600, message: err.message, data: { limit: err.limit } } });
        return;
      }
      throw err;
    }
    const gate = this.options.peerGate;
    let peer: PeerIdentity | undefined;
    if (gate !== undefined) {
      const host = req.headers.host ?? '';
      if (!this.ownHosts.has(host.toLowerCase())) {
        sendJson(res, 403, { jsonrpc: '2.0', id: null, error: { code: -32600, message: `this listener does not answer for host '${host}'` } });
        return;
      }
      const verdict = await gate.verify(req.headers, { method: req.method ?? 'POST', host, path: req.url ?? '/', body: bytes });
      if ('status' in verdict) {
        sendJson(res, verdict.status, { jsonrpc: '2.0', id: null, error: { code: -32600, message: verdict.reason } });
        return;
      }
      peer = verdict;
    }
    let body: unknown;
    try {
      body = JSON.parse(bytes.toString('utf8'));
    } catch {
      sendJson(res, 200, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error: the body is not JSON' } });
      return;
    }
    if (gate !== undefined && peer !== undefined) {
      const id = (body as { id?: unknown } | null)?.id ?? null;
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        sendJson(res, 200, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'the peer listener takes one JSON-RPC request object' } });
        return;
      }
      const admitted = await gate.admit(peer, body as Record<string, unknown>);
      if ('error' in admitted) {
        sendJson(res, 200, { jsonrpc: '2.0', id, error: admitted.error });
        return;
      }
      body = admitted.body;
    }
    let method = typeof (body as { method?: unknown })?.method === 'string' ? (body as { method: string }).method : '';
    if (method === LEGACY_LIST) {
      const b = body as Record<string, unknown>;
      body = { ...b, method: 'ListTasks', params: listParams(b.params) };
      method = 'ListTasks';
    }
    const header = req.headers['a2a-version'];
    const legacy = isLegacyJsonRpcMethod(method) || (header === '0.3' && !/^[A-Z]/.test(method));
    const out = await (legacy ? this.legacy : this.v1).handle(body as Record<string, unknown>, this.context(legacy ? '0.3' : '1.0', req.headers, peer));
    const id = (body as { id?: unknown })?.id ?? null;
    await this.reply(res, out, id, legacy);
  }

  private async reply(res: ServerResponse, out: unknown, id: unknown, legacy: boolean): Promise<void> {
    if (out !== null && typeof out === 'object' && Symbol.asyncIterator in out) {
      const mapError = legacy ? LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError : JsonRpcTransportHandler.mapToJSONRPCError;
      await streamSse(res, out as AsyncIterable<unknown>, (err) => ({ jsonrpc: '2.0', id, error: mapError(err) }));
      return;
    }
    sendJson(res, 200, out);
  }
}
