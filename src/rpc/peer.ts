import type { CloseInfo, FrameTransport } from '../transport/frame.js';
import { CloseCode } from '../transport/frame.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { DeadlineTimer } from './deadlines.js';
import { CallList, InboundCall, type CallOwner, type InboundHandler } from './inbound.js';
import { depthCheckFor, exceedsJsonDepth, valueExceedsDepth } from './depth.js';
import { ErrorCode, RequestAbortedError, RpcError } from './errors.js';
import { OutboundCalls, type OutboundOptions } from './outbound.js';
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
import type { FrameParser, ParseOutcome } from './frame-parser.js';
import { JsonWriter } from './json-text.js';
import { jsonSizeOver } from '../util/json-size.js';

export type { InboundContext, InboundHandler } from './inbound.js';

export interface PeerOptions {
  /** Largest batch (JSON array) accepted. */
  maxBatchItems: number;
  /** Requests from the remote side being handled at once; excess requests are refused. */
  maxInFlight: number;
  /** Deepest array/object nesting accepted in one frame. */
  maxJsonDepth: number;
  /**
   * Largest frame this side sends. A reply over it is replaced by a -32603 error (`data.kind:
   * "limit"`) for the same id; a notification over it is not sent. Unlimited when absent.
   */
  maxSendBytes?: number;
  /** Outbound ids are `${idPrefix}${n}` when set, plain integers otherwise. */
  idPrefix?: string;
  /** First outbound id number. */
  firstId?: number;
  logger?: Logger;
  /** Turns whatever a handler threw into the error reply (default: `RpcError.from`). */
  mapError?: (err: unknown) => RpcError;
  /** The error a call gets when its deadline (`InboundContext.setDeadline`) passes. */
  deadlineError?: (method: string, ms: number) => RpcError;
  /**
   * Text frames of at least `fromBytes` bytes are decoded and parsed by `parser`, off the main
   * thread. Frames are still handled in arrival order: later frames wait for a big one, and the
   * transport stops reading meanwhile. Replies of about `fromBytes` or more are serialised a
   * slice per event-loop turn; frames sent meanwhile wait behind them, so order is kept both ways.
   */
  largeFrames?: { parser: FrameParser; fromBytes: number };
}

export type { OutboundOptions } from './outbound.js';

const defaultDeadlineError = (method: string, ms: number): RpcError =>
  new RpcError(ErrorCode.DeadlineExceeded, `'${method}' got no reply within ${ms} ms`);

type Reply = JsonRpcResponse | undefined;

/** JSON text serialised per event-loop turn for a big reply. */
const SLICE_BYTES = 256 * 1024;

/** A request whose reply the peer sends itself once the handler's promise settles. */
const DEFERRED = Symbol('deferred');

/**
 * A symmetric JSON-RPC 2.0 endpoint over one FrameTransport: it dispatches inbound requests
 * concurrently to a handler, and sends its own requests with ids, timeouts and cancellation.
 */
export class Peer implements CallOwner {
  private readonly outbound: OutboundCalls;
  private readonly inFlight = new CallList();
  private readonly closeAfter = new WeakMap<JsonRpcResponse, CloseInfo>();
  /** Replies that asked to close the connection once sent (almost always none). */
  private closesAsked = 0;
  private readonly closeListeners: ((info: CloseInfo) => void)[] = [];
  private nextId: number;
  private closeInfo: CloseInfo | undefined;
  private readonly log: Logger;
  private readonly mapError: (err: unknown) => RpcError;
  private readonly deadlineError: (method: string, ms: number) => RpcError;
  private readonly deadlines = new DeadlineTimer((now) => this.sweepDeadlines(now));
  /** Asynchronous notification handlers with a deadline (requests are found in `inFlight`). */
  private readonly timedNotifications = new Set<InboundCall>();
  /** Notification handlers still running; they count against `maxInFlight` like requests. */
  private readonly runningNotifications = new Set<InboundCall>();
  private readonly sendReplyFn = (reply: JsonRpcResponse): void => this.sendReply(reply);
  /** Set while a big frame is being parsed elsewhere; frames that arrive meanwhile wait in `waiting`. */
  private parsing: AbortController | undefined;
  private readonly waiting: (string | Uint8Array)[] = [];
  /** Outbound frames behind a reply still being serialised; empty almost always. */
  private readonly outQueue: { text: string | undefined; after: (() => void) | undefined }[] = [];
  /** Replies serialised in slices so far. */
  slicedReplies = 0;

  constructor(
    readonly transport: FrameTransport,
    private readonly handler: InboundHandler,
    private readonly options: PeerOptions,
  ) {
    this.nextId = options.firstId ?? 0;
    this.log = options.logger ?? silentLogger;
    this.mapError = options.mapError ?? RpcError.from;
    this.deadlineError = options.deadlineError ?? defaultDeadlineError;
    this.outbound = new OutboundCalls((text) => this.write(text));
    transport.onframe = (text) => this.onFrame(text);
    if (options.largeFrames !== undefined) {
      transport.rawTextFromBytes = options.largeFrames.fromBytes;
      transport.onrawtext = (bytes) => this.onFrame(bytes);
    }
    transport.onclose = (info) => this.onTransportClose(info);
  }

  get isOpen(): boolean {
    return this.closeInfo === undefined && this.transport.isOpen;
  }

  /** Requests and notifications being handled. */
  get inFlightCount(): number {
    return this.inFlight.size + this.runningNotifications.size;
  }

  get pendingCount(): number {
    return this.outbound.size;
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
    return this.outbound.request<T>(id, method, params, opts);
  }

  /** Send a notification. Returns false when the connection is closed or refused the frame. */
  notify(method: string, params?: JsonRpcParams): boolean {
    if (!this.isOpen) return false;
    const frame = params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params };
    const text = JSON.stringify(frame);
    if (this.oversized(text) !== 0) {
      this.log.debug({ method }, 'notification not sent: larger than the frame limit');
      return false;
    }
    return this.write(text);
  }

  close(code: number = CloseCode.Normal, reason = ''): void {
    this.transport.close(code, reason);
  }

  /** A text frame: as a string, or as UTF-8 bytes when it is large enough to be parsed elsewhere. */
  private onFrame(frame: string | Uint8Array): void {
    if (this.parsing !== undefined) {
      this.waiting.push(frame);
      return;
    }
    if (typeof frame === 'string') {
      this.onText(frame);
      return;
    }
    const parsing = new AbortController();
    this.parsing = parsing;
    this.transport.pause?.();
    void this.options.largeFrames!.parser.parse(frame, this.options.maxJsonDepth, parsing.signal).then((outcome) => {
      if (parsing.signal.aborted) return;
      this.parsing = undefined;
      this.onParsed(outcome);
      while (this.parsing === undefined && this.waiting.length > 0) this.onFrame(this.waiting.shift()!);
      if (this.parsing === undefined) this.transport.resume?.();
    });
  }

  private onParsed(outcome: ParseOutcome): void {
    if (outcome.ok) return this.onValue(outcome.value);
    switch (outcome.reason) {
      case 'depth':
        return this.sendReply(this.tooDeep());
      case 'syntax':
        return this.sendReply(this.parseError(outcome.message));
      case 'failed':
        return this.sendReply(errorResponse(null, { code: ErrorCode.InternalError, message: outcome.message }));
      case 'aborted':
        return;
    }
  }

  private tooDeep(): JsonRpcResponse {
    return invalidRequest(null, `invalid request: JSON nesting deeper than ${this.options.maxJsonDepth} levels`);
  }

  private parseError(message: string): JsonRpcResponse {
    return errorResponse(null, { code: ErrorCode.ParseError, message: `parse error: ${message}` });
  }

  private onText(text: string): void {
    const maxDepth = this.options.maxJsonDepth;
    const check = depthCheckFor(text, maxDepth);
    if (check === 'text' && exceedsJsonDepth(text, maxDepth)) {
      this.sendReply(this.tooDeep());
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      // Too deep wins over malformed, whichever check the frame was given.
      this.sendReply(check === 'value' && exceedsJsonDepth(text, maxDepth) ? this.tooDeep() : this.parseError((err as Error).message));
      return;
    }
    if (check === 'value' && valueExceedsDepth(value, maxDepth)) {
      this.sendReply(this.tooDeep());
      return;
    }
    this.onValue(value);
  }

  private onValue(value: unknown): void {
    if (Array.isArray(value)) {
      this.onBatch(value);
      return;
    }
    const reply = this.handleOne(value, true);
    if (reply !== DEFERRED) this.sendReply(reply as Reply);
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
      Array.isArray(item) ? invalidRequest(null, 'invalid request: nested batch') : (this.handleOne(item, false) as Reply | Promise<Reply>),
    );
    const finish = (done: Reply[]): void => {
      const out = done.filter((r): r is JsonRpcResponse => r !== undefined);
      if (out.length === 0) return;
      const after = (): void => this.closeIfAsked(out);
      if (this.isLarge(out)) this.writeSliced(out, (text) => (text === undefined || this.oversized(text) !== 0 ? this.batchText(out) : text), after);
      else this.write(this.batchText(out), after);
    };
    if (replies.some(isThenable)) void Promise.all(replies).then(finish);
    else finish(replies as Reply[]);
  }

  /**
   * Handle one message; returns the reply to send, a promise of it (in a batch), undefined for
   * none, or DEFERRED when the call sends its own reply later (`single`).
   */
  private handleOne(value: unknown, single: boolean): Reply | Promise<Reply> | typeof DEFERRED {
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
        return this.runRequest(msg.id, msg.method, msg.params, single);
    }
  }

  private onResponse(id: JsonRpcId, result: unknown, error: { code: number; message: string; data?: unknown } | undefined): void {
    if (id === null) return;
    if (!this.outbound.answer(id, result, error)) this.log.debug({ id }, 'ignored a response with no pending request');
  }

  private runNotification(method: string, params: JsonRpcParams | undefined): void {
    if (this.inFlightCount >= this.options.maxInFlight) {
      // Nothing to answer: a notification past the cap is dropped, as its sender asked for no reply.
      this.log.debug({ method, limit: this.options.maxInFlight }, 'notification dropped: too many calls in flight');
      return;
    }
    const ctx = new InboundCall(this, undefined, method);
    const end = (): void => {
      ctx.done = true;
      this.runningNotifications.delete(ctx);
      if (this.timedNotifications.delete(ctx) && this.inFlight.size === 0 && this.timedNotifications.size === 0) {
        this.deadlines.idle();
      }
    };
    try {
      const out = this.handler(method, params, ctx);
      if (!isThenable(out)) return end();
      if (!ctx.done) this.runningNotifications.add(ctx);
      out.then(end, (err: unknown) => {
        end();
        this.log.debug({ method, err }, 'notification handler failed');
      });
    } catch (err) {
      end();
      this.log.debug({ method, err }, 'notification handler failed');
    }
  }

  private runRequest(
    id: JsonRpcId,
    method: string,
    params: JsonRpcParams | undefined,
    single: boolean,
  ): Reply | Promise<Reply> | typeof DEFERRED {
    if (this.inFlightCount >= this.options.maxInFlight) {
      return errorResponse(id, {
        code: ErrorCode.InternalError,
        message: `too many requests in flight on this connection (limit ${this.options.maxInFlight}); retry after a reply arrives`,
      });
    }
    const ctx = new InboundCall(this, id, method);
    let out: unknown;
    try {
      out = this.handler(method, params, ctx);
    } catch (err) {
      this.settledAtOnce(ctx);
      return this.finish(ctx, errorResponse(id, this.mapError(err).toJSON()));
    }
    if (!isThenable(out)) {
      this.settledAtOnce(ctx);
      return this.finish(ctx, successResponse(id, out));
    }
    this.inFlight.add(ctx);
    const resolved = (result: unknown): void => this.answerCall(ctx, successResponse(id, result));
    const rejected = (err: unknown): void => this.failCall(ctx, err);
    if (single) {
      ctx.deliver = this.sendReplyFn;
      out.then(resolved, rejected);
      return DEFERRED;
    }
    return new Promise<Reply>((resolve) => {
      ctx.deliver = resolve;
      out.then(resolved, rejected);
    });
  }

  /** A call answered without waiting: a deadline it armed meanwhile has nothing left to time. */
  private settledAtOnce(ctx: InboundCall): void {
    ctx.done = true;
    if (ctx.deadlineAt === ctx.deadlineAt && this.inFlight.size === 0 && this.timedNotifications.size === 0) this.deadlines.idle();
  }

  /** @internal The reply of an asynchronous call; the first one wins. */
  answerCall(ctx: InboundCall, reply: JsonRpcResponse): void {
    if (ctx.done) return;
    ctx.done = true;
    this.inFlight.delete(ctx);
    if (this.inFlight.size === 0 && this.timedNotifications.size === 0) this.deadlines.idle();
    ctx.deliver?.(this.finish(ctx, reply));
  }

  /** @internal */
  failCall(ctx: InboundCall, err: unknown): void {
    if (ctx.done) return;
    this.answerCall(ctx, errorResponse(ctx.id ?? null, this.mapError(err).toJSON()));
  }

  /** @internal */
  armDeadline(ctx: InboundCall, ms: number): void {
    if (ctx.done || this.closeInfo !== undefined) return;
    ctx.deadlineMs = ms;
    ctx.deadlineAt = performance.now() + Math.max(0, ms);
    if (ctx.id === undefined) this.timedNotifications.add(ctx);
    this.deadlines.ensure(ctx.deadlineAt);
  }

  /** Expire every call whose deadline passed; returns the earliest deadline still ahead. */
  private sweepDeadlines(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    const visit = (ctx: InboundCall): void => {
      const at = ctx.deadlineAt;
      if (at <= now) this.expireCall(ctx);
      else if (at < next) next = at;
    };
    this.inFlight.forEach(visit);
    for (const ctx of [...this.timedNotifications]) visit(ctx);
    return next;
  }

  /** The deadline passed first: abort the call's work and answer it with the deadline error. */
  private expireCall(ctx: InboundCall): void {
    const err = this.deadlineError(ctx.method, ctx.deadlineMs);
    ctx.deadlineAt = Number.NaN;
    if (ctx.id === undefined) {
      this.timedNotifications.delete(ctx);
      ctx.done = true;
      ctx.abort(err);
      return;
    }
    ctx.abort(err);
    this.answerCall(ctx, errorResponse(ctx.id, err.toJSON()));
  }

  private finish(ctx: InboundCall, reply: JsonRpcResponse): JsonRpcResponse {
    if (ctx.closeCode !== undefined) {
      this.closeAfter.set(reply, { code: ctx.closeCode, reason: ctx.closeReason });
      this.closesAsked++;
    }
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

  /** Bytes of `text` when it is over the frame limit, else 0. */
  private oversized(text: string): number {
    const max = this.options.maxSendBytes;
    if (max === undefined || text.length * 3 <= max) return 0;
    const bytes = Buffer.byteLength(text);
    return bytes > max ? bytes : 0;
  }

  private tooLarge(id: JsonRpcId, bytes: number): JsonRpcResponse {
    const max = this.options.maxSendBytes!;
    return errorResponse(id, {
      code: ErrorCode.InternalError,
      message: `the reply is ${bytes} bytes, over the ${max}-byte frame limit; ask for less (a smaller limit or page)`,
      data: { kind: 'limit', limit: max, bytes },
    });
  }

  /** The reply's text, or a limit error for its id when it would not fit in one frame. */
  private replyText(reply: JsonRpcResponse, text = this.stringify(reply)): string {
    const bytes = this.oversized(text);
    return bytes === 0 ? text : JSON.stringify(this.tooLarge(reply.id ?? null, bytes));
  }

  /** A batch's replies in one frame: oversized items become limit errors, and if that is not enough, every result does. */
  private batchText(replies: JsonRpcResponse[]): string {
    const text = this.stringify(replies);
    const bytes = this.oversized(text);
    if (bytes === 0) return text;
    const items = replies.map((r) => this.replyText(r));
    const joined = `[${items.join(',')}]`;
    if (this.oversized(joined) === 0) return joined;
    return JSON.stringify(replies.map((r) => ('result' in r ? this.tooLarge(r.id ?? null, bytes) : r)));
  }

  private sendReply(reply: Reply): void {
    if (reply === undefined) return;
    const after = this.closesAsked > 0 ? () => this.closeIfAsked([reply]) : undefined;
    if (this.isLarge(reply)) this.writeSliced(reply, (text) => (text === undefined ? this.replyText(reply) : this.replyText(reply, text)), after);
    else this.write(this.replyText(reply), after);
  }

  /** Whether a reply (or a batch of them) is big enough to be serialised in slices. */
  private isLarge(reply: JsonRpcResponse | JsonRpcResponse[]): boolean {
    const from = this.options.largeFrames?.fromBytes;
    if (from === undefined) return false;
    const value = Array.isArray(reply) ? reply : 'result' in reply ? reply.result : undefined;
    if (typeof value === 'string') return value.length >= from;
    return typeof value === 'object' && value !== null && jsonSizeOver(value, from) >= from;
  }

  /**
   * Serialise `value` a slice per turn, then send `finish(text)` (`finish(undefined)` when it
   * could not be serialised). Frames sent meanwhile queue behind it.
   */
  private writeSliced(value: unknown, finish: (text: string | undefined) => string, after: (() => void) | undefined): void {
    this.slicedReplies++;
    const entry: { text: string | undefined; after: (() => void) | undefined } = { text: undefined, after };
    this.outQueue.push(entry);
    let writer: JsonWriter | undefined;
    const step = (): void => {
      if (this.closeInfo !== undefined) return;
      let text: string | undefined;
      try {
        writer ??= new JsonWriter(value, SLICE_BYTES);
        if (!writer.step()) {
          setImmediate(step);
          return;
        }
        text = writer.text();
      } catch {
        text = undefined;
      }
      entry.text = finish(text);
      this.flush();
    };
    setImmediate(step);
  }

  /** Send the frames at the head of the queue that are ready. */
  private flush(): void {
    while (this.outQueue.length > 0 && this.outQueue[0]!.text !== undefined) {
      const entry = this.outQueue.shift()!;
      if (this.closeInfo === undefined) this.transport.send(entry.text!);
      entry.after?.();
    }
  }

  /** Send one frame now, or queue it behind a reply being serialised. False when the transport refused it. */
  private write(text: string, after?: () => void): boolean {
    if (this.outQueue.length > 0) {
      this.outQueue.push({ text, after });
      return this.closeInfo === undefined;
    }
    const sent = this.closeInfo === undefined && this.transport.send(text);
    after?.();
    return sent;
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

  private onTransportClose(info: CloseInfo): void {
    if (this.closeInfo) return;
    this.closeInfo = info;
    this.parsing?.abort();
    this.waiting.length = 0;
    this.outQueue.length = 0;
    const reason = new RequestAbortedError('closed', `connection closed (${info.code}${info.reason ? ` ${info.reason}` : ''})`);
    this.deadlines.clear();
    this.timedNotifications.clear();
    for (const ctx of this.runningNotifications) {
      ctx.done = true;
      ctx.abort(reason);
    }
    this.runningNotifications.clear();
    this.inFlight.forEach((ctx) => {
      ctx.done = true;
      ctx.abort(reason);
    });
    this.inFlight.clear();
    this.outbound.rejectAll(reason);
    for (const listener of this.closeListeners.splice(0)) listener(info);
  }
}
