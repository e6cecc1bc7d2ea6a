import type { IncomingHttpHeaders } from 'node:http';
import { isCarError } from '../util/errors.js';
import { isObject } from '../util/values.js';
import type { PeerMessageLog } from './peer-log.js';
import { ReplayGuard, verifyPeerRequest, type PeerIdentity, type PeerRefusal, type SignedRequest } from './peer-signature.js';
import type { A2aPeer, PeerStore } from './peers.js';

/** What the daemon hears of each accepted peer message (after it is logged). */
export interface PeerMessageEvent {
  identity: PeerIdentity;
  peer: A2aPeer;
  messageId: string;
  contextId: string;
  text: string;
}

export interface PeerGateOptions {
  peers: PeerStore;
  log: PeerMessageLog;
  signatureMaxAgeMs: number;
  maxNonces: number;
  onMessage?: ((event: PeerMessageEvent) => void) | undefined;
}

/** A JSON-RPC error the gate answers instead of running the request. */
export interface GateError {
  code: number;
  message: string;
  data?: unknown;
}

/** The methods the peer listener serves: sending a message, nothing else. */
const SEND_METHODS = new Set(['SendMessage', 'message/send']);

/**
 * The peer listener's door: a request runs only when it is signed by a trusted peer's key
 * (`verify`), is a plain message with no tool call in it, and is on disk in the peer message log
 * (`admit`). Messages are always answered blocking: the reply is the finished task.
 */
export class PeerGate {
  private readonly replay: ReplayGuard;

  constructor(private readonly options: PeerGateOptions) {
    this.replay = new ReplayGuard(options.maxNonces, options.signatureMaxAgeMs);
  }

  verify(headers: IncomingHttpHeaders, req: SignedRequest): Promise<PeerIdentity | PeerRefusal> {
    return verifyPeerRequest(headers, req, {
      isTrusted: async (key) => (await this.options.peers.byKey(key)) !== undefined,
      maxAgeMs: this.options.signatureMaxAgeMs,
      replay: this.replay,
    });
  }

  /**
   * Check one JSON-RPC request from `identity` and log it. Resolves to the request to run (made
   * blocking), or to the error to answer with.
   */
  async admit(identity: PeerIdentity, body: Record<string, unknown>): Promise<{ body: Record<string, unknown> } | { error: GateError }> {
    const method = typeof body.method === 'string' ? body.method : '';
    if (!SEND_METHODS.has(method)) {
      return { error: { code: -32601, message: `the peer listener serves messages only (SendMessage / message/send), not '${method}'` } };
    }
    const params = isObject(body.params) ? body.params : {};
    const message = isObject(params.message) ? params.message : undefined;
    const parts = message !== undefined && Array.isArray(message.parts) ? (message.parts as unknown[]) : undefined;
    if (message === undefined || parts === undefined) return { error: { code: -32602, message: 'params.message with parts is required' } };
    if (parts.some((p) => isObject(p) && isObject(p.data) && 'tool' in p.data)) {
      return { error: { code: -32600, message: 'peers may send messages, not tool calls: a data part with "tool" is refused' } };
    }
    const peer = await this.options.peers.byKey(identity.claims.car_peer_key);
    if (peer === undefined) return { error: { code: -32600, message: `key ${identity.fingerprint} is no longer a trusted peer's` } };
    const text = parts.flatMap((p) => (isObject(p) && typeof p.text === 'string' ? [p.text] : [])).join('\n');
    const messageId = typeof message.messageId === 'string' ? message.messageId : '';
    const contextId = typeof message.contextId === 'string' ? message.contextId : '';
    try {
      await this.options.log.append({
        ts: new Date().toISOString(),
        subject: identity.subject,
        peer: peer.slug,
        method,
        message_id: messageId,
        context_id: contextId,
        text,
        a2a_caller_verified: { subject: identity.subject, claims: identity.claims },
        message,
      });
    } catch (err) {
      const limit = isCarError(err) ? err.limit : undefined;
      return { error: { code: -32603, message: `the message was not recorded: ${(err as Error).message}`, data: limit === undefined ? undefined : { limit } } };
    }
    this.options.onMessage?.({ identity, peer, messageId, contextId, text });
    const configuration = isObject(params.configuration) ? params.configuration : {};
    const blocking = method === 'message/send' ? { ...configuration, blocking: true } : { ...configuration, returnImmediately: false };
    return { body: { ...body, params: { ...params, configuration: blocking } } };
  }
}
