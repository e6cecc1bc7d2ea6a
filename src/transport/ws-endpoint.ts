import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FrameTransport, TransportKind } from './frame.js';
import { CloseCode } from './frame.js';
import { isAllowedOrigin } from './origin.js';
import { WsTransport, type Corkable } from './ws-transport.js';

export interface WsEndpointOptions {
  /** Largest message accepted, in bytes; larger ones close the connection with 1009. */
  maxPayloadBytes: number;
  /** Most fragments one message may arrive in. */
  maxFragments: number;
  /** Most buffered data chunks per connection before the receiver refuses more. */
  maxBufferedChunks: number;
  /** Outbound bytes a connection may leave unread before it is disconnected. */
  maxOutboundBufferedBytes: number;
  heartbeatIntervalMs: number;
  /** Most outbound frames gathered into one socket write (1 writes each frame on its own). */
  framesPerWrite?: number;
  /** Decides whether an upgrade's `Origin` header is acceptable. Defaults to the loopback rule. */
  allowOrigin?: (origin: string | undefined) => boolean;
  /** Most header lines accepted in one upgrade request. */
  maxHeadersCount?: number;
  /**
   * Asked before each upgrade is completed: a string refuses it with HTTP 503 and that reason
   * (connection caps), undefined lets it through.
   */
  admit?: () => string | undefined;
}

export type ConnectionCallback = (transport: FrameTransport, request: IncomingMessage) => void;

/**
 * Accepts WebSocket upgrades (from any HTTP server, or from raw sockets handed over one by one),
 * applies the origin check and the frame limits, and yields one FrameTransport per connection.
 * permessage-deflate is always off.
 */
export class WsEndpoint {
  private readonly wss: WebSocketServer;
  private readonly allowOrigin: (origin: string | undefined) => boolean;
  private parser: Server | undefined;
  private readonly live = new Set<WsTransport>();
  /** How each raw socket handed to `acceptSocket` arrived. */
  private readonly socketKinds = new WeakMap<Socket, TransportKind>();

  constructor(
    private readonly options: WsEndpointOptions,
    private readonly onConnection: ConnectionCallback,
  ) {
    this.allowOrigin = options.allowOrigin ?? isAllowedOrigin;
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      clientTracking: false,
      maxPayload: options.maxPayloadBytes,
      maxFragments: options.maxFragments,
      maxBufferedChunks: options.maxBufferedChunks,
    } as ConstructorParameters<typeof WebSocketServer>[0]);
  }

  /** Transports currently open through this endpoint. */
  get connections(): ReadonlySet<FrameTransport> {
    return this.live;
  }

  /** Complete (or refuse) an upgrade request received by an HTTP server. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, kind: TransportKind = 'ws-tcp'): void {
    const origin = request.headers.origin;
    if (!this.allowOrigin(origin)) {
      refuse(socket, 403, 'Forbidden', 'origin not allowed');
      return;
    }
    const refusal = this.options.admit?.();
    if (refusal !== undefined) {
      refuse(socket, 503, 'Service Unavailable', refusal);
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      const transport = new WsTransport(ws, {
        kind,
        remoteAddress: kind === 'ws-unix' ? 'unix' : request.socket.remoteAddress,
        maxBufferedBytes: this.options.maxOutboundBufferedBytes,
        heartbeatIntervalMs: this.options.heartbeatIntervalMs,
        socket: isCorkable(socket) ? socket : undefined,
        framesPerWrite: this.options.framesPerWrite,
      });
      this.live.add(transport);
      ws.once('close', () => this.live.delete(transport));
      this.onConnection(transport, request);
    });
  }

  /** Take over a raw accepted socket (TCP or Unix): parse its HTTP upgrade, then proceed as above. */
  acceptSocket(socket: Socket, kind: TransportKind): void {
    this.socketKinds.set(socket, kind);
    this.rawSocketParser().emit('connection', socket);
  }

  /** Build a request listener pair for an HTTP server: upgrades are served, plain requests get 426. */
  attach(server: Server, kind: TransportKind = 'ws-tcp', path?: string): () => void {
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      if (path !== undefined && new URL(req.url ?? '/', 'http://x').pathname !== path) {
        // Another upgrade listener may own this path; with none, answer rather than leave it hanging.
        if (server.listenerCount('upgrade') === 1) refuse(socket, 404, 'Not Found', 'no WebSocket endpoint at this path');
        return;
      }
      this.handleUpgrade(req, socket, head, kind);
    };
    server.on('upgrade', onUpgrade);
    return () => {
      server.off('upgrade', onUpgrade);
    };
  }

  /** Close every open connection with `code` (1001 by default) and stop accepting. */
  close(code: number = CloseCode.GoingAway, reason = 'server shutting down'): void {
    for (const t of this.live) t.close(code, reason);
    this.parser?.close();
    this.wss.close();
  }

  private rawSocketParser(): Server {
    if (this.parser) return this.parser;
    const parser = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' });
      res.end('this endpoint speaks JSON-RPC over WebSocket; send an upgrade request\n');
    });
    parser.maxHeadersCount = this.options.maxHeadersCount ?? 100;
    parser.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const kind = this.socketKinds.get(req.socket) ?? 'ws-tcp';
      this.handleUpgrade(req, socket, head, kind);
    });
    this.parser = parser;
    return parser;
  }
}

function isCorkable(socket: Duplex): socket is Duplex & Corkable {
  return typeof socket.cork === 'function' && typeof socket.uncork === 'function';
}

function refuse(socket: Duplex, status: number, statusText: string, body: string): void {
  const json = JSON.stringify({ error: body });
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
  );
}
