import { z } from 'zod';
import { defineMethod, listenTcp, listenUnix, ServerState, ServerStateConfig } from '../../src/index.js';
import { ASYNC_GET_METHOD, CALLBACK_LIST_METHOD, CALLBACK_METHOD } from '../protocol.js';
import { serveChild, tcpUrl, unixUrl } from './child.js';

/**
 * The daemon core as an embedder runs it: auth off, the built-in methods, plus three embedder
 * methods: one drives `count` server→client `tools.execute` callbacks with `concurrency` in
 * flight, one does the same for a listed set of calls and answers with proposal-shaped result
 * rows, the last answers like `state.get` from an async handler.
 */
const benchCallbacks = defineMethod({
  name: CALLBACK_METHOD,
  summary: 'Benchmark: call the client back count times, concurrency at a time.',
  params: z.object({ count: z.number().int().nonnegative(), concurrency: z.number().int().positive() }),
  handler: async (p, ctx) => {
    const executor = ctx.session.toolExecutor;
    let next = 0;
    let failures = 0;
    const worker = async (): Promise<void> => {
      while (next < p.count) {
        const i = next++;
        const outcome = await executor.execute({ tool: 'echo', parameters: { i } });
        if (!outcome.ok) failures++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(p.concurrency, p.count) }, worker));
    if (failures > 0) throw new Error(`${failures} of ${p.count} callbacks failed`);
    return p.count;
  },
});

let isoMs = -1;
let isoText = '';
/** The current time as RFC 3339, formatted once per millisecond (as the executor does). */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

const benchCallbackList = defineMethod({
  name: CALLBACK_LIST_METHOD,
  summary: 'Benchmark: call the client back once per listed call and answer with result rows, without the executor.',
  params: z.object({
    id: z.string(),
    calls: z.array(z.object({ id: z.string(), tool: z.string(), parameters: z.record(z.string(), z.unknown()) })),
    concurrency: z.number().int().positive(),
  }),
  handler: async (p, ctx) => {
    const started = performance.now();
    const executor = ctx.session.toolExecutor;
    const sessionId = ctx.session.policies.runtimeSessionId;
    const results = new Array<Record<string, unknown>>(p.calls.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < p.calls.length) {
        const i = next++;
        const call = p.calls[i]!;
        const t0 = performance.now();
        const outcome = await executor.execute({ tool: call.tool, parameters: call.parameters, actionId: call.id, attempt: 1, sessionId }, ctx.signal);
        results[i] = {
          action_id: call.id,
          status: outcome.ok ? 'succeeded' : 'failed',
          output: outcome.ok ? outcome.output : null,
          error: outcome.ok ? null : outcome.error,
          state_changes: {},
          duration_ms: Math.round((performance.now() - t0) * 1000) / 1000,
          timestamp: isoNow(),
        };
      }
    };
    await Promise.all(Array.from({ length: Math.min(p.concurrency, p.calls.length) }, worker));
    const ok = results.filter((r) => r.status === 'succeeded').length;
    const cost = {
      tool_calls: p.calls.length,
      actions_executed: p.calls.length,
      actions_rejected: 0,
      actions_skipped: 0,
      total_duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      retries: 0,
    };
    if (ok !== p.calls.length) throw new Error(`${p.calls.length - ok} of ${p.calls.length} callbacks failed`);
    return { proposal_id: p.id, results, cost };
  },
});

const benchGetAsync = defineMethod({
  name: ASYNC_GET_METHOD,
  summary: "Benchmark: state.get's answer from an async handler.",
  params: z.object({ key: z.string() }),
  handler: async (p, ctx) => ctx.session.state.view().get(p.key),
});

serveChild('ours', async (spec) => {
  const state = ServerState.embedded(new ServerStateConfig({ authToken: null }).withMethods(benchCallbacks, benchCallbackList, benchGetAsync));
  if (spec.transport === 'uds') {
    await listenUnix(state, spec.socketPath);
    return { url: unixUrl(spec.socketPath) };
  }
  const listener = await listenTcp(state, { host: '127.0.0.1', port: 0 });
  if (listener.port === undefined) throw new Error('listenTcp returned no port');
  return { url: tcpUrl(listener.port) };
});
