import { WebSocket, type RawData } from 'ws';
import { CloseCode, type CloseInfo, type FrameTransport, type TransportKind } from './frame.js';

export interface WsTransportOptions {
  kind: TransportKind;
  remoteAddress?: string | undefined;
  /**
   * Outbound bytes the peer may leave unread. A send that would push the buffer past this bound
   * terminates the connection: a client that stops reading is disconnected, never buffered for.
   * The bound is on bytes left undrained: a frame that finds the buffer empty always goes, however
   * large (frame sizes are the JSON-RPC layer's to bound).
   */
  maxBufferedBytes: number;
  /** Ping period; a peer that has not answered the previous ping by the next one is terminated. 0 = off. */
  heartbeatIntervalMs: number;
  /**
   * The connection's socket, when this side holds it (the server does). Frames sent in one turn
   * of the event loop are then gathered into socket writes of up to `framesPerWrite` frames.
   */
  socket?: Corkable | undefined;
  /** Most frames gathered into one socket write (1 writes each frame on its own). */
  framesPerWrite?: number;
}

export interface Corkable {
  cork(): void;
  uncork(): void;
}

/** A frame this long (UTF-16 units or bytes) is written at once: gathering it saves nothing and only holds memory. */
const GATHER_MAX_FRAME = 64 * 1024;

/** Adapts one `ws` WebSocket (either side of the wire) to the FrameTransport interface. */
export class WsTransport implements FrameTransport {
  onframe: ((text: string) => void) | undefined;
  onbinary: ((data: Uint8Array) => void) | undefined;
  onclose: ((info: CloseInfo) => void) | undefined;
  onrawtext: ((bytes: Uint8Array) => void) | undefined;
  rawTextFromBytes = Number.POSITIVE_INFINITY;
  readonly kind: TransportKind;
  readonly remoteAddress: string | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private alive = true;
  private closed = false;
  /** The socket is corked until the end of this tick; `gathered` frames are waiting in it. */
  private corked = false;
  private gathered = 0;
  private readonly framesPerWrite: number;
  private readonly uncork = (): void => {
    this.corked = false;
    this.gathered = 0;
    this.options.socket?.uncork();
  };

  constructor(
    readonly ws: WebSocket,
    private readonly options: WsTransportOptions,
  ) {
    this.kind = options.kind;
    this.remoteAddress = options.remoteAddress;
    this.framesPerWrite = options.socket === undefined ? 1 : Math.max(1, options.framesPerWrite ?? 1);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      this.alive = true;
      if (isBinary) this.onbinary?.(toBytes(data));
      else if (this.onrawtext !== undefined && byteLength(data) >= this.rawTextFromBytes) this.onrawtext(toBytes(data));
      else this.onframe?.(toText(data));
    });
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('error', () => {
      // 'close' always follows; the close code carries what happened.
    });
    ws.on('close', (code: number, reason: Buffer) => this.finish({ code, reason: reason.toString('utf8') }));
    if (options.heartbeatIntervalMs > 0) {
      this.heartbeat = setInterval(() => this.beat(), options.heartbeatIntervalMs);
      this.heartbeat.unref();
    }
    // Deferred, so that whoever wraps this transport has set `onclose` by the time it fires.
    if (ws.readyState === WebSocket.CLOSED) {
      queueMicrotask(() => this.finish({ code: CloseCode.GoingAway, reason: 'closed before use' }));
    }
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  send(text: string): boolean {
    return this.sendFrame(text, text.length);
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  sendBinary(data: Uint8Array): boolean {
    return this.sendFrame(data, data.byteLength);
  }

  /** `length`: UTF-16 units of a text frame, bytes of a binary one. */
  private sendFrame(frame: string | Uint8Array, length: number): boolean {
    if (!this.isOpen || !this.roomFor(frame, length)) return false;
    this.hold();
    this.ws.send(frame);
    this.gatheredOne(length);
    return true;
  }

  /**
   * Whether `frame` fits under the unread bound; terminates the connection when not. Frames
   * gathered in the corked socket are handed to the OS first, so they never count as unread.
   */
  private roomFor(frame: string | Uint8Array, length: number): boolean {
    const max = this.options.maxBufferedBytes;
    let unread = this.ws.bufferedAmount;
    if (unread === 0) return true;
    const text = typeof frame === 'string';
    // UTF-8 takes at most 3 bytes per UTF-16 unit: most text frames fit without being measured.
    if (unread + (text ? length * 3 : length) <= max) return true;
    const size = text ? Buffer.byteLength(frame) : length;
    if (unread + size <= max) return true;
    if (this.gathered > 0) {
      this.flushGathered();
      unread = this.ws.bufferedAmount;
      if (unread === 0 || unread + size <= max) return true;
    }
    this.terminate({ code: CloseCode.PolicyViolation, reason: 'slow consumer: outbound buffer limit exceeded' });
    return false;
  }

  /**
   * Cork the socket until the end of this tick, so that a burst of frames (replies resolved
   * together, a pipelined window's answers, a run of callbacks) leaves in a few writes instead
   * of one system call per frame.
   */
  private hold(): void {
    if (this.corked || this.framesPerWrite === 1) return;
    this.corked = true;
    this.options.socket!.cork();
    process.nextTick(this.uncork);
  }

  /**
   * A frame went into the corked socket: write the group out once it holds `framesPerWrite`
   * frames or a big one, so the peer can start on the first answers while later ones are made.
   */
  private gatheredOne(size: number): void {
    if (!this.corked) return;
    if (++this.gathered >= this.framesPerWrite || size >= GATHER_MAX_FRAME) this.flushGathered();
  }

  private flushGathered(): void {
    const socket = this.options.socket!;
    this.gathered = 0;
    socket.uncork();
    socket.cork();
  }

  close(code: number = CloseCode.Normal, reason = ''): void {
    if (this.closed) return;
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) {
      this.ws.close(code, reason);
    }
  }

  /** Drop the connection at once, without a closing handshake. */
  terminate(info: CloseInfo): void {
    if (this.closed) return;
    this.ws.terminate();
    this.finish(info);
  }

  private beat(): void {
    if (!this.alive) {
      this.terminate({ code: CloseCode.GoingAway, reason: 'heartbeat: no pong from peer' });
      return;
    }
    this.alive = false;
    try {
      this.ws.ping();
    } catch {
      // Socket already going away; 'close' will follow.
    }
  }

  private finish(info: CloseInfo): void {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.onclose?.(info);
  }
}

function toText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.byteLength, 0);
  return data.byteLength;
}

function toBytes(data: RawData): Uint8Array {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return new Uint8Array(data);
}
