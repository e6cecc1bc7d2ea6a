import { CloseCode } from '../transport/frame.js';
import type { JsonRpcId, JsonRpcParams, JsonRpcResponse } from './messages.js';

/** What an inbound handler learns about the call it serves. */
export interface InboundContext {
  /** The request id as sent; `undefined` for notifications. */
  readonly id: JsonRpcId | undefined;
  readonly method: string;
  /** Aborted when the connection closes, the call's deadline passes, or by `abort`. */
  readonly signal: AbortSignal;
  /** Abort this call's signal. */
  abort(reason: unknown): void;
  /**
   * Answer this call with the peer's deadline error (`deadlineError`) once `ms` pass without a
   * reply, aborting its signal. For calls whose handler went asynchronous; arming costs no timer
   * of its own. Ignored once the call is answered or the connection closed.
   */
  setDeadline(ms: number): void;
  /** Close the connection once this call's reply has been queued. */
  closeAfterReply(code?: number, reason?: string): void;
}

export type InboundHandler = (method: string, params: JsonRpcParams | undefined, ctx: InboundContext) => unknown;

/** The peer side of a call: where its deadline is armed. */
export interface CallOwner {
  armDeadline(call: InboundCall, ms: number): void;
}

/** One inbound request or notification being handled. */
export class InboundCall implements InboundContext {
  controller: AbortController | undefined;
  closeCode: number | undefined;
  closeReason = '';
  /** Answered (or abandoned): later results are dropped. */
  done = false;
  /** When its deadline passes (`performance.now()` time); NaN when none is armed. */
  deadlineAt = Number.NaN;
  deadlineMs = 0;
  /** Where the reply of an asynchronous call goes. */
  deliver: ((reply: JsonRpcResponse) => void) | undefined;
  // Links of the in-flight list (see CallList).
  prev: InboundCall | undefined;
  next: InboundCall | undefined;
  listed = false;

  constructor(
    private readonly owner: CallOwner,
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

  setDeadline(ms: number): void {
    this.owner.armDeadline(this, ms);
  }
}

/** The calls in flight, linked through the calls themselves: adding and removing allocate nothing. */
export class CallList {
  private head: InboundCall | undefined;
  size = 0;

  add(call: InboundCall): void {
    call.prev = undefined;
    call.next = this.head;
    if (this.head !== undefined) this.head.prev = call;
    this.head = call;
    call.listed = true;
    this.size++;
  }

  delete(call: InboundCall): boolean {
    if (!call.listed) return false;
    if (call.prev !== undefined) call.prev.next = call.next;
    else this.head = call.next;
    if (call.next !== undefined) call.next.prev = call.prev;
    call.prev = call.next = undefined;
    call.listed = false;
    this.size--;
    return true;
  }

  /** Visit every call, newest first; `fn` may remove the call it is given. */
  forEach(fn: (call: InboundCall) => void): void {
    let call = this.head;
    while (call !== undefined) {
      const next = call.next;
      fn(call);
      call = next;
    }
  }

  clear(): void {
    this.forEach((call) => {
      call.prev = call.next = undefined;
      call.listed = false;
    });
    this.head = undefined;
    this.size = 0;
  }
}
