import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Listener } from '../transport/listen.js';
import { isAllowedOrigin, isLoopbackHost } from '../transport/origin.js';
import type { AssistantRuns } from './assistant.js';
import type { McpHost } from './host.js';
import { McpSession } from './server.js';
import type { McpTool } from './tool.js';
import { IdleSweeper } from '../util/idle-sweeper.js';

export const MCP_PATH = '/mcp';
export const MCP_HEALTH_PATH = '/mcp/health';

export interface McpHttpOptions {
  host: McpHost;
  tools: readonly McpTool[];
  /** Most sessions open at once; one more `initialize` gets 503. */
  maxSessions: number;
  /** A session with no request for this long (and no open stream) is closed. */
  sessionIdleMs: number;
  /** Largest POST body. */
  maxBodyBytes: number;
  /** Host names accepted besides loopback ones (the bind address when it is not loopback). */
  allowedHosts?: readonly string[];
}

interface Entry {
  session: McpSession;
  transport: StreamableHTTPServerTransport;
  lastSeen: number;
  /** Requests (and open GET streams) in progress. */
  busy: number;
}

/**
 * The streamable HTTP MCP endpoint on the official SDK: `POST/GET/DELETE /mcp` with sessions and
 * JSON responses, `GET /mcp/health`, Host and Origin checks before anything else. Constructing it
 * starts nothing; `listen` (or handing `handle` to a server of your own) does.
 *
 * Events: `session` (id) when one opens, `sessionClosed` (id, reason) when one ends.
 */
export class McpHttpEndpoint extends EventEmitter {
  private readonly sessions = new Map<string, Entry>();
  private readonly sweeper: IdleSweeper;
  private readonly allowedHosts: Set<string>;

  constructor(private readonly opts: McpHttpOptions) {
    super();
    this.sweeper = new IdleSweeper(opts.sessionIdleMs, 30_000, () => this.sweep());
    this.allowedHosts = new Set((opts.allowedHosts ?? []).map((h) => h.toLowerCase()));
  }

  /** The assistant runs behind `assistant_*`, when the host has them. */
  get assistant(): AssistantRuns | undefined {
    return this.opts.host.assistant;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** The request handler, for embedders that route `/mcp` from an HTTP server of their own. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.route(req, res).catch((err: unknown) => {
      this.opts.host.logger.warn({ err }, 'mcp request failed');
      if (!res.headersSent) reply(res, 500, rpcError(-32603, 'internal error'));
      else res.end();
    });
  };

  /** Serve on `host:port` (port 0 picks one). */
  listen(host: string, port: number): Promise<Listener> {
    const server = createServer(this.handle);
    server.headersTimeout = 10_000;
    server.maxHeadersCount = 100;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const addr = server.address();
        const bound = typeof addr === 'object' && addr ? addr.port : port;
        const shown = host.includes(':') ? `[${host}]` : host;
        resolve({ address: `${shown}:${bound}`, port: bound, server, close: () => this.closeServer(server) });
      });
    });
  }

  /** End every session (and the host's assistant runs). */
  async close(): Promise<void> {
    this.opts.host.assistant?.close();
    await Promise.all([...this.sessions.keys()].map((id) => this.end(id, 'shutdown')));
  }

  private async closeServer(server: Server): Promise<void> {
    await this.close();
    if (server.listening) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (!this.hostAllowed(req.headers.host)) return reply(res, 403, rpcError(-32000, `Host header not allowed: ${req.headers.host ?? '(none)'}`));
    if (!isAllowedOrigin(req.headers.origin)) return reply(res, 403, rpcError(-32000, `Origin not allowed: ${req.headers.origin}`));
    if (path === MCP_HEALTH_PATH) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });
      return reply(res, 200, { status: 'ok', sessions: this.sessions.size });
    }
    if (path !== MCP_PATH) return reply(res, 404, { error: 'not found' });
    if (req.method === 'POST') return this.post(req, res);
    if (req.method === 'GET' || req.method === 'DELETE') return this.existing(req, res);
    reply(res, 405, rpcError(-32000, 'method not allowed'), { allow: 'GET, POST, DELETE' });
  }

  private hostAllowed(host: string | undefined): boolean {
    if (host === undefined) return false;
    const name = hostname(host);
    return name !== null && (isLoopbackHost(name) || this.allowedHosts.has(name.toLowerCase()));
  }

  private async post(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, this.opts.maxBodyBytes));
    } catch (err) {
      if (err instanceof BodyTooLarge) return reply(res, 413, rpcError(-32600, `request body exceeds ${this.opts.maxBodyBytes} bytes`));
      return reply(res, 400, rpcError(-32700, 'parse error: the body is not JSON'));
    }
    const id = header(req, 'mcp-session-id');
    if (id !== undefined) {
      const entry = this.sessions.get(id);
      if (!entry) return reply(res, 404, rpcError(-32001, 'session not found'));
      return this.serve(entry, req, res, body);
    }
    if (!isInitializeRequest(body)) return reply(res, 400, rpcError(-32000, 'bad request: no mcp-session-id header, and this is not an initialize request'));
    if (this.sessions.size >= this.opts.maxSessions) {
      return reply(res, 503, rpcError(-32000, `too many MCP sessions (limit ${this.opts.maxSessions}); end one with DELETE or wait for an idle one to expire`));
    }
    await this.serve(this.open(), req, res, body);
  }

  private async existing(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = header(req, 'mcp-session-id');
    if (id === undefined) return reply(res, 400, rpcError(-32000, 'bad request: mcp-session-id header required'));
    const entry = this.sessions.get(id);
    if (!entry) return reply(res, 404, rpcError(-32001, 'session not found'));
    await this.serve(entry, req, res, undefined);
  }

  private open(): Entry {
    const sessionId = randomUUID();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => sessionId,
      enableJsonResponse: true,
      maxRequestBodySize: this.opts.maxBodyBytes,
      onsessionclosed: (id) => void this.end(id, 'deleted'),
    });
    const session = new McpSession(this.opts.host, this.opts.tools, sessionId);
    const entry: Entry = { session, transport, lastSeen: Date.now(), busy: 0 };
    // Registered before the initialize is handled; removed again if the initialize fails.
    this.sessions.set(sessionId, entry);
    void session.server.connect(transport);
    this.sweeper.arm();
    this.emit('session', sessionId);
    return entry;
  }

  private async serve(entry: Entry, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    entry.busy++;
    entry.lastSeen = Date.now();
    res.once('close', () => {
      entry.busy--;
      entry.lastSeen = Date.now();
    });
    await entry.transport.handleRequest(req, res, body);
    const id = entry.session.id;
    if (entry.transport.sessionId === undefined && this.sessions.get(id) === entry) await this.end(id, 'initialize failed');
  }

  private async end(id: string, reason: string): Promise<void> {
    const entry = this.sessions.get(id);
    if (!entry) return;
    this.sessions.delete(id);
    entry.session.close();
    if (this.sessions.size === 0) this.sweeper.disarm();
    await entry.session.server.close().catch(() => {});
    this.emit('sessionClosed', id, reason);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, entry] of this.sessions) {
      if (entry.busy === 0 && now - entry.lastSeen >= this.opts.sessionIdleMs) void this.end(id, 'idle');
    }
  }
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        reject(new BodyTooLarge());
        req.pause();
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The host name of a Host header (`name`, `name:port`, `[v6]:port`); null when malformed. */
function hostname(host: string): string | null {
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return null;
  }
}

function rpcError(code: number, message: string): Record<string, unknown> {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(text);
}
