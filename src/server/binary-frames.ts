import { ErrorCode, RpcError } from '../rpc/errors.js';
import type { FrameTransport } from '../transport/frame.js';
import { decodeInboundFrame, FrameError } from '../voice/codec.js';
import { toRpcError } from './error-map.js';
import type { ClientSession } from './session.js';
import type { ServerState } from './state.js';

/**
 * A binary frame from the client: PCM for one of its `pcm_push` transcription sessions. A frame
 * that cannot be taken is answered with a JSON-RPC error with a null id, naming why (-32600 for a
 * malformed frame; the mapper's code for an unknown session or a bound); the connection stays open.
 */
export function onBinaryFrame(state: ServerState, session: ClientSession, transport: FrameTransport, data: Uint8Array): void {
  try {
    if (!session.authenticated) throw new RpcError(ErrorCode.AuthRequired, 'auth required: call session.auth before sending audio frames');
    const frame = decodeInboundFrame(data);
    state.voice.push(session.clientId, frame.id, Buffer.from(frame.payload.buffer, frame.payload.byteOffset, frame.payload.byteLength), frame.seq);
  } catch (err) {
    const e = err instanceof FrameError ? new RpcError(ErrorCode.InvalidRequest, `invalid request: ${err.message}`, { kind: err.kind, ...err.detail }) : toRpcError(err);
    transport.send(JSON.stringify({ jsonrpc: '2.0', id: null, error: e.toJSON() }));
  }
}
