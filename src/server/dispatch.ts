import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { Peer } from '../rpc/peer.js';
import { CloseCode, type CloseInfo, type FrameTransport, type TransportKind } from '../transport/frame.js';
import { WsEndpoint } from '../transport/ws-endpoint.js';
import { WsTransport } from '../transport/ws-transport.js';
import { WsChannel } from './channel.js';
import { toRpcError } from './error-map.js';
import { createGatePipeline, deadlineError } from './pipeline.js';
import { ClientSession } from './session.js';
import { onBinaryFrame } from './binary-frames.js';
import type { ServerState } from './state.js';
import type { InboundHandler } from '../rpc/peer.js';

const endpoints = new WeakMap<ServerState, WsEndpoint>();

/** The WebSocket acceptor shared by every listener of one ServerState. */
export function endpointFor(state: ServerState): WsEndpoint {
  let endpoint = endpoints.get(state);
  if (!endpoint) {
    const c = state.config;
    endpoint = new WsEndpoint(
      {
        maxPayloadBytes: c.maxPayloadBytes,
        maxFragments: c.maxFragments,
        maxBufferedChunks: c.maxBufferedChunks,
        maxOutboundBufferedBytes: c.maxOutboundBufferedBytes,
        heartbeatIntervalMs: c.heartbeatIntervalMs,
        framesPerWrite: c.maxFramesPerWrite,
        admit: () => state.admitConnection(),
      },
      (transport) => void runDispatch(transport, state),
    );
    endpoints.set(state, endpoint);
  }
  return endpoint;
}

function isFrameTransport(conn: unknown): conn is FrameTransport {
  return typeof conn === 'object' && conn !== null && 'onframe' in conn && typeof (conn as FrameTransport).send === 'function';
}

export interface RunDispatchOptions {
  /** How the connection arrived, for logs and session info (when handing over a bare `ws` socket). */
  kind?: TransportKind;
  remoteAddress?: string;
}

/**
 * Serve one connection until it closes: one ClientSession, one Peer, every request through the
 * gate pipeline. Accepts an open `ws` WebSocket or any FrameTransport. Resolves on close.
 */
export function runDispatch(
  conn: WebSocket | FrameTransport,
  state: ServerState,
  options: RunDispatchOptions = {},
): Promise<CloseInfo> {
  const config = state.config;
  const transport = isFrameTransport(conn)
    ? conn
    : new WsTransport(conn, {
        kind: options.kind ?? 'ws-tcp',
        remoteAddress: options.remoteAddress,
        maxBufferedBytes: config.maxOutboundBufferedBytes,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
      });
  let pipeline: InboundHandler = () => undefined;
  const peer = new Peer(transport, (method, params, ctx) => pipeline(method, params, ctx), {
    maxBatchItems: config.maxBatchItems,
    maxInFlight: config.maxInFlightPerConnection,
    maxJsonDepth: config.maxJsonDepth,
    maxSendBytes: config.maxReplyBytes,
    idPrefix: 'cb-',
    logger: config.logger,
    mapError: toRpcError,
    deadlineError,
    largeFrames: state.frameParser === null ? undefined : { parser: state.frameParser, fromBytes: config.workerParseThresholdBytes },
  });
  const channel = new WsChannel(peer);
  const session = new ClientSession(channel, config, transport.kind, options.remoteAddress ?? transport.remoteAddress, state.journals ?? undefined);
  const log = config.logger.child({ client_id: session.clientId });
  pipeline = createGatePipeline(state, session, log);
  session.pipeline = pipeline;
  transport.onbinary = (data) => onBinaryFrame(state, session, transport, data);
  state.addSession(session);
  log.debug({ transport: transport.kind, remote: session.remoteAddress }, 'connection opened');
  const authDeadline = session.authenticated
    ? undefined
    : setTimeout(() => {
        if (!session.authenticated) channel.close(CloseCode.PolicyViolation, 'auth deadline passed: call session.auth first');
      }, config.authTimeoutMs);
  authDeadline?.unref();
  return new Promise((resolve) => {
    peer.onClose((info) => {
      clearTimeout(authDeadline);
      state.removeSession(session);
      log.debug({ code: info.code, reason: info.reason }, 'connection closed');
      resolve(info);
    });
  });
}

/** Take a raw accepted TCP socket, complete its WebSocket upgrade, and serve it. */
export function handleConnection(socket: Socket, state: ServerState): void {
  endpointFor(state).acceptSocket(socket, 'ws-tcp');
}

/** Take a raw accepted Unix-socket connection, complete its WebSocket upgrade, and serve it. */
export function handleConnectionUnix(socket: Socket, state: ServerState): void {
  endpointFor(state).acceptSocket(socket, 'ws-unix');
}
