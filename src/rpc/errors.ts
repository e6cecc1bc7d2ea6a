/** Standard JSON-RPC 2.0 codes plus the CAR server-error codes (-32000..-32099 range). */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  AuthRequired: -32001,
  ApprovalDenied: -32003,
  DeadlineExceeded: -32004,
  HandshakeRequired: -32005,
  ProtocolVersionMismatch: -32006,
  ContentRefused: -32007,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** A typed JSON-RPC error. Thrown by handlers; serialised verbatim into the reply. */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'RpcError';
    this.code = code;
    this.data = data;
  }

  toJSON(): JsonRpcErrorObject {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }

  static invalidParams(message: string, data?: unknown): RpcError {
    return new RpcError(ErrorCode.InvalidParams, `invalid params: ${message}`, data);
  }

  static internal(message: string, data?: unknown): RpcError {
    return new RpcError(ErrorCode.InternalError, message, data);
  }

  /** Anything thrown by a handler becomes an RpcError; plain errors map to -32603. */
  static from(err: unknown): RpcError {
    if (err instanceof RpcError) return err;
    if (err instanceof Error) return new RpcError(ErrorCode.InternalError, err.message || err.name);
    return new RpcError(ErrorCode.InternalError, String(err));
  }
}

/** The error a caller sees when the remote side answered an outbound request with an error object. */
export class RemoteError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(error: JsonRpcErrorObject) {
    super(error.message);
    this.name = 'RemoteError';
    this.code = error.code;
    this.data = error.data;
  }
}

/** Rejection reason for outbound requests that never got an answer. */
export class RequestAbortedError extends Error {
  readonly reason: 'timeout' | 'closed' | 'aborted';

  constructor(reason: 'timeout' | 'closed' | 'aborted', message: string) {
    super(message);
    this.name = 'RequestAbortedError';
    this.reason = reason;
  }
}
