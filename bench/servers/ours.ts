import { z } from 'zod';
import { defineMethod, listenTcp, listenUnix, ServerState, ServerStateConfig } from '../../src/index.js';
import { ASYNC_GET_METHOD, CALLBACK_METHOD } from '../protocol.js';
import { serveChild, tcpUrl, unixUrl } from './child.js';

/**
 * The daemon core as an embedder runs it: auth off, the built-in methods, plus two embedder
 * methods: one drives `count` server→client `tools.execute` callbacks with `concurrency` in
 * flight, the other answers like `state.get` from an async handler.
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

const benchGetAsync = defineMethod({
  name: ASYNC_GET_METHOD,
  summary: "Benchmark: state.get's answer from an async handler.",
  params: z.object({ key: z.string() }),
  handler: async (p, ctx) => ctx.session.state.view().get(p.key),
});

serveChild('ours', async (spec) => {
  const state = ServerState.embedded(new ServerStateConfig({ authToken: null }).withMethods(benchCallbacks, benchGetAsync));
  if (spec.transport === 'uds') {
    await listenUnix(state, spec.socketPath);
    return { url: unixUrl(spec.socketPath) };
  }
  const listener = await listenTcp(state, { host: '127.0.0.1', port: 0 });
  if (listener.port === undefined) throw new Error('listenTcp returned no port');
  return { url: tcpUrl(listener.port) };
});
