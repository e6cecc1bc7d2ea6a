import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { log } from './log.js';
import { startServer, type ServerChild } from './spawn.js';
import { percentile } from './stats.js';
import { formatNumber, formatRatio, formatTable } from './table.js';

/**
 * Head-of-line blocking from big frames: a healthy client's request latency while another
 * connection sends maximum-size frames back to back, against the same client's idle latency, on
 * a daemon that parses big frames on parser threads and on one that parses them inline
 * (`maxFrameParseWorkers: 0`). The healthy client is open-loop: a request every `intervalMs`,
 * each timed from when it was due, so a stall counts for every request it delayed.
 */
export const FRAMES_SETTINGS = {
  /** Just under the default 16 MiB frame limit. */
  frameBytes: 16 * 1024 * 1024 - 1024,
  intervalMs: 5,
  requests: 400,
  /** Big frames (or big-reply calls) kept in flight by the loading connection. */
  inFlight: 2,
  /** A big reply: `state.get` of this many bytes of small objects (under maxStateValueBytes). */
  replyBytes: 3 * 1024 * 1024,
  timeoutMs: 120_000,
} as const;

export const loadKinds = ['string', 'objects', 'replies'] as const;
export type LoadKind = (typeof loadKinds)[number];

export interface Conn {
  ws: WebSocket;
  call(method: string, params: unknown): Promise<unknown>;
  /** Send a prepared request frame (id 0) and wait for its reply. */
  send(frame: Buffer): Promise<unknown>;
}

export async function connect(url: string): Promise<Conn> {
  const ws = new WebSocket(url, { maxPayload: 64 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let next = 1;
  const replies = new Map<number, (f: unknown) => void>();
  ws.on('message', (data) => {
    const text = (data as Buffer).toString('utf8');
    // Only the id is needed; big replies are not parsed whole.
    const m = /"id":(\d+)/.exec(text.slice(0, 64)) ?? /"id":(\d+)/.exec(text);
    const id = m ? Number(m[1]) : -1;
    replies.get(id)?.(text);
    replies.delete(id);
  });
  return {
    ws,
    call: (method, params) =>
      new Promise((resolve) => {
        const id = next++;
        replies.set(id, resolve);
        ws.send(`{"jsonrpc":"2.0","id":${id},"method":"${method}","params":${JSON.stringify(params)}}`);
      }),
    send: (frame) =>
      new Promise((resolve) => {
        const waiting = replies.get(0);
        replies.set(0, (f) => {
          waiting?.(f);
          resolve(f);
        });
        ws.send(frame, { binary: false });
      }),
  };
}

/** Open-loop latencies (ms) of `state.get` on `conn` while `load` runs. */
async function healthyLatencies(conn: Conn): Promise<number[]> {
  const s = FRAMES_SETTINGS;
  const out: number[] = [];
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < s.requests; i++) {
    const due = start + i * s.intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    // Timed from when it was due, or from when it went if a timer fired a little early.
    const from = Math.min(due, performance.now());
    pending.push(conn.call('state.get', { key: 'k' }).then(() => void out.push(performance.now() - from)));
  }
  await Promise.all(pending);
  return out;
}

/** Start the loading connection in a process of its own; `stop` ends it and says how much went through. */
async function startLoad(url: string, kind: LoadKind): Promise<{ stop(): Promise<number> }> {
  const child = fork(fileURLToPath(new URL('./frames-load.js', import.meta.url)), [url, kind], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`frames-load ${kind} exited (${code})`)));
  });
  return {
    stop: () =>
      new Promise((resolve) => {
        child.once('message', (msg) => {
          resolve((msg as { count: number }).count);
          child.kill();
        });
        child.send('stop');
      }),
  };
}

interface Row {
  label: string;
  p50: number;
  p99: number;
  max: number;
  loaded: number;
}

async function measure(url: string, mode: string, rows: Row[]): Promise<void> {
  const s = FRAMES_SETTINGS;
  const healthy = await connect(url);
  await healthy.call('state.set', { key: 'k', value: 'v' });
  await healthyLatencies(healthy); // warm-up
  const record = (label: string, xs: number[], loaded: number): void => {
    rows.push({ label: `${mode}: ${label}`, p50: percentile(xs, 0.5), p99: percentile(xs, 0.99), max: Math.max(...xs), loaded });
  };
  record('idle', await healthyLatencies(healthy), 0);
  const labels: Record<LoadKind, string> = {
    string: '16 MiB frames, one string',
    objects: '16 MiB frames, small objects',
    replies: `${formatNumber(s.replyBytes / 1024 / 1024)} MiB replies, small objects`,
  };
  for (const kind of loadKinds) {
    const load = await startLoad(url, kind);
    const xs = await healthyLatencies(healthy);
    record(labels[kind], xs, await load.stop());
  }
  healthy.ws.close();
}

export async function runFramesBench(): Promise<void> {
  const script = fileURLToPath(new URL('./servers/frames-daemon.js', import.meta.url));
  const rows: Row[] = [];
  for (const mode of ['inline', 'worker'] as const) {
    let daemon: ServerChild | null = null;
    process.env.BENCH_FRAME_PARSE = mode;
    try {
      daemon = await startServer(`frames-daemon-${mode}`, script, 'tcp', '', undefined);
      await measure(daemon.url, mode === 'inline' ? 'parsed inline' : 'parser threads', rows);
    } finally {
      delete process.env.BENCH_FRAME_PARSE;
      await daemon?.kill();
    }
  }
  const idleOf = (label: string): Row | undefined => rows.find((r) => r.label === `${label.split(':')[0]}: idle`);
  /** The same load on the daemon that parses inline: the "before" of a parser-threads row. */
  const inlineOf = (label: string): Row | undefined => rows.find((r) => r.label === label.replace(/^parser threads:/, 'parsed inline:'));
  log(
    `frames: a healthy client's state.get latency (open loop, one every ${FRAMES_SETTINGS.intervalMs} ms, ${FRAMES_SETTINGS.requests} calls) ` +
      `while another connection keeps ${FRAMES_SETTINGS.inFlight} big frames or big replies in flight; ratios against the same daemon idle, and parser threads against inline under the same load`,
  );
  console.log(
    formatTable(
      ['daemon: load', 'p50 ms', 'p99 ms', 'max ms', 'p50 vs idle', 'p99 vs idle', 'p50 vs inline', 'p99 vs inline', 'big ones sent'],
      rows.map((r) => {
        const idle = idleOf(r.label)!;
        const inline = r.label.startsWith('parser threads:') ? inlineOf(r.label) : undefined;
        return [
          r.label,
          formatNumber(r.p50),
          formatNumber(r.p99),
          formatNumber(r.max),
          formatRatio(r.p50 / idle.p50),
          formatRatio(r.p99 / idle.p99),
          inline ? formatRatio(r.p50 / inline.p50) : '',
          inline ? formatRatio(r.p99 / inline.p99) : '',
          String(r.loaded),
        ];
      }),
      ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
  );
}
