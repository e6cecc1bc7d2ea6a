import { CloseCode, type CloseInfo } from '../transport/frame.js';
import type { JsonRpcParams } from '../rpc/messages.js';
import type { OutboundOptions, Peer } from '../rpc/peer.js';
import type { SessionChannel } from '../contract/context.js';

/** What a session needs of its connection: the WebSocket one, or a local one with no socket. */
export interface ServerChannel extends SessionChannel {
  readonly pendingCount: number;
  nextRequestId(): string;
  /** A binary frame (audio) to the client; false when it was not sent. */
  sendBinary(frame: Uint8Array): boolean;
  close(code?: number, reason?: string): void;
  onClose(listener: (info: CloseInfo) => void): void;
}

/**
 * The server's side of one client connection: notifications and server→client requests with
 * `cb-N` ids, all written through the connection's single bounded outbound queue.
 */
export class WsChannel implements ServerChannel {
  constructor(private readonly peer: Peer) {}

  get isOpen(): boolean {
    return this.peer.isOpen;
  }

  /** Bytes written to the client and not yet taken by it. */
  get bufferedBytes(): number {
    return this.peer.transport.bufferedBytes;
  }

  /** Outbound callbacks still waiting for the client's answer. */
  get pendingCount(): number {
    return this.peer.pendingCount;
  }

  nextRequestId(): string {
    return String(this.peer.nextRequestId());
  }

  request<T = unknown>(method: string, params: JsonRpcParams, opts?: OutboundOptions): Promise<T> {
    return this.peer.request<T>(method, params, opts);
  }

  notify(method: string, params?: JsonRpcParams): boolean {
    return this.peer.notify(method, params);
  }

  /**
   * A notification that may be lost: dropped (returning false) when the client already has more
   * than `maxBufferedBytes` unread, instead of pushing it toward the disconnect bound.
   */
  notifyLossy(method: string, params: JsonRpcParams, maxBufferedBytes: number): boolean {
    if (this.peer.transport.bufferedBytes > maxBufferedBytes) return false;
    return this.peer.notify(method, params);
  }

  /** One binary frame (audio); false when the transport has no binary frames or refused it. */
  sendBinary(data: Uint8Array): boolean {
    return this.peer.transport.sendBinary?.(data) ?? false;
  }

  dropSlowConsumer(reason: string): void {
    this.peer.close(CloseCode.PolicyViolation, `slow consumer: ${reason}`.slice(0, 120));
  }

  close(code?: number, reason?: string): void {
    this.peer.close(code, reason);
  }

  onClose(listener: (info: CloseInfo) => void): void {
    this.peer.onClose(listener);
  }
}
