import { WebSocket, WebSocketServer } from 'ws';
import { listenTcp, ServerState, ServerStateConfig } from '../src/index.js';
import { log } from './log.js';
import { percentile } from './stats.js';
import { formatRatio, formatTable } from './table.js';

/**
 * Agents bench, in process: the chat relay (an agent's `agent.chat.event` → the host's
 * `agents.chat.event`) per event against a bare `ws` relay forwarding the same frames, and
 * `multi.swarm` of 64 parallel agents against 64 raw server→client requests over bare `ws`.
 */
export const AGENTS_SETTINGS = { relayEvents: 20_000, relayRounds: 3, swarmAgents: 64, swarmWarmup: 30, swarmRounds: 100 } as const;

const TOKEN = 'bench';

function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** A minimal JSON-RPC peer for the bench: calls with ids, and a hook for every other frame. */
function peer(ws: WebSocket, onOther: (frame: any, raw: string) => void = () => {}) {
  let next = 1;
  const replies = new Map<number, (f: any) => void>();
  ws.on('message', (data) => {
    const raw = (data as Buffer).toString('utf8');
    const frame = JSON.parse(raw);
    if (typeof frame.id === 'number' && frame.method === undefined && replies.has(frame.id)) {
      replies.get(frame.id)!(frame);
      replies.delete(frame.id);
      return;
    }
    onOther(frame, raw);
  });
  return (method: string, params: unknown): Promise<any> =>
    new Promise((resolve) => {
      const id = next++;
      replies.set(id, resolve);
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
}

const tokenFrame = (sessionId: string, i: number): string =>
  JSON.stringify({ jsonrpc: '2.0', method: 'agent.chat.event', params: { session_id: sessionId, kind: 'token', delta: { text: `t${i} ` } } });
const doneFrame = (sessionId: string): string =>
  JSON.stringify({ jsonrpc: '2.0', method: 'agent.chat.event', params: { session_id: sessionId, kind: 'done', delta: { text: 'end' } } });

/** Microseconds per event from the host's view: first frame sent until `done` arrived, over N events. */
async function relayThroughDaemon(state: ServerState, url: string): Promise<number> {
  const n = AGENTS_SETTINGS.relayEvents;
  await state.agents.upsert({ id: 'bench-agent', command: process.execPath });
  const agentWs = await open(url);
  const agentCall = peer(agentWs, (frame) => {
    if (frame.method !== 'agent.chat') return;
    agentWs.send(JSON.stringify({ jsonrpc: '2.0', id: frame.id, result: { accepted: true } }));
    const sid = frame.params.session_id as string;
    for (let i = 0; i < n; i++) agentWs.send(tokenFrame(sid, i));
    agentWs.send(doneFrame(sid));
  });
  await agentCall('session.auth', { token: state.agents.tokenFor('bench-agent'), agent_id: 'bench-agent' });
  const hostWs = await open(url);
  let onDone: (() => void) | null = null;
  let seen = 0;
  const hostCall = peer(hostWs, (frame) => {
    if (frame.method !== 'agents.chat.event') return;
    seen++;
    if (frame.params.kind === 'done') onDone?.();
  });
  await hostCall('session.auth', { token: TOKEN });
  const samples: number[] = [];
  for (let round = 0; round < AGENTS_SETTINGS.relayRounds; round++) {
    seen = 0;
    const done = new Promise<void>((r) => (onDone = r));
    const t0 = performance.now();
    const ack = await hostCall('agents.chat', { agent_id: 'bench-agent', prompt: 'go', session_id: `bench-${round}` });
    if (ack.error) throw new Error(`agents.chat: ${ack.error.message}`);
    await done;
    samples.push(((performance.now() - t0) * 1000) / (n + 1));
    if (seen !== n + 1) throw new Error(`relay lost events: ${seen} of ${n + 1}`);
  }
  agentWs.terminate();
  hostWs.terminate();
  return Math.min(...samples);
}

/** The same frames through a bare `ws` server that forwards every message from the agent to the host. */
async function relayBare(): Promise<number> {
  const n = AGENTS_SETTINGS.relayEvents;
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = (wss.address() as { port: number }).port;
  const sockets: WebSocket[] = [];
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.on('message', (data) => {
      const target = sockets[0] === ws ? sockets[1] : sockets[0];
      target?.send((data as Buffer).toString('utf8'));
    });
  });
  const agent = await open(`ws://127.0.0.1:${port}`);
  await new Promise((r) => setImmediate(r));
  const host = await open(`ws://127.0.0.1:${port}`);
  await new Promise((r) => setImmediate(r));
  const samples: number[] = [];
  for (let round = 0; round < AGENTS_SETTINGS.relayRounds; round++) {
    let seen = 0;
    const done = new Promise<void>((resolve) => {
      host.removeAllListeners('message');
      host.on('message', (data) => {
        const frame = JSON.parse((data as Buffer).toString('utf8'));
        seen++;
        if (frame.params?.kind === 'done') resolve();
      });
    });
    const t0 = performance.now();
    for (let i = 0; i < n; i++) agent.send(tokenFrame('bare', i));
    agent.send(doneFrame('bare'));
    await done;
    samples.push(((performance.now() - t0) * 1000) / (n + 1));
    if (seen !== n + 1) throw new Error(`bare relay lost events: ${seen}`);
  }
  agent.terminate();
  host.terminate();
  await new Promise<void>((r) => wss.close(() => r()));
  return Math.min(...samples);
}

const agentSpec = (i: number) => ({ name: `a${i}`, system_prompt: '', tools: [], max_turns: 1, metadata: {} });

/** Milliseconds per `multi.swarm` of N parallel agents, answered at once by the caller (median of rounds). */
async function swarmThroughDaemon(url: string): Promise<number> {
  const ws = await open(url);
  const call = peer(ws, (frame) => {
    if (frame.method !== 'multi.run_agent') return;
    const name = frame.params.spec.name as string;
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: frame.id, result: { name, answer: 'ok', turns: 1, tool_calls: 0, duration_ms: 0, error: null } }));
  });
  await call('session.auth', { token: TOKEN });
  const agents = Array.from({ length: AGENTS_SETTINGS.swarmAgents }, (_, i) => agentSpec(i));
  const samples: number[] = [];
  for (let round = 0; round < AGENTS_SETTINGS.swarmWarmup + AGENTS_SETTINGS.swarmRounds; round++) {
    const t0 = performance.now();
    const reply = await call('multi.swarm', { mode: 'parallel', agents, task: 'bench' });
    if (reply.error) throw new Error(`multi.swarm: ${reply.error.message}`);
    if (round >= AGENTS_SETTINGS.swarmWarmup) samples.push(performance.now() - t0);
  }
  ws.terminate();
  return percentile(samples, 0.5);
}

/** The same N server→client requests and replies over bare `ws`: the floor a swarm cannot go below. */
async function swarmBare(): Promise<number> {
  const n = AGENTS_SETTINGS.swarmAgents;
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = (wss.address() as { port: number }).port;
  const serverSide = new Promise<WebSocket>((r) => wss.once('connection', r));
  const client = await open(`ws://127.0.0.1:${port}`);
  client.on('message', (data) => {
    const frame = JSON.parse((data as Buffer).toString('utf8'));
    client.send(JSON.stringify({ jsonrpc: '2.0', id: frame.id, result: { name: frame.params.spec.name, answer: 'ok', turns: 1, tool_calls: 0, duration_ms: 0, error: null } }));
  });
  const server = await serverSide;
  const samples: number[] = [];
  for (let round = 0; round < AGENTS_SETTINGS.swarmWarmup + AGENTS_SETTINGS.swarmRounds; round++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      let left = n;
      server.removeAllListeners('message');
      server.on('message', (data) => {
        JSON.parse((data as Buffer).toString('utf8'));
        if (--left === 0) resolve();
      });
      for (let i = 0; i < n; i++) server.send(JSON.stringify({ jsonrpc: '2.0', id: `cb-${i}`, method: 'multi.run_agent', params: { spec: agentSpec(i), task: 'bench' } }));
    });
    if (round >= AGENTS_SETTINGS.swarmWarmup) samples.push(performance.now() - t0);
  }
  client.terminate();
  await new Promise<void>((r) => wss.close(() => r()));
  return percentile(samples, 0.5);
}

export async function runAgentsBench(): Promise<void> {
  const state = ServerState.embedded(new ServerStateConfig({ authToken: TOKEN, heartbeatIntervalMs: 0 }));
  const listener = await listenTcp(state, { host: '127.0.0.1', port: 0 });
  const url = `ws://${listener.address}/`;
  const rows: string[][] = [];
  try {
    log('agents: chat relay');
    const bare = await relayBare();
    const relayed = await relayThroughDaemon(state, url);
    rows.push([`chat relay, per event (${AGENTS_SETTINGS.relayEvents} tokens)`, relayed.toFixed(2), bare.toFixed(2), 'µs', formatRatio(relayed / bare)]);
    log('agents: multi.swarm');
    const rawSwarm = await swarmBare();
    const swarm = await swarmThroughDaemon(url);
    rows.push([`multi.swarm of ${AGENTS_SETTINGS.swarmAgents} parallel agents, p50`, swarm.toFixed(2), rawSwarm.toFixed(2), 'ms', formatRatio(swarm / rawSwarm)]);
  } catch (err) {
    log(`agents bench failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await state.close(undefined, undefined, 2000);
    await listener.close();
  }
  if (rows.length > 0) {
    console.log(`\n${formatTable(['agents', 'daemon', 'bare ws baseline', 'unit', 'ratio'], rows, ['left', 'right', 'right', 'left', 'right'])}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runAgentsBench().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
