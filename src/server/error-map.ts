import { ContentRefusedError } from '../inference/errors.js';
import { A2aProtocolError } from '../a2a/errors.js';
import { ErrorCode, RpcError } from '../rpc/errors.js';
import { CarError, type CarErrorKind } from '../util/errors.js';

/**
 * The one place an error thrown on the request path becomes a JSON-RPC error.
 *
 * - `RpcError` (the pipeline's own gates, protocol-level refusals) goes out as it is.
 * - `CarError`: `invalid` is -32602 `invalid params: <message>`; every other kind is -32603 with
 *   the message as written (protocol §1.7 puts domain, ACL, limit and availability errors there).
 *   `data` is `{kind, field?, limit?, ...detail}`. A model's content refusal
 *   (`ContentRefusedError`) is -32007 `content refused: …` instead, with the same `data`.
 * - `A2aProtocolError` (the in-core A2A dispatcher) keeps the A2A specification's code and data.
 * - Anything else is unexpected: -32603 with its message, any absolute server path in it cut down
 *   to its last component.
 */
export function toRpcError(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  if (err instanceof A2aProtocolError) return new RpcError(err.code, err.message, err.data);
  if (err instanceof CarError) return fromCarError(err);
  const message = err instanceof Error ? err.message || err.name : String(err);
  return new RpcError(ErrorCode.InternalError, scrubPaths(message));
}

const CODES: Readonly<Record<CarErrorKind, number>> = {
  invalid: ErrorCode.InvalidParams,
  not_found: ErrorCode.InternalError,
  conflict: ErrorCode.InternalError,
  limit: ErrorCode.InternalError,
  denied: ErrorCode.InternalError,
  unavailable: ErrorCode.InternalError,
  timeout: ErrorCode.InternalError,
};

function fromCarError(err: CarError): RpcError {
  const data: Record<string, unknown> = { kind: err.kind };
  if (err.field !== undefined) data.field = err.field;
  if (err.limit !== undefined) data.limit = err.limit;
  if (err.detail !== undefined) Object.assign(data, err.detail);
  const message = err.kind === 'invalid' && !err.verbatim ? `invalid params: ${err.message}` : err.message;
  const code = err instanceof ContentRefusedError ? ErrorCode.ContentRefused : CODES[err.kind];
  return new RpcError(code, message, data);
}

/** An absolute path not part of a URL or a relative path (`/a/b/c.json`, also inside quotes). */
const ABSOLUTE_PATH = /(?<![\w.~:/\\-])\/(?:[^\s'"`:,;()[\]{}]+\/)*([^\s'"`:,;()[\]{}]+)/g;

/** Cut every absolute path in `text` down to `…/<last component>`. */
export function scrubPaths(text: string): string {
  return text.replace(ABSOLUTE_PATH, (_whole, last: string) => `…/${last}`);
}
