import { Agent, request } from 'node:http';
import { WebSocket } from 'ws';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createMcpEndpoint, listenTcp, ServerState, ServerStateConfig } from '../src/index.js';
import { log } from './log.js';
import { percentile } from './stats.js';
import { formatRatio, formatTable } from './table.js';

/**
 * The same query on the same daemon and graph, three ways: `memory.query` over WS (the baseline),
 * `tools/call memory_query` as one raw HTTP POST on a kept-alive connection, and through the
 * official SDK client over streamable HTTP. Sequential round trips, clients in this process.
 */
export const MCP_SETTINGS = { facts: 2000, warmup: 100, rounds: 1000 } as const;

const TOKEN = 'bench';
const TOPICS = ['deploy', 'database', 'billing', 'search', 'auth', 'queue', 'cache', 'email', 'metrics', 'backup'];
const QUERY = 'how do we deploy the billing database?';

async function wsCaller(url: string): Promise<(method: string, params: unknown) => Promise<unknown>> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let next = 1;
  const waiting = new Map<number, (v: unknown) => void>();
  ws.on('message', (data) => {
    const frame = JSON.parse((data as Buffer).toString('utf8')) as { id: number; result?: unknown; error?: { message: string } };
    waiting.get(frame.id)?.(frame.error ? new Error(frame.error.message) : frame.result);
    waiting.delete(frame.id);
  });
  const call = (method: string, params: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, (v) => (v instanceof Error ? reject(v) : resolve(v)));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  await call('session.auth', { token: TOKEN });
  return Object.assign(call, { close: () => ws.close() });
}

function post(agent: Agent, url: URL, headers: Record<string, string>, body: unknown): Promise<{ status: number; session?: string; text: string }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, session: res.headers['mcp-session-id'] as string | undefined, text }));
      },
    );
    req.once('error', reject);
    req.end(payload);
  });
}

async function timed(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return samples;
}

export async function runMcpBench(): Promise<void> {
  const state = ServerState.embedded(new ServerStateConfig({ authToken: TOKEN, heartbeatIntervalMs: 0 }));
  const ws = await listenTcp(state, { host: '127.0.0.1', port: 0 });
  const endpoint = createMcpEndpoint(state);
  const mcp = await endpoint.listen('127.0.0.1', 0);
  const url = new URL(`http://${mcp.address}/mcp`);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const rows: string[][] = [];
  const s = MCP_SETTINGS;
  try {
    const call = await wsCaller(`ws://${ws.address}/`);
    for (let i = 0; i < s.facts; i++) {
      const topic = TOPICS[i % TOPICS.length]!;
      await call('memory.add_fact', { subject: `${topic}_${i}`, body: `note ${i} about the ${topic} service and its ${TOPICS[(i * 7) % TOPICS.length]} setup` });
    }

    const init = await post(agent, url, {}, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } });
    const session = init.session!;
    const h = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' };
    await post(agent, url, h, { jsonrpc: '2.0', method: 'notifications/initialized' });
    let id = 1;
    const raw = async (): Promise<void> => {
      const r = await post(agent, url, h, { jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: 'memory_query', arguments: { query: QUERY, k: 5 } } });
      if (r.status !== 200 || r.text.includes('"isError":true')) throw new Error(`tools/call failed: ${r.status} ${r.text.slice(0, 200)}`);
    };
    const client = new Client({ name: 'bench', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(url));
    const sdk = async (): Promise<void> => {
      const r = await client.callTool({ name: 'memory_query', arguments: { query: QUERY, k: 5 } });
      if (r.isError) throw new Error('memory_query failed');
    };
    const viaWs = (): Promise<unknown> => call('memory.query', { query: QUERY, k: 5 });

    log(`mcp: ${s.rounds} memory_query round trips each way over ${s.facts} facts`);
    for (const fn of [viaWs, raw, sdk]) await timed(s.warmup, fn);
    const results: [string, number[]][] = [
      ['WS memory.query (baseline)', await timed(s.rounds, viaWs)],
      ['MCP tools/call, raw HTTP POST', await timed(s.rounds, raw)],
      ['MCP tools/call, SDK client', await timed(s.rounds, sdk)],
    ];
    const base = percentile(results[0]![1], 0.5);
    for (const [name, samples] of results) {
      const p50 = percentile(samples, 0.5);
      rows.push([name, p50.toFixed(2), percentile(samples, 0.99).toFixed(2), formatRatio(p50 / base)]);
    }
    await client.close();
    (call as unknown as { close(): void }).close();
  } catch (err) {
    log(`mcp bench failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    agent.destroy();
    await mcp.close();
    await state.close(undefined, undefined, 2000);
    await ws.close();
  }
  if (rows.length > 0) {
    console.log(`\n${formatTable(['memory_query round trip, same daemon', 'p50 ms', 'p99 ms', 'p50 vs WS'], rows, ['left', 'right', 'right', 'right'])}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runMcpBench().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
