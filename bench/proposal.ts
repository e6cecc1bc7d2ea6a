import type { Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { WebSocket, type RawData } from 'ws';
import { errorMessage, log } from './log.js';
import { CALLBACK_LIST_METHOD, CALLBACK_METHOD, HANDSHAKE_PARAMS } from './protocol.js';
import { best, spread } from './stats.js';
import { formatNumber, formatTable } from './table.js';
import type { Target } from './targets.js';

/**
 * Executor overhead against our own daemon, measured in one run against the raw callback path:
 * (1) a proposal of independent instant tool calls vs the same number of pipelined
 * `bench.callbacks` callbacks at the executor's concurrency cap, and vs `bench.callback_list`,
 * which carries the proposal's bytes both ways (the same calls in, result rows of the same shape
 * out) with no executor; (2) a dependency chain vs the same number of callbacks one at a time.
 * The client answers every `tools.execute` at once.
 */

export const PROPOSAL_SETTINGS = {
  wideActions: 1000,
  /** The daemon's default maxActionConcurrency, so both sides keep as many callbacks in flight. */
  concurrency: 64,
  chainDepth: 200,
  warmupRounds: 5,
  rounds: 15,
  /** proposal time / raw callbacks time */
  targetWideRatio: 1.5,
  /** per-action µs beyond one callback round trip */
  targetChainOverheadUs: 50,
  timeoutMs: 30_000,
} as const;

interface Inbound {
  id?: unknown;
  method?: unknown;
  params?: { request_id?: unknown; parameters?: { i?: unknown } };
  result?: unknown;
  error?: { code: number; message: string };
}

/** One connection that answers every `tools.execute` at once and can make ordinary calls. */
class AnsweringClient {
  private nextId = 1;
  private readonly pending = new Map<number, (msg: Inbound) => void>();
  private corked = false;
  answered = 0;

  private constructor(
    private readonly ws: WebSocket,
    private readonly socket: Socket | undefined,
  ) {
    ws.on('message', (data: RawData) => this.onMessage(data));
  }

  static connect(url: string): Promise<AnsweringClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, generateMask: (mask: Buffer) => mask.fill(0) });
    let socket: Socket | undefined;
    ws.once('upgrade', (res: IncomingMessage) => {
      socket = res.socket as Socket;
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        ws.off('error', reject);
        ws.on('error', () => undefined);
        resolve(new AnsweringClient(ws, socket));
      });
      ws.once('error', reject);
    });
  }

  close(): void {
    this.ws.terminate();
  }

  call(method: string, params: unknown, timeoutMs = PROPOSAL_SETTINGS.timeoutMs): Promise<unknown> {
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

  /** Answers written in reaction to one inbound chunk leave in one write, as in client.ts. */
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket?.uncork();
  };

  private onMessage(data: RawData): void {
    if (!this.corked && this.socket !== undefined) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    const msg = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8')) as Inbound;
    if (msg.method === 'tools.execute') {
      this.answered++;
      this.ws.send(`{"jsonrpc":"2.0","id":${JSON.stringify(msg.id)},"result":{"ok":true,"i":${JSON.stringify(msg.params?.parameters?.i ?? null)}}}`);
      return;
    }
    if (typeof msg.id !== 'number') return;
    const handler = this.pending.get(msg.id);
    if (handler === undefined) return;
    this.pending.delete(msg.id);
    handler(msg);
  }
}

function wideProposal(n: number): { id: string; actions: { id: string; type: string; tool: string; parameters: { i: number } }[] } {
  return { id: 'bench-wide', actions: Array.from({ length: n }, (_, i) => ({ id: `a${i}`, type: 'tool_call', tool: 'echo', parameters: { i } })) };
}

function chainProposal(n: number): unknown {
  return {
    id: 'bench-chain',
    actions: Array.from({ length: n }, (_, i) => ({
      id: `c${i}`,
      type: 'tool_call',
      tool: 'echo',
      parameters: { i },
      dependencies: i === 0 ? [] : [`c${i - 1}`],
    })),
  };
}

interface SubmitResult {
  results: { status: string }[];
  cost: { tool_calls: number };
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export interface ProposalBenchResult {
  /** Best milliseconds per round. */
  wideProposalMs: number;
  wideRawMs: number;
  /** The same calls and result rows through a plain method: the proposal's payload without the executor. */
  wideListMs: number;
  chainProposalMs: number;
  chainRawMs: number;
  spreads: { wideProposal: number; wideRaw: number; wideList: number; chainProposal: number; chainRaw: number };
}

export async function measureProposals(url: string): Promise<ProposalBenchResult> {
  const s = PROPOSAL_SETTINGS;
  const client = await AnsweringClient.connect(url);
  try {
    await client.call('server.handshake', { ...HANDSHAKE_PARAMS });
    await client.call('session.init', { tools: [{ name: 'echo', description: 'answers at once' }] });
    const wide = wideProposal(s.wideActions);
    const chain = chainProposal(s.chainDepth);
    const submit = async (proposal: unknown, n: number): Promise<void> => {
      const r = (await client.call('proposal.submit', { proposal })) as SubmitResult;
      const ok = r.results.filter((x) => x.status === 'succeeded').length;
      if (ok !== n || r.cost.tool_calls !== n) throw new Error(`proposal: ${ok} of ${n} actions succeeded, ${r.cost.tool_calls} tool calls`);
    };
    const raw = async (count: number, concurrency: number): Promise<void> => {
      const r = await client.call(CALLBACK_METHOD, { count, concurrency });
      if (r !== count) throw new Error(`${CALLBACK_METHOD} returned ${JSON.stringify(r)}`);
    };
    const list = async (): Promise<void> => {
      const r = (await client.call(CALLBACK_LIST_METHOD, { id: wide.id, calls: wide.actions, concurrency: s.concurrency })) as SubmitResult;
      if (r.results.length !== s.wideActions || r.cost.tool_calls !== s.wideActions) throw new Error(`${CALLBACK_LIST_METHOD} answered ${r.results.length} rows`);
    };
    const rounds = { wideProposal: [] as number[], wideRaw: [] as number[], wideList: [] as number[], chainProposal: [] as number[], chainRaw: [] as number[] };
    const steps: [keyof typeof rounds, () => Promise<void>][] = [
      ['wideRaw', () => raw(s.wideActions, s.concurrency)],
      ['wideList', list],
      ['wideProposal', () => submit(wide, s.wideActions)],
      ['chainRaw', () => raw(s.chainDepth, 1)],
      ['chainProposal', () => submit(chain, s.chainDepth)],
    ];
    log(`proposals: ${s.warmupRounds} warm-up rounds, ${s.rounds} measured`);
    for (let round = 0; round < s.warmupRounds + s.rounds; round++) {
      // Rotate which figure goes first, as the other phases do.
      for (let k = 0; k < steps.length; k++) {
        const [name, step] = steps[(k + round) % steps.length] as (typeof steps)[number];
        const ms = await timed(step);
        if (round >= s.warmupRounds) rounds[name].push(ms);
      }
    }
    return {
      wideProposalMs: best(rounds.wideProposal, false),
      wideRawMs: best(rounds.wideRaw, false),
      wideListMs: best(rounds.wideList, false),
      chainProposalMs: best(rounds.chainProposal, false),
      chainRawMs: best(rounds.chainRaw, false),
      spreads: {
        wideProposal: spread(rounds.wideProposal),
        wideRaw: spread(rounds.wideRaw),
        wideList: spread(rounds.wideList),
        chainProposal: spread(rounds.chainProposal),
        chainRaw: spread(rounds.chainRaw),
      },
    };
  } finally {
    client.close();
  }
}

export function proposalSection(r: ProposalBenchResult): string {
  const s = PROPOSAL_SETTINGS;
  const pct = (v: number): string => `${(v * 100).toFixed(0)}%`;
  const wideRatio = r.wideProposalMs / r.wideRawMs;
  const overheadUs = ((r.chainProposalMs - r.chainRawMs) / s.chainDepth) * 1000;
  const table = formatTable(
    ['figure', 'best ms', 'spread'],
    [
      [`proposal: ${s.wideActions} independent tool calls (cap ${s.concurrency})`, formatNumber(r.wideProposalMs), pct(r.spreads.wideProposal)],
      [`raw: ${s.wideActions} callbacks (c=${s.concurrency})`, formatNumber(r.wideRawMs), pct(r.spreads.wideRaw)],
      [`same calls and result rows, no executor (c=${s.concurrency})`, formatNumber(r.wideListMs), pct(r.spreads.wideList)],
      [`proposal: ${s.chainDepth}-deep dependency chain`, formatNumber(r.chainProposalMs), pct(r.spreads.chainProposal)],
      [`raw: ${s.chainDepth} callbacks one at a time`, formatNumber(r.chainRawMs), pct(r.spreads.chainRaw)],
    ],
    ['left', 'right', 'right'],
  );
  return [
    `executor overhead vs raw callbacks (ours/tcp, best of ${s.rounds} rounds after ${s.warmupRounds} warm-up)`,
    table,
    `${wideRatio <= s.targetWideRatio ? 'PASS' : 'MISS'}  ${s.wideActions}-call proposal / raw callbacks <= ${s.targetWideRatio.toFixed(2)}x: ${wideRatio.toFixed(2)}x`,
    `      ${s.wideActions}-call proposal / the same calls and result rows without the executor: ${(r.wideProposalMs / r.wideListMs).toFixed(2)}x; that payload alone / raw callbacks: ${(r.wideListMs / r.wideRawMs).toFixed(2)}x`,
    `${overheadUs <= s.targetChainOverheadUs ? 'PASS' : 'MISS'}  chain: executor overhead per action <= ${s.targetChainOverheadUs} us beyond one callback round trip: ${overheadUs.toFixed(1)} us`,
  ].join('\n');
}

/** Measure against the ours/tcp target and print the section; a failure is reported, not fatal. */
export async function runProposalBench(targets: readonly Target[]): Promise<void> {
  const ours = targets.find((t) => t.spec.name === 'ours' && t.transport === 'tcp' && t.failed === undefined);
  if (ours === undefined) {
    process.stdout.write('\nexecutor overhead: skipped (no ours/tcp target)\n');
    return;
  }
  try {
    process.stdout.write(`\n${proposalSection(await measureProposals(ours.child.url))}\n`);
  } catch (err) {
    process.stdout.write(`\nexecutor overhead: FAILED ${errorMessage(err)}\n`);
  }
}
