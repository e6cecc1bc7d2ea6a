import { connect, FRAMES_SETTINGS, loadKinds, type LoadKind } from './frames.js';

/**
 * The loading connection of the frames bench, in a process of its own so that building, masking
 * and reading its big frames never delays the healthy client being measured. `<url> <kind>`;
 * stops on the message 'stop' and answers with how many big frames or replies went through.
 */
const [url, kind] = process.argv.slice(2) as [string, LoadKind];
if (!url || !loadKinds.includes(kind)) throw new Error(`usage: frames-load <url> <${loadKinds.join('|')}>`);
let stopped = false;
let count = 0;
process.on('message', (msg) => {
  if (msg === 'stop') stopped = true;
});
process.on('disconnect', () => process.exit(0));

const c = await connect(url);
const s = FRAMES_SETTINGS;
let send: () => Promise<unknown>;
if (kind === 'replies') {
  const item = { a: 1234, b: 'yy', c: [1, 2] };
  const value = Array(Math.floor(s.replyBytes / (JSON.stringify(item).length + 1))).fill(item);
  await c.call('state.set', { key: 'big', value });
  send = () => c.call('state.get', { key: 'big' });
} else {
  const frame = bigFrame(kind, s.frameBytes);
  send = () => c.send(frame);
}
process.send?.('ready');
await Promise.all(
  Array.from({ length: s.inFlight }, async () => {
    while (!stopped) {
      await send();
      count++;
    }
  }),
);
c.ws.close();
process.send?.({ count });

/** A frame of `bytes` bytes: one long string, or many small objects, as `host.agents` params. */
function bigFrame(shape: 'string' | 'objects', bytes: number): Buffer {
  const head = '{"jsonrpc":"2.0","id":0,"method":"host.agents","params":{"blob":';
  const tail = '}}';
  const room = bytes - head.length - tail.length;
  if (shape === 'string') return Buffer.from(`${head}"${'x'.repeat(room - 2)}"${tail}`);
  const item = '{"a":1234,"b":"yy","c":[1,2]}';
  const n = Math.floor((room - 2) / (item.length + 1));
  return Buffer.from(`${head}[${Array(n).fill(item).join(',')}]${tail}`);
}
