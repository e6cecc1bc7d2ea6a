import assert from 'node:assert/strict';
import test from 'node:test';
import { WebSocket } from 'ws';
import { rawClient } from '../helpers/raw-client.js';
import { AUTH_TOKEN, startServer } from '../helpers/server.js';

const SUBSCRIBERS = 200;
const EVENTS = 2000;
const BATCH = 100;

/** A bare host subscriber that only counts `load` events and checks their sequence has no gap. */
class CountingSubscriber {
  count = 0;
  gaps = 0;
  last = -1;
  private constructor(readonly ws: WebSocket) {}

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
        sub.count++;
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

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

test(`load: ${SUBSCRIBERS} subscribers (one never reads), ${EVENTS} events → only the stalled one may miss events; dispatch stays responsive`, async () => {
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

    const probeOnce = async (): Promise<number> => {
      const t0 = performance.now();
      await probe.result('host.agents', {});
      return performance.now() - t0;
    };
    const baseline: number[] = [];
    for (let i = 0; i < 30; i++) baseline.push(await probeOnce());

    const during: number[] = [];
    let emitting = true;
    const probing = (async () => {
      while (emitting) {
        during.push(await probeOnce());
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    for (let sent = 0; sent < EVENTS; sent += BATCH) {
      await Promise.all(Array.from({ length: BATCH }, (_, i) => emitter.result('host.notify', { kind: 'load', message: String(sent + i) })));
    }
    const deadline = Date.now() + 30_000;
    while (healthy.some((s) => s.count < EVENTS) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    emitting = false;
    await probing;

    for (const [i, s] of healthy.entries()) {
      assert.equal(s.count, EVENTS, `subscriber ${i + 1} got ${s.count}`);
      assert.equal(s.gaps, 0, `subscriber ${i + 1} saw a sequence gap`);
    }
    assert.ok(stalled.count <= EVENTS);
    const p50Base = percentile(baseline, 50);
    const p50During = percentile(during, 50);
    const p90During = percentile(during, 90);
    console.log(`probe latency ms: baseline p50 ${p50Base.toFixed(2)}, during p50 ${p50During.toFixed(2)} p90 ${p90During.toFixed(2)} (n=${during.length})`);
    // Generous bound (2-core box shared with other test runs): the fan-out is sliced, so a request
    // never waits behind a whole burst of deliveries.
    assert.ok(p50During < Math.max(50, p50Base * 25), `dispatch p50 ${p50During} ms under load vs ${p50Base} ms idle`);
  } finally {
    for (const s of subs) s.ws.terminate();
    await server.close();
  }
});
