import type { CloseInfo, FrameTransport } from '../transport/frame.js';
import { CloseCode } from '../transport/frame.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { exceedsJsonDepth } from './depth.js';
import { ErrorCode, RemoteError, RequestAbortedError, RpcError } from './errors.js';
import {
  classify,
  errorResponse,
  invalidRequest,
  successResponse,
  type JsonRpcId,
  type JsonRpcParams,
  type JsonRpcResponse,
} from './messages.js';
import { isThenable } from '../util/values.js';

/** What an inbound handler learns about the call it serves. */
export interface InboundContext {
  /** The request id as sent; `undefined` for notifications. */
  readonly id: JsonRpcId | undefined;
  readonly method: string;
  /** Aborted when the connection closes (or by the caller's own deadline logic via `abort`). */
  readonly signal: AbortSignal;
  /** Abort this call's signal (e.g. on a handler deadline). */
  abort(reason: unknown): void;
  /** Close the connection once this call's reply has been queued. */
  closeAfterReply(code?: number, reason?: string): void;
}

export type InboundHandler = (
  method: string,
  params: JsonRpcParams | undefined,
  ctx: InboundContext,
) => unknown;

export interface PeerOptions {
  /** Largest batch (JSON array) accepted. */
  maxBatchItems: number;
  /** Requests from the remote side being handled at once; excess requests are refused. */
  maxInFlight: number;
  /** Deepest array/object nesting accepted in one frame. */
  maxJsonDepth: number;
  /** Outbound ids are `${idPrefix}${n}` when set, plain integers otherwise. */
  idPrefix?: string;
  /** First outbound id number. */
  firstId?: number;
  logger?: Logger;
  /** Turns whatever a handler threw into the error reply (default: `RpcError.from`). */
  mapError?: (err: unknown) => RpcError;
}

export interface OutboundOptions {
  id?: string | number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

class CallContext implements InboundContext {
  controller: AbortController | undefined;
  closeCode: number | undefined;
  closeReason = '';

  constructor(
    readonly id: JsonRpcId | undefined,
    readonly method: string,
  ) {}

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    this.controller ??= new AbortController();
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  closeAfterReply(code: number = CloseCode.PolicyViolation, reason = ''): void {
    this.closeCode = code;
    this.closeReason = reason;
  }
}

interface PendingCall {
  method: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
  cleanup(): void;
}

type Reply = JsonRpcResponse | undefined;

/**
 * A symmetric JSON-RPC 2.0 endpoint over one FrameTransport: it dispatches inbound requests
 * concurrently to a handler, and sends its own requests with ids, timeouts and cancellation.
 */
export class Peer {
  private readonly pending = new Map<string | number, PendingCall>();
  private readonly inFlight = new Set<CallContext>();
  private readonly closeAfter = new WeakMap<JsonRpcResponse, CloseInfo>();
  private readonly closeListeners: ((info: CloseInfo) => void)[] = [];
  private nextId: number;
  private closeInfo: CloseInfo | undefined;
  private readonly log: Logger;
  private readonly mapError: (err: unknown) => RpcError;

  constructor(
    readonly transport: FrameTransport,
    private readonly handler: InboundHandler,
    private readonly options: PeerOptions,
  ) {
    this.nextId = options.firstId ?? 0;
    this.log = options.logger ?? silentLogger;
    this.mapError = options.mapError ?? RpcError.from;
    transport.onframe = (text) => this.onFrame(text);
    transport.onclose = (info) => this.onTransportClose(info);
  }

  get isOpen(): boolean {
    return this.closeInfo === undefined && this.transport.isOpen;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Resolves when the transport has closed. */
  onClose(listener: (info: CloseInfo) => void): void {
    if (this.closeInfo) listener(this.closeInfo);
    else this.closeListeners.push(listener);
  }

  nextRequestId(): string | number {
    const n = this.nextId++;
    return this.options.idPrefix === undefined ? n : `${this.options.idPrefix}${n}`;
  }

  /** Send a request to the remote side and wait for its answer. */
  request<T = unknown>(method: string, params: JsonRpcParams | undefined, opts: OutboundOptions = {}): Promise<T> {
    const id = opts.id ?? this.nextRequestId();
    if (!this.isOpen) {
      return Promise.reject(new RequestAbortedError('closed', `connection closed before '${method}' was sent`));
    }
    if (this.pending.has(id)) {
      return Promise.reject(new Error(`outbound request id ${String(id)} is already pending`));
    }
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const signal = opts.signal;
      const onAbort = (): void => {
        this.settle(id)?.reject(
          new RequestAbortedError('aborted', `'${method}' (${String(id)}) was cancelled by the caller`),
        );
      };
      const entry: PendingCall = {
        method,
        resolve: resolve as (v: unknown) => void,
        reject,
        cleanup: () => {
          if (timer) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      if (signal?.aborted) {
        reject(new RequestAbortedError('aborted', `'${method}' was cancelled before it was sent`));
        return;
      }
      this.pending.set(id, entry);
      if (opts.timeoutMs !== undefined && Number.isFinite(opts.timeoutMs)) {
        timer = setTimeout(() => {
          this.settle(id)?.reject(
            new RequestAbortedError('timeout', `'${method}' (${String(id)}) got no answer within ${opts.timeoutMs} ms`),
          );
        }, opts.timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      const frame = params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
      if (!this.transport.send(JSON.stringify(frame))) {
        this.settle(id)?.reject(new RequestAbortedError('closed', `connection closed before '${method}' was sent`));
      }
    });
  }

  /** Send a notification. Returns false when the connection is closed or refused the frame. */
  notify(method: string, params?: JsonRpcParams): boolean {
    if (!this.isOpen) return false;
    const frame = params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params };
    return this.transport.send(JSON.stringify(frame));
  }

  close(code: number = CloseCode.Normal, reason = ''): void {
    this.transport.close(code, reason);
  }

  private settle(id: string | number): PendingCall | undefined {
    const entry = this.pending.get(id);
    if (!entry) return undefined;
    this.pending.delete(id);
    entry.cleanup();
    return entry;
  }

  private onFrame(text: string): void {
    if (exceedsJsonDepth(text, this.options.maxJsonDepth)) {
      this.sendReply(
        invalidRequest(null, `invalid request: JSON nesting deeper than ${this.options.maxJsonDepth} levels`),
      );
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      this.sendReply(
        errorResponse(null, { code: ErrorCode.ParseError, message: `parse error: ${(err as Error).message}` }),
      );
      return;
    }
    if (Array.isArray(value)) {
      this.onBatch(value);
      return;
    }
    const reply = this.handleOne(value);
    if (isThenable(reply)) reply.then((r) => this.sendReply(r));
    else this.sendReply(reply);
  }

  private onBatch(items: unknown[]): void {
    if (items.length === 0) {
      this.sendReply(invalidRequest(null, 'invalid request: empty batch'));
      return;
    }
    if (items.length > this.options.maxBatchItems) {
      this.sendReply(
        invalidRequest(
          null,
          `invalid request: batch of ${items.length} items exceeds the limit of ${this.options.maxBatchItems}`,
        ),
      );
      return;
    }
    const replies = items.map((item) =>
      Array.isArray(item) ? invalidRequest(null, 'invalid request: nested batch') : this.handleOne(item),
    );
    const finish = (done: Reply[]): void => {
      const out = done.filter((r): r is JsonRpcResponse => r !== undefined);
      if (out.length === 0) return;
      this.sendText(this.stringify(out));
      this.closeIfAsked(out);
    };
    if (replies.some(isThenable)) void Promise.all(replies).then(finish);
    else finish(replies as Reply[]);
  }

  /** Handle one message; returns the reply to send (possibly later), or undefined for none. */
  private handleOne(value: unknown): Reply | Promise<Reply> {
    const msg = classify(value);
    switch (msg.kind) {
      case 'response':
        this.onResponse(msg.id, msg.result, undefined);
        return undefined;
      case 'error':
        this.onResponse(msg.id, undefined, msg.error);
        return undefined;
      case 'invalid':
        return invalidRequest(msg.id, msg.message);
      case 'notification':
        this.runNotification(msg.method, msg.params);
        return undefined;
      case 'request':
        return this.runRequest(msg.id, msg.method, msg.params);
    }
  }

  private onResponse(id: JsonRpcId, result: unknown, error: { code: number; message: string; data?: unknown } | undefined): void {
    if (id === null) return;
    const entry = this.settle(id);
    if (!entry) {
      this.log.debug({ id }, 'ignored a response with no pending request');
      return;
    }
    if (error) entry.reject(new RemoteError(error));
    else entry.resolve(result);
  }

  private runNotification(method: string, params: JsonRpcParams | undefined): void {
    const ctx = new CallContext(undefined, method);
    try {
      const out = this.handler(method, params, ctx);
      if (isThenable(out)) {
        out.then(undefined, (err: unknown) => this.log.debug({ method, err }, 'notification handler failed'));
      }
    } catch (err) {
      this.log.debug({ method, err }, 'notification handler failed');
    }
  }

  private runRequest(id: JsonRpcId, method: string, params: JsonRpcParams | undefined): Reply | Promise<Reply> {
    if (this.inFlight.size >= this.options.maxInFlight) {
      return errorResponse(id, {
        code: ErrorCode.InternalError,
        message: `too many requests in flight on this connection (limit ${this.options.maxInFlight}); retry after a reply arrives`,
      });
    }
    const ctx = new CallContext(id, method);
    let out: unknown;
    try {
      out = this.handler(method, params, ctx);
    } catch (err) {
      return this.finish(ctx, errorResponse(id, this.mapError(err).toJSON()));
    }
    if (!isThenable(out)) return this.finish(ctx, successResponse(id, out));
    this.inFlight.add(ctx);
    return Promise.resolve(out).then(
      (result) => {
        this.inFlight.delete(ctx);
        return this.finish(ctx, successResponse(id, result));
      },
      (err: unknown) => {
        this.inFlight.delete(ctx);
        return this.finish(ctx, errorResponse(id, this.mapError(err).toJSON()));
      },
    );
  }

  private finish(ctx: CallContext, reply: JsonRpcResponse): JsonRpcResponse {
    if (ctx.closeCode !== undefined) this.closeAfter.set(reply, { code: ctx.closeCode, reason: ctx.closeReason });
    return reply;
  }

  private stringify(value: unknown): string {
    try {
      return JSON.stringify(value);
    } catch (err) {
      const id = Array.isArray(value) ? null : ((value as JsonRpcResponse).id ?? null);
      return JSON.stringify(
        errorResponse(id, { code: ErrorCode.InternalError, message: `result could not be serialised: ${(err as Error).message}` }),
      );
    }
  }

  private sendReply(reply: Reply): void {
    if (reply === undefined) return;
    this.sendText(this.stringify(reply));
    this.closeIfAsked([reply]);
  }

  private closeIfAsked(replies: JsonRpcResponse[]): void {
    for (const reply of replies) {
      const close = this.closeAfter.get(reply);
      if (close) {
        this.transport.close(close.code, close.reason);
        return;
      }
    }
  }

  private sendText(text: string): void {
    if (this.closeInfo) return;
    this.transport.send(text);
  }

  private onTransportClose(info: CloseInfo): void {
    if (this.closeInfo) return;
    this.closeInfo = info;
    const reason = new RequestAbortedError('closed', `connection closed (${info.code}${info.reason ? ` ${info.reason}` : ''})`);
    for (const ctx of this.inFlight) ctx.abort(reason);
    this.inFlight.clear();
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(reason);
    for (const listener of this.closeListeners.splice(0)) listener(info);
  }
}
