import { listenTcp, ServerState, ServerStateConfig } from '../../src/index.js';
import { serveChild, tcpUrl } from './child.js';

/** The daemon for the inference bench: auth off, models from BENCH_MODELS_PATH, a generous permit count. */
serveChild('inference-daemon', async () => {
  const modelsPath = process.env.BENCH_MODELS_PATH;
  if (!modelsPath) throw new Error('BENCH_MODELS_PATH is not set');
  const state = ServerState.embedded(new ServerStateConfig({ authToken: null, modelsPath, inferenceMaxConcurrent: 8 }));
  await state.inference.load();
  const listener = await listenTcp(state, { host: '127.0.0.1', port: 0 });
  if (listener.port === undefined) throw new Error('listenTcp returned no port');
  return { url: tcpUrl(listener.port) };
});
