import { WebSocket } from 'ws';
import { z } from 'zod';
import { defineMethod, listenTcp, ServerState, ServerStateConfig } from '../src/index.js';
import { log } from './log.js';
import { percentile } from './stats.js';
import { formatNumber, formatTable } from './table.js';

/**
 * In-process bench of the host surface against one embedded daemon: `host.event` fan-out to many
 * subscribers (deliveries per second, delivery latency from `host.notify` to arrival), and the
 * approval round trip (gated call → `approval.requested` on a host connection → resolve → reply).
 * Clients run in the same process as the daemon, so the figures include their parsing.
 */

export const HOST_SETTINGS = {
  subscribers: 1000,
  /** Throughput phase: events sent in pipelined batches, as fast as the daemon takes them. */
  events: 500,
  batch: 50,
  /** Latency phase: events sent one at a time, each once the previous one reached everyone. */
  latencyEvents: 100,
  approvalRounds: 200,
  timeoutMs: 60_000,
} as const;

const TOKEN = 'bench';

interface Conn {
  ws: WebSocket;
  call(method: string, params: unknown): Promise<{ result?: unknown; error?: { code: number; message: string } }>;
  onEvent?: (text: string) => void;
}

async function connect(url: string): Promise<Conn> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let next = 1;
  const replies = new Map<number, (f: never) => void>();
  const conn: Conn = {
    ws,
    call: (method, params) =>
      new Promise((resolve) => {
        const id = next++;
        replies.set(id, resolve as (f: never) => void);
        ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      }),
  };
  ws.on('message', (data) => {
    const text = (data as Buffer).toString('utf8');
    if (text.includes('"method":"host.event"')) {
      conn.onEvent?.(text);
      return;
    }
    const frame = JSON.parse(text) as { id?: number };
    if (typeof frame.id === 'number') {
      replies.get(frame.id)?.(frame as never);
      replies.delete(frame.id);
    }
  });
  await conn.call('session.auth', { token: TOKEN });
  await conn.call('server.handshake', { protocol_version: 2 });
  return conn;
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function fanOut(url: string, rows: string[][], dropped: () => number): Promise<void> {
  const s = HOST_SETTINGS;
  let latencies: number[] = [];
  let delivered = 0;
  const subs: Conn[] = [];
  for (let i = 0; i < s.subscribers; i += 50) {
    subs.push(...(await Promise.all(Array.from({ length: Math.min(50, s.subscribers - i) }, () => connect(url)))));
  }
  for (const sub of subs) {
    sub.onEvent = (text) => {
      const sent = Number(/"sent_at":([\d.]+)/.exec(text)?.[1]);
      if (Number.isFinite(sent)) latencies.push(performance.now() - sent);
      delivered++;
    };
    await sub.call('host.subscribe', {});
  }
  const emitter = await connect(url);
  const started = performance.now();
  for (let sent = 0; sent < s.events; sent += s.batch) {
    await Promise.all(
      Array.from({ length: s.batch }, () => emitter.call('host.notify', { kind: 'bench', payload: { sent_at: performance.now() } })),
    );
  }
  await until(() => delivered >= s.events * s.subscribers, s.timeoutMs, 'every delivery').catch((err: Error) => {
    throw new Error(`${err.message}: ${delivered} of ${s.events * s.subscribers} delivered, ${dropped()} subscribers dropped`);
  });
  const elapsed = (performance.now() - started) / 1000;
  rows.push([`fan-out to ${s.subscribers} subscribers`, formatNumber(delivered / elapsed), 'deliveries/s']);
  rows.push([`fan-out to ${s.subscribers} subscribers`, formatNumber(s.events / elapsed), 'events/s (each to all)']);

  latencies = [];
  for (let i = 0; i < s.latencyEvents; i++) {
    const target = delivered + s.subscribers;
    await emitter.call('host.notify', { kind: 'bench', payload: { sent_at: performance.now() } });
    await until(() => delivered >= target, s.timeoutMs, 'one event to every subscriber');
  }
  rows.push([`delivery latency p50 (one event to ${s.subscribers})`, percentile(latencies, 0.5).toFixed(2), 'ms']);
  rows.push([`delivery latency p99 (one event to ${s.subscribers})`, percentile(latencies, 0.99).toFixed(2), 'ms']);
  for (const c of [...subs, emitter]) c.ws.terminate();
}

async function approvalRoundTrip(url: string, rows: string[][]): Promise<void> {
  const host = await connect(url);
  const caller = await connect(url);
  host.onEvent = (text) => {
    if (!text.includes('"kind":"approval.requested"')) return;
    const id = /"id":"(approval-[^"]+)"/.exec(text)?.[1];
    if (id) void host.call('host.resolve_approval', { approval_id: id, approved: true });
  };
  await host.call('host.subscribe', {});
  const samples: number[] = [];
  for (let i = 0; i < HOST_SETTINGS.approvalRounds; i++) {
    const t0 = performance.now();
    const reply = await caller.call('bench.gated', {});
    if (reply.error) throw new Error(`bench.gated failed: ${reply.error.message}`);
    samples.push(performance.now() - t0);
  }
  rows.push(['approval round trip p50', percentile(samples, 0.5).toFixed(2), 'ms']);
  rows.push(['approval round trip p99', percentile(samples, 0.99).toFixed(2), 'ms']);
  host.ws.terminate();
  caller.ws.terminate();
}

export async function runHostBench(): Promise<void> {
  const gated = defineMethod({ name: 'bench.gated', summary: 'gated no-op', params: z.object({}).passthrough(), handler: () => ({ ok: true }) });
  const state = ServerState.embedded(
    new ServerStateConfig({
      authToken: TOKEN,
      heartbeatIntervalMs: 0,
      approvalGate: { enabled: true, methods: ['bench.gated'], timeoutMs: HOST_SETTINGS.timeoutMs },
    }).withMethods(gated),
  );
  const listener = await listenTcp(state, { host: '127.0.0.1', port: 0 });
  const url = `ws://${listener.address}/`;
  const rows: string[][] = [];
  try {
    log('host: event fan-out');
    await fanOut(url, rows, () => state.host.overflowedSubscribers);
    log('host: approval round trip');
    await approvalRoundTrip(url, rows);
  } catch (err) {
    log(`host bench failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await state.close(undefined, undefined, 2000);
    await listener.close();
  }
  if (rows.length > 0) console.log(`\n${formatTable(['host surface', 'value', 'unit'], rows, ['left', 'right', 'left'])}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runHostBench().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
