import type { LocalRequestHandler } from '../contract/context.js';
import { ErrorCode } from '../rpc/errors.js';
import { RemoteError, RequestAbortedError } from '../rpc/errors.js';
import type { JsonRpcParams } from '../rpc/messages.js';
import type { OutboundOptions } from '../rpc/peer.js';
import type { CloseInfo } from '../transport/frame.js';
import { CloseCode } from '../transport/frame.js';
import type { ServerChannel } from './channel.js';

/**
 * The channel of a session with no connection: its server→client requests are answered in
 * process by `serve`, notifications go nowhere. A handler's throw comes back as the client's
 * error reply would, so tool failures read the same as over a socket.
 */
export class LocalChannel implements ServerChannel {
  private open = true;
  private pending = 0;
  private nextId = 1;
  private readonly closeListeners: ((info: CloseInfo) => void)[] = [];
  private readonly closing = new AbortController();

  constructor(private readonly serve: LocalRequestHandler) {}

  get isOpen(): boolean {
    return this.open;
  }

  get pendingCount(): number {
    return this.pending;
  }

  nextRequestId(): string {
    return `local-cb-${this.nextId++}`;
  }

  async request<T = unknown>(method: string, params: JsonRpcParams, opts: OutboundOptions = {}): Promise<T> {
    if (!this.open) throw new RequestAbortedError('closed', `'${method}' not sent: the session is closed`);
    const controller = new AbortController();
    const abort = (reason: 'timeout' | 'aborted' | 'closed', why: unknown): void => {
      if (!controller.signal.aborted) controller.abort(new RequestAbortedError(reason, `'${method}' ${reason}: ${String(why)}`));
    };
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => abort('timeout', `${opts.timeoutMs} ms`), opts.timeoutMs);
    const onAbort = (): void => abort('aborted', opts.signal?.reason);
    const onClose = (): void => abort('closed', 'session closed');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    this.closing.signal.addEventListener('abort', onClose, { once: true });
    this.pending++;
    try {
      const stopped = new Promise<never>((_, reject) =>
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }),
      );
      const served = this.serve(method, params, controller.signal).catch((err: unknown) => {
        if (controller.signal.aborted) throw controller.signal.reason;
        throw new RemoteError({ code: ErrorCode.InternalError, message: err instanceof Error ? err.message : String(err) });
      });
      return (await Promise.race([served, stopped])) as T;
    } finally {
      this.pending--;
      if (timer !== undefined) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      this.closing.signal.removeEventListener('abort', onClose);
    }
  }

  /** Nothing is ever buffered: notifications go nowhere. */
  get bufferedBytes(): number {
    return 0;
  }

  dropSlowConsumer(reason: string): void {
    this.close(CloseCode.PolicyViolation, `slow consumer: ${reason}`);
  }

  /** There is no client to hear audio. */
  sendBinary(): boolean {
    return false;
  }

  notify(): boolean {
    return this.open;
  }

  notifyLossy(): boolean {
    return this.open;
  }

  close(code: number = CloseCode.Normal, reason = ''): void {
    if (!this.open) return;
    this.open = false;
    this.closing.abort();
    for (const listener of this.closeListeners.splice(0)) listener({ code, reason } as CloseInfo);
  }

  onClose(listener: (info: CloseInfo) => void): void {
    if (this.open) this.closeListeners.push(listener);
    else listener({ code: CloseCode.Normal, reason: '' } as CloseInfo);
  }
}
