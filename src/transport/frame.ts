/** Why and how a transport closed. `code` follows WebSocket close codes. */
export interface CloseInfo {
  code: number;
  reason: string;
}

export type TransportKind = 'ws-tcp' | 'ws-unix' | 'memory';

/**
 * The one interface between a byte-carrying connection and the JSON-RPC layer: text frames in,
 * text frames out, and a close signal. Implementations bound what they buffer outbound.
 */
export interface FrameTransport {
  onframe: ((text: string) => void) | undefined;
  onbinary: ((data: Uint8Array) => void) | undefined;
  onclose: ((info: CloseInfo) => void) | undefined;
  /**
   * When set, text frames of at least `rawTextFromBytes` bytes arrive here as undecoded UTF-8
   * instead of at `onframe`, for a consumer that decodes big frames elsewhere. Transports that
   * only carry strings ignore it.
   */
  onrawtext?: ((bytes: Uint8Array) => void) | undefined;
  rawTextFromBytes?: number;
  /** Stop delivering inbound frames until `resume` (frames already read may still arrive). */
  pause?(): void;
  resume?(): void;
  /** Queue one text frame. Returns false when the transport is closed or refused the frame. */
  send(text: string): boolean;
  /** Queue one binary frame, where the transport carries them (same bounds as `send`). */
  sendBinary?(data: Uint8Array): boolean;
  /** Close gracefully; `onclose` fires once the transport is down. Idempotent. */
  close(code?: number, reason?: string): void;
  readonly isOpen: boolean;
  /** Bytes queued outbound and not yet handed to the OS. */
  readonly bufferedBytes: number;
  readonly kind: TransportKind;
  readonly remoteAddress: string | undefined;
}

export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  InternalError: 1011,
} as const;
