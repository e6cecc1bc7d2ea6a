import { WebSocket } from 'ws';
import { listenTcp, ServerState, ServerStateConfig } from '../src/index.js';
import { log } from './log.js';
import { percentile } from './stats.js';
import { formatNumber, formatRatio, formatTable } from './table.js';

/**
 * In-process bench of one tool call three ways, same daemon, same tool client, same run: a
 * `proposal.submit` over WS (the baseline), a blocking A2A `SendMessage` over HTTP, and the same
 * `SendMessage` through the in-core dispatcher over WS. The tool client answers `tools.execute`
 * itself, so every figure is a full round trip through the gates and back.
 */

export const A2A_SETTINGS = { warmup: 100, rounds: 1000 } as const;

const TOKEN = 'bench';

interface Conn {
  call(method: string, params: unknown): Promise<{ result?: any; error?: { code: number; message: string } }>;
  close(): void;
}

async function toolClient(url: string): Promise<Conn> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let next = 1;
  const replies = new Map<number, (f: never) => void>();
  ws.on('message', (data) => {
    const frame = JSON.parse((data as Buffer).toString('utf8')) as { id?: number | string; method?: string; params?: { parameters?: unknown } };
    if (frame.method === 'tools.execute') {
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: frame.id, result: frame.params?.parameters ?? null }));
      return;
    }
    if (typeof frame.id === 'number') {
      replies.get(frame.id)?.(frame as never);
      replies.delete(frame.id);
    }
  });
  const conn: Conn = {
    call: (method, params) =>
      new Promise((resolve) => {
        const id = next++;
        replies.set(id, resolve as (f: never) => void);
        ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      }),
    close: () => ws.close(),
  };
  await conn.call('session.auth', { token: TOKEN });
  await conn.call('server.handshake', { protocol_version: 2 });
  return conn;
}

async function timed(label: string, fn: (i: number) => Promise<void>): Promise<number[]> {
  for (let i = 0; i < A2A_SETTINGS.warmup; i++) await fn(i);
  const samples: number[] = [];
  for (let i = 0; i < A2A_SETTINGS.rounds; i++) {
    const t0 = performance.now();
    await fn(i);
    samples.push((performance.now() - t0) * 1000);
  }
  log(`a2a: ${label} done`);
  return samples;
}

function check(reply: { result?: any; error?: { message: string } }, what: string): void {
  if (reply.error !== undefined) throw new Error(`${what}: ${reply.error.message}`);
}

export async function runA2aBench(): Promise<void> {
  const state = ServerState.embedded(new ServerStateConfig({ authToken: TOKEN }));
  const listener = await listenTcp(state, { host: '127.0.0.1', port: 0 });
  const c = await toolClient(`ws://${listener.address}/`);
  try {
    check(await c.call('tools.register', [{ name: 'echo', parameters: { type: 'object' } }]), 'tools.register');
    const started = await c.call('a2a.start', { bind: '127.0.0.1:0', share_session_runtime: true });
    check(started, 'a2a.start');
    const base = `http://${started.result.bound as string}/`;
    const message = (i: number): unknown => ({ messageId: `m${i}`, role: 'ROLE_USER', parts: [{ data: { tool: 'echo', parameters: { i } } }] });

    const ws = await timed('proposal.submit over WS', async (i) => {
      const r = await c.call('proposal.submit', { proposal: { actions: [{ id: 'a1', type: 'tool_call', tool: 'echo', parameters: { i } }] } });
      check(r, 'proposal.submit');
    });
    const http = await timed('SendMessage over HTTP', async (i) => {
      const res = await fetch(base, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: i, method: 'SendMessage', params: { message: message(i) } }),
      });
      const body = (await res.json()) as { result?: { task?: { status?: { state?: string } } } };
      if (body.result?.task?.status?.state !== 'TASK_STATE_COMPLETED') throw new Error(`SendMessage: ${JSON.stringify(body)}`);
    });
    const inCore = await timed('SendMessage over WS', async (i) => {
      const r = await c.call('SendMessage', { message: message(i + 1_000_000) });
      check(r, 'SendMessage (WS)');
    });

    const base50 = percentile(ws, 0.5);
    const rows = [
      ['proposal.submit over WS (baseline)', ws],
      ['A2A SendMessage over HTTP', http],
      ['A2A SendMessage over WS (in-core)', inCore],
    ].map(([label, s]) => {
      const samples = s as number[];
      const p50 = percentile(samples, 0.5);
      return [label as string, formatNumber(p50), formatNumber(percentile(samples, 0.99)), formatRatio(p50 / base50)];
    });
    console.log(`\n${formatTable(['one tool call', 'p50 µs', 'p99 µs', 'p50 vs baseline'], rows, ['left', 'right', 'right', 'right'])}`);
  } finally {
    c.close();
    await state.close();
    await listener.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runA2aBench().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
