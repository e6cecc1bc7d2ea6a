import assert from 'node:assert/strict';
import test from 'node:test';
import { WebSocket } from 'ws';
import { rawClient, withTimeout } from '../helpers/raw-client.js';
import { AUTH_TOKEN, startServer } from '../helpers/server.js';
import { scaled } from '../helpers/timing.js';

const SUBSCRIBERS = 200;
const EVENTS = 2000;
const BATCH = 100;

/** A bare host subscriber that only counts `load` events and checks their sequence has no gap. */
class CountingSubscriber {
  count = 0;
  gaps = 0;
  last = -1;
  /** Resolves once `EVENTS` load events arrived. */
  readonly all: Promise<void>;
  private reached!: () => void;
  private constructor(readonly ws: WebSocket) {
    this.all = new Promise((resolve) => (this.reached = resolve));
  }

  static async open(url: string): Promise<CountingSubscriber> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const sub = new CountingSubscriber(ws);
    const replies = new Map<number, (v: unknown) => void>();
    ws.on('message', (data) => {
      const text = (data as Buffer).toString('utf8');
      if (text.includes('"kind":"load"')) {
        const seq = Number(/"sequence":(\d+)/.exec(text)?.[1]);
        if (sub.last >= 0 && seq !== sub.last + 1) sub.gaps++;
        sub.last = seq;
        if (++sub.count === EVENTS) sub.reached();
        return;
      }
      const frame = JSON.parse(text) as { id?: number };
      if (typeof frame.id === 'number') replies.get(frame.id)?.(frame);
    });
    const call = (id: number, method: string, params: unknown): Promise<unknown> =>
      new Promise((resolve) => {
        replies.set(id, resolve);
        ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      });
    await call(1, 'session.auth', { token: AUTH_TOKEN });
    await call(2, 'server.handshake', { protocol_version: 2 });
    await call(3, 'host.subscribe', {});
    return sub;
  }
}

// How fast dispatch answers during the fan-out is a bench figure (bench/host.ts); here, what must hold.
test(`load: ${SUBSCRIBERS} subscribers (one never reads), ${EVENTS} events → only the stalled one may miss events; requests are answered during the fan-out`, async () => {
  const server = await startServer({ maxInFlightPerConnection: 1024 });
  const subs: CountingSubscriber[] = [];
  try {
    for (let i = 0; i < SUBSCRIBERS; i += 20) {
      subs.push(...(await Promise.all(Array.from({ length: Math.min(20, SUBSCRIBERS - i) }, () => CountingSubscriber.open(server.url)))));
    }
    const stalled = subs[0]!;
    // Stop reading from the socket: the daemon sees a client that never drains its frames.
    (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const healthy = subs.slice(1);

    const emitter = await server.authed();
    const probe = await rawClient(server.url);
    server.clients.push(probe);
    await probe.result('session.auth', { token: AUTH_TOKEN });

    let answered = 0;
    let emitting = true;
    const probing = (async () => {
      while (emitting) {
        await probe.result('host.agents', {});
        answered++;
      }
    })();
    for (let sent = 0; sent < EVENTS; sent += BATCH) {
      await Promise.all(Array.from({ length: BATCH }, (_, i) => emitter.result('host.notify', { kind: 'load', message: String(sent + i) })));
    }
    await withTimeout(Promise.all(healthy.map((s) => s.all)), scaled(120_000), 'every healthy subscriber to get every event');
    emitting = false;
    await probing;

    for (const [i, s] of healthy.entries()) {
      assert.equal(s.count, EVENTS, `subscriber ${i + 1} got ${s.count}`);
      assert.equal(s.gaps, 0, `subscriber ${i + 1} saw a sequence gap`);
    }
    assert.ok(stalled.count <= EVENTS);
    assert.ok(answered > 0, 'requests were answered while the events were fanned out');
  } finally {
    for (const s of subs) s.ws.terminate();
    await server.close();
  }
});
