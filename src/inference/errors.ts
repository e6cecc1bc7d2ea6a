import { CarError, type CarErrorKind } from '../util/errors.js';

/** The provider declined the content. Never retried, never sent to another model. */
export class ContentRefusedError extends CarError {
  constructor(model: string, reason: string) {
    super('denied', `content refused: ${reason}`, { detail: { reason: 'content_refused', model } });
  }
}

/** The model cannot do what was asked (tokenize on a remote model, embed on a chat-only one …). */
export class UnsupportedModeError extends CarError {
  constructor(what: string, model: string, why: string) {
    super('unavailable', `UnsupportedMode: ${what} is not supported by model '${model}': ${why}`, {
      field: 'model',
      detail: { reason: 'unsupported_mode', model },
    });
  }
}

export interface ProviderErrorOptions {
  status?: number;
  retryable: boolean;
  /** The provider's Retry-After, when it gave one. */
  retryAfterMs?: number;
  cause?: unknown;
}

/** A provider call failed: an HTTP error, a dropped connection, a cut stream or a timeout. */
export class ProviderError extends CarError {
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(kind: CarErrorKind, message: string, model: string, options: ProviderErrorOptions) {
    super(kind, message, {
      cause: options.cause,
      detail: { reason: 'provider_error', model, ...(options.status !== undefined && { status: options.status }) },
    });
    this.status = options.status;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
  }
}

interface SdkLikeError {
  status?: unknown;
  headers?: unknown;
  message?: unknown;
  name?: unknown;
  error?: unknown;
}

function retryAfterOf(headers: unknown): number | undefined {
  const get = (name: string): string | null => {
    if (headers && typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);
    if (headers && typeof headers === 'object') {
      const v = (headers as Record<string, unknown>)[name];
      return typeof v === 'string' ? v : null;
    }
    return null;
  };
  const ms = get('retry-after-ms');
  if (ms !== null && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const s = get('retry-after');
  if (s === null) return undefined;
  if (Number.isFinite(Number(s))) return Math.max(0, Number(s) * 1000);
  const at = Date.parse(s);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

function kindForStatus(status: number): CarErrorKind {
  if (status === 429) return 'limit';
  if (status === 401 || status === 403) return 'denied';
  if (status === 404) return 'not_found';
  if (status === 408 || status === 504) return 'timeout';
  if (status >= 500) return 'unavailable';
  return 'invalid';
}

/** One message line from an SDK error, without request URLs. */
function summary(err: SdkLikeError): string {
  const body = err.error as { message?: unknown; error?: { message?: unknown } } | undefined;
  const text = body?.message ?? body?.error?.message ?? err.message;
  return String(text ?? 'unknown error').replace(/\s+/g, ' ').slice(0, 300);
}

/**
 * Map whatever a provider SDK (or fetch) threw to a `ProviderError`: 429, 408 and 5xx and dropped
 * connections are retryable; other HTTP errors are not (but another model may still be tried).
 */
export function toProviderError(err: unknown, model: string, provider: string): CarError {
  if (err instanceof CarError) return err;
  const e = (err ?? {}) as SdkLikeError;
  const status = typeof e.status === 'number' ? e.status : undefined;
  if (status !== undefined) {
    const retryable = status === 429 || status === 408 || status >= 500;
    return new ProviderError(kindForStatus(status), `${provider} answered HTTP ${status} for model '${model}': ${summary(e)}`, model, {
      status,
      retryable,
      retryAfterMs: retryAfterOf(e.headers),
      cause: err,
    });
  }
  const name = typeof e.name === 'string' ? e.name : '';
  if (name === 'APIConnectionTimeoutError' || name === 'TimeoutError') {
    return new ProviderError('timeout', `${provider} timed out for model '${model}'`, model, { retryable: true, cause: err });
  }
  return new ProviderError('unavailable', `${provider} connection failed for model '${model}': ${summary(e)}`, model, {
    retryable: true,
    cause: err,
  });
}

/** A stream that stopped before the provider said it was done. */
export function streamCut(model: string, provider: string): ProviderError {
  return new ProviderError('unavailable', `${provider} stream for model '${model}' ended before the model finished`, model, {
    retryable: true,
  });
}
