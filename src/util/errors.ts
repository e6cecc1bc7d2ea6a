/**
 * What went wrong, in words every engine shares. The request pipeline turns a `CarError` into a
 * JSON-RPC error in one place; engines never pick wire codes themselves.
 */
export type CarErrorKind =
  /** The caller's input is wrong (a bad field, an impossible combination). */
  | 'invalid'
  /** The id, name or file the caller named does not exist. */
  | 'not_found'
  /** The input is fine but clashes with current state (a duplicate, a wrong owner, a closed run). */
  | 'conflict'
  /** A configured bound was hit (bytes, counts, rates). */
  | 'limit'
  /** Refused by a policy, a permission tier, an approval or a role. */
  | 'denied'
  /** Something the call needs is missing or down (a provider, a backend, a platform feature). */
  | 'unavailable'
  /** The call ran out of time. */
  | 'timeout';

export interface CarErrorOptions {
  /** The parameter or field at fault, dotted (`actions.3.tool`). */
  field?: string;
  /** The bound that was hit, for `limit`. */
  limit?: number;
  /** Extra machine-readable detail merged into the reply's `data`. */
  detail?: Record<string, unknown>;
  /**
   * Send the message exactly as written, without the kind's usual prefix (`invalid params: `).
   * For usage lines the protocol fixes word for word.
   */
  verbatim?: boolean;
  cause?: unknown;
}

export class CarError extends Error {
  override name = 'CarError';
  readonly kind: CarErrorKind;
  readonly field: string | undefined;
  readonly limit: number | undefined;
  readonly detail: Record<string, unknown> | undefined;
  readonly verbatim: boolean;

  constructor(kind: CarErrorKind, message: string, options: CarErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.field = options.field;
    this.limit = options.limit;
    this.detail = options.detail;
    this.verbatim = options.verbatim === true;
  }
}

export function isCarError(err: unknown): err is CarError {
  return err instanceof CarError;
}
