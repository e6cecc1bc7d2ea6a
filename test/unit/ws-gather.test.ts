import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import test, { afterEach, describe } from 'node:test';
import { WebSocket } from 'ws';
import { WsEndpoint, type FrameTransport } from '../../src/index.js';
import type { WsTransport } from '../../src/transport/ws-transport.js';
import { waitFor } from '../helpers/raw-client.js';

/**
 * Frames a server connection sends in one event-loop turn go to its socket in groups of
 * `framesPerWrite` (`maxFramesPerWrite`): one system call per group, every frame delivered, in order.
 */

interface Harness {
  transport: WsTransport;
  /** Socket writes (system-call batches) the server side has made so far. */
  writes: () => number;
  received: string[];
  /** Whether the server side saw its connection close. */
  closed: () => boolean;
}

const servers: Server[] = [];
const clients: WebSocket[] = [];

afterEach(() => {
  for (const c of clients.splice(0)) c.terminate();
  for (const s of servers.splice(0)) s.close();
});

async function connect(framesPerWrite: number, maxOutboundBufferedBytes = 32 * 1024 * 1024): Promise<Harness> {
  let serverSide: FrameTransport | undefined;
  const endpoint = new WsEndpoint({ maxPayloadBytes: 1 << 24, maxFragments: 64, maxBufferedChunks: 4096, maxOutboundBufferedBytes, heartbeatIntervalMs: 0, framesPerWrite }, (t) => {
    serverSide = t;
  });
  const server = createServer();
  servers.push(server);
  endpoint.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, { perMessageDeflate: false });
  clients.push(client);
  const received: string[] = [];
  client.on('message', (data) => received.push(String(data)));
  await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
  await waitFor(() => serverSide !== undefined, undefined, 'the server side of the connection');
  const transport = serverSide as WsTransport;
  let closed = false;
  transport.onclose = () => {
    closed = true;
  };
  // Count the socket's writes: each is one write(2)/writev(2) of whatever was handed over together.
  const socket = (transport.ws as unknown as { _socket: Socket & { _writev: Function; _write: Function } })._socket;
  let writes = 0;
  for (const name of ['_writev', '_write'] as const) {
    const original = socket[name].bind(socket);
    socket[name] = (...args: unknown[]) => {
      writes++;
      return original(...args);
    };
  }
  return { transport, writes: () => writes, received, closed: () => closed };
}

function frames(n: number, size = 16): string[] {
  return Array.from({ length: n }, (_, i) => `${i}:`.padEnd(size, 'x'));
}

describe('WsTransport gathers a turn\'s frames into few socket writes', () => {
  test('20 frames sent in one turn leave in groups of 8: 3 writes, all delivered in order', async () => {
    const h = await connect(8);
    const sent = frames(20);
    const before = h.writes();
    for (const f of sent) assert.equal(h.transport.send(f), true);
    await waitFor(() => h.received.length === sent.length, undefined, 'all 20 frames');
    assert.equal(h.writes() - before, 3);
    assert.deepEqual(h.received, sent);
  });

  test('at the bound: 8 frames are one write, the 9th starts the next', async () => {
    const h = await connect(8);
    let before = h.writes();
    for (const f of frames(8)) h.transport.send(f);
    await waitFor(() => h.received.length === 8, undefined, '8 frames');
    assert.equal(h.writes() - before, 1);
    before = h.writes();
    for (const f of frames(9)) h.transport.send(f);
    await waitFor(() => h.received.length === 17, undefined, '9 more frames');
    assert.equal(h.writes() - before, 2);
  });

  test('maxFramesPerWrite 1 writes every frame on its own', async () => {
    const h = await connect(1);
    const before = h.writes();
    for (const f of frames(5)) h.transport.send(f);
    await waitFor(() => h.received.length === 5, undefined, '5 frames');
    assert.equal(h.writes() - before, 5);
  });

  test('a frame of 64 KiB or more ends its group; binary frames are gathered with text ones, in order', async () => {
    const h = await connect(8);
    const before = h.writes();
    const big = 'B'.repeat(64 * 1024);
    h.transport.send('a');
    h.transport.send('b');
    h.transport.send(big);
    h.transport.send('c');
    h.transport.sendBinary!(Buffer.from('d'));
    await waitFor(() => h.received.length === 5, undefined, '5 frames');
    assert.equal(h.writes() - before, 2, 'a, b and the big frame in one write; c and d in the next');
    assert.deepEqual(h.received, ['a', 'b', big, 'c', 'd']);
  });

  test('frames held back in the corked socket do not count as unread: a reading client is not cut off', async () => {
    // Each frame fits the 32 KiB unread bound alone; held in one group, two are already over it.
    const h = await connect(8, 32 * 1024);
    const sent = frames(4, 20 * 1024);
    for (const f of sent) assert.equal(h.transport.send(f), true);
    await waitFor(() => h.received.length === sent.length, undefined, 'all 4 frames');
    assert.equal(h.closed(), false);
    assert.deepEqual(h.received, sent);
  });
});
