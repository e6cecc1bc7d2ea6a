import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocket, type RawData } from 'ws';
import { CALLBACK_METHOD } from './protocol.js';
import type { CpuProbe } from './spawn.js';

/**
 * The load generator: one raw `ws` connection that writes JSON-RPC text frames by hand and
 * matches replies by id. The same code drives every server under test.
 */

interface Inbound {
  id?: unknown;
  method?: unknown;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message: string };
}

type ReplyHandler = (msg: Inbound) => void;

export interface PipelinedOptions {
  /** Requests kept outstanding. */
  window: number;
  /** Run at full load before the measured interval starts. */
  warmupMs: number;
  measureMs: number;
  method: string;
  params: Record<string, unknown>;
  /** How long the last outstanding replies may take once sending stops. */
  drainTimeoutMs?: number;
}

export interface PipelinedResult {
  callsPerSec: number;
  /** Replies completed in the measured interval. */
  calls: number;
  /** Error replies seen during the whole run (warm-up included). */
  errors: number;
  serverCpuUsPerCall: number;
  clientCpuUsPerCall: number;
}

export interface SequentialOptions {
  count: number;
  /** Stop early after this long, with however many samples were taken. */
  maxMs: number;
  method: string;
  params: Record<string, unknown>;
}

export interface SequentialResult {
  /** One round-trip time per call, microseconds, in call order. */
  latenciesUs: Float64Array;
  errors: number;
}

export interface CallbackOptions {
  count: number;
  concurrency: number;
  timeoutMs: number;
}

export interface CallbackResult {
  callbacksPerSec: number;
  count: number;
  serverCpuUsPerCall: number;
}

const HEAD = '{"jsonrpc":"2.0","id":';

function toText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function cpuUs(usage: NodeJS.CpuUsage): number {
  return usage.user + usage.system;
}

export class BenchClient {
  private nextId = 1;
  private readonly pending = new Map<number, ReplyHandler>();
  private onServerRequest: ((msg: Inbound) => void) | undefined;
  /** Frames that matched no outstanding request (should stay 0). */
  unmatched = 0;
  /** While true, frames written in reaction to one inbound chunk leave in one write (see batch()). */
  private batching = false;
  private corked = false;

  private constructor(
    private readonly ws: WebSocket,
    private readonly socket: Socket | undefined,
  ) {
    ws.on('message', (data: RawData) => this.onMessage(data));
  }

  static connect(url: string, timeoutMs = 5_000): Promise<BenchClient> {
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      handshakeTimeout: timeoutMs,
      // An all-zero masking key makes ws skip masking: the load generator spends less CPU per
      // frame, so the server under test rather than the client sets the pace.
      generateMask: zeroMask,
    });
    let socket: Socket | undefined;
    ws.once('upgrade', (res: IncomingMessage) => {
      socket = res.socket as Socket;
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        ws.off('error', reject);
        ws.on('error', () => undefined);
        resolve(new BenchClient(ws, socket));
      });
      ws.once('error', reject);
    });
  }

  close(): void {
    this.ws.terminate();
  }

  /** One request; resolves with its result, rejects on an error reply or after `timeoutMs`. */
  call(method: string, params: Record<string, unknown>, timeoutMs = 10_000): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`'${method}' got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (msg) => {
        clearTimeout(timer);
        if (msg.error !== undefined) reject(new Error(`'${method}' failed: ${msg.error.code} ${msg.error.message}`));
        else resolve(msg.result);
      });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  /** Keep `window` requests outstanding; count replies over the measured interval. */
  async pipelined(o: PipelinedOptions, serverCpu: CpuProbe): Promise<PipelinedResult> {
    const tail = `,"method":${JSON.stringify(o.method)},"params":${JSON.stringify(o.params)}}`;
    let completed = 0;
    let errors = 0;
    let outstanding = 0;
    let sending = true;
    let drained: (() => void) | undefined;
    const onReply: ReplyHandler = (msg) => {
      outstanding--;
      completed++;
      if (msg.error !== undefined) errors++;
      if (sending) sendOne();
      else if (outstanding === 0) drained?.();
    };
    const sendOne = (): void => {
      const id = this.nextId++;
      this.pending.set(id, onReply);
      outstanding++;
      this.ws.send(HEAD + id + tail);
    };

    this.batching = true;
    for (let i = 0; i < o.window; i++) sendOne();
    await sleep(o.warmupMs);
    const c0 = completed;
    const t0 = performance.now();
    const client0 = process.cpuUsage();
    const server0 = serverCpu();
    await sleep(o.measureMs);
    const c1 = completed;
    const t1 = performance.now();
    const client = process.cpuUsage(client0);
    const server1 = serverCpu();
    sending = false;
    this.batching = false;
    const [s0, s1] = await Promise.all([server0, server1]);
    if (outstanding > 0) {
      const timeoutMs = o.drainTimeoutMs ?? 5_000;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${outstanding} replies missing ${timeoutMs} ms after the run`)), timeoutMs);
        drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const calls = c1 - c0;
    return {
      callsPerSec: calls / ((t1 - t0) / 1000),
      calls,
      errors,
      serverCpuUsPerCall: (s1 - s0) / calls,
      clientCpuUsPerCall: cpuUs(client) / calls,
    };
  }

  /** One request in flight at a time; record every round-trip time. */
  sequential(o: SequentialOptions): Promise<SequentialResult> {
    const tail = `,"method":${JSON.stringify(o.method)},"params":${JSON.stringify(o.params)}}`;
    const latencies = new Float64Array(o.count);
    let n = 0;
    let errors = 0;
    let sentAt = 0;
    const deadline = performance.now() + o.maxMs;
    return new Promise((resolve, reject) => {
      const stuck = setTimeout(() => reject(new Error(`sequential run stuck after ${n} calls`)), o.maxMs + 5_000);
      const onReply: ReplyHandler = (msg) => {
        const now = performance.now();
        latencies[n++] = (now - sentAt) * 1000;
        if (msg.error !== undefined) errors++;
        if (n < o.count && now < deadline) {
          sendOne();
        } else {
          clearTimeout(stuck);
          resolve({ latenciesUs: latencies.subarray(0, n), errors });
        }
      };
      const sendOne = (): void => {
        const id = this.nextId++;
        this.pending.set(id, onReply);
        sentAt = performance.now();
        this.ws.send(HEAD + id + tail);
      };
      sendOne();
    });
  }

  /**
   * Ask the server to call us back `count` times (`tools.execute`, `concurrency` in flight) and
   * answer each callback at once; time the whole exchange.
   */
  async callbacks(o: CallbackOptions, serverCpu: CpuProbe): Promise<CallbackResult> {
    let answered = 0;
    this.batching = true;
    this.onServerRequest = (msg) => {
      answered++;
      const i = (msg.params as { parameters?: { i?: unknown } } | undefined)?.parameters?.i;
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { ok: true, i } }));
    };
    try {
      const s0 = await serverCpu();
      const t0 = performance.now();
      const result = await this.call(CALLBACK_METHOD, { count: o.count, concurrency: o.concurrency }, o.timeoutMs);
      const t1 = performance.now();
      const s1 = await serverCpu();
      if (result !== o.count || answered !== o.count) {
        throw new Error(`asked for ${o.count} callbacks, answered ${answered}, server returned ${JSON.stringify(result)}`);
      }
      return { callbacksPerSec: o.count / ((t1 - t0) / 1000), count: o.count, serverCpuUsPerCall: (s1 - s0) / o.count };
    } finally {
      this.onServerRequest = undefined;
      this.batching = false;
    }
  }

  /**
   * Cork the socket until the current inbound chunk has been handled: ws emits every message of
   * a chunk synchronously, so the requests (or callback answers) they trigger go out in one
   * write instead of one syscall each, as a pipelining client would send them. This keeps the
   * load generator cheaper than the servers it drives.
   */
  private batch(): void {
    if (this.corked || this.socket === undefined) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(this.uncork);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket?.uncork();
  };

  private onMessage(data: RawData): void {
    if (this.batching) this.batch();
    let msg: Inbound;
    try {
      msg = JSON.parse(toText(data)) as Inbound;
    } catch {
      this.unmatched++;
      return;
    }
    if (msg.method !== undefined) {
      if (this.onServerRequest) this.onServerRequest(msg);
      else this.unmatched++;
      return;
    }
    const handler = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
    if (handler === undefined) {
      this.unmatched++;
      return;
    }
    this.pending.delete(msg.id as number);
    handler(msg);
  }
}
