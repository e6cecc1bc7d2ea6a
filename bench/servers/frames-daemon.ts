import { listenTcp, ServerState, ServerStateConfig } from '../../src/index.js';
import { serveChild, tcpUrl } from './child.js';

/**
 * The daemon for the frames bench: auth off, defaults otherwise. BENCH_FRAME_PARSE=inline turns
 * the parser threads off (`maxFrameParseWorkers: 0`), to show what every frame parsed on the
 * main thread costs the other connections.
 */
serveChild('frames-daemon', async () => {
  const inline = process.env.BENCH_FRAME_PARSE === 'inline';
  const state = ServerState.embedded(new ServerStateConfig({ authToken: null, maxFrameParseWorkers: inline ? 0 : 2 }));
  const listener = await listenTcp(state, { host: '127.0.0.1', port: 0 });
  if (listener.port === undefined) throw new Error('listenTcp returned no port');
  return { url: tcpUrl(listener.port) };
});
