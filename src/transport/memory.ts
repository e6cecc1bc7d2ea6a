import { CloseCode, type CloseInfo, type FrameTransport } from './frame.js';

export interface MemoryTransportOptions {
  /** Undelivered bytes a paused receiver may accumulate before the pair is closed (slow consumer). */
  maxBufferedBytes?: number;
}

/**
 * One end of an in-process transport pair. Frames are delivered asynchronously (next microtask),
 * in order. `pause()` stops delivery to this end, to stand in for a client that stops reading.
 */
export class MemoryTransport implements FrameTransport {
  onframe: ((text: string) => void) | undefined;
  onbinary: ((data: Uint8Array) => void) | undefined;
  onclose: ((info: CloseInfo) => void) | undefined;
  readonly kind = 'memory' as const;
  readonly remoteAddress = 'memory';
  other!: MemoryTransport;
  private readonly inbox: string[] = [];
  private inboxBytes = 0;
  private paused = false;
  private draining = false;
  private closed = false;
  /** `onclose` has fired on this end; frames still queued after that are dropped. */
  private closeDelivered = false;

  constructor(private readonly maxBufferedBytes: number) {}

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Bytes this end has sent that the other end has not yet consumed. */
  get bufferedBytes(): number {
    return this.other.inboxBytes;
  }

  send(text: string): boolean {
    if (this.closed) return false;
    const unread = this.other.inboxBytes;
    // The bound is on what the reader left unread: one frame to a reader that has taken everything always goes.
    if (unread > 0 && unread + text.length > this.maxBufferedBytes) {
      this.close(CloseCode.PolicyViolation, 'slow consumer: outbound buffer limit exceeded');
      return false;
    }
    this.other.receive(text);
    return true;
  }

  close(code: number = CloseCode.Normal, reason = ''): void {
    if (this.closed) return;
    const info = { code, reason };
    this.closed = true;
    this.other.closed = true;
    // Frames sent before the close were queued for delivery first, so they still arrive (as a
    // reply queued before `closeAfterReply` does over a real socket).
    queueMicrotask(() => {
      this.deliverClose(info);
      this.other.deliverClose(info);
    });
  }

  private deliverClose(info: CloseInfo): void {
    if (this.closeDelivered) return;
    this.closeDelivered = true;
    this.onclose?.(info);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.scheduleDrain();
  }

  private receive(text: string): void {
    this.inbox.push(text);
    this.inboxBytes += text.length;
    this.scheduleDrain();
  }

  private scheduleDrain(): void {
    if (this.draining || this.paused) return;
    this.draining = true;
    queueMicrotask(() => {
      this.draining = false;
      while (!this.paused && this.inbox.length > 0) {
        const text = this.inbox.shift() as string;
        this.inboxBytes -= text.length;
        if (!this.closeDelivered) this.onframe?.(text);
      }
    });
  }
}

/** Two connected in-memory transports: what one sends, the other receives. */
export function createMemoryPair(options: MemoryTransportOptions = {}): [MemoryTransport, MemoryTransport] {
  const max = options.maxBufferedBytes ?? 16 * 1024 * 1024;
  const a = new MemoryTransport(max);
  const b = new MemoryTransport(max);
  a.other = b;
  b.other = a;
  return [a, b];
}
