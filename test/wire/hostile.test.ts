import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import test, { describe } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.js';
import { upgradeStatus, waitFor, type RawClient } from '../helpers/raw-client.js';
import { scaled } from '../helpers/timing.js';
import { prng } from '../helpers/prng.js';

/**
 * Hostile clients against one daemon: a bounded fuzz of every method in the table (generated from
 * it, so new methods are covered) and of raw frames, then amplification, big-state,
 * connection-flood and approval-flood. After each: the daemon is up, a healthy connection answers,
 * and the memory it retains (after a full collection) grew by less than a stated ceiling. `npm run fuzz` sets CAR_FUZZ_ROUNDS for a longer run.
 */

const ROUNDS = Number(process.env.CAR_FUZZ_ROUNDS ?? 2);
const MiB = 1024 * 1024;
/** Growth of retained memory each case may cause, well above what its bounds allow and far below the unbounded failure. */
const GROWTH_CEILING = 256 * MiB;

function junk(rand: () => number, depth = 0): unknown {
  const pick = Math.floor(rand() * (depth > 3 ? 7 : 10));
  switch (pick) {
    case 0: return null;
    case 1: return rand() < 0.5;
    case 2: return [0, -1, 1.5, 2 ** 53, -(2 ** 31), Number.MAX_SAFE_INTEGER][Math.floor(rand() * 6)];
    case 3: return ['', 'x', '../../etc/passwd', '\u0000nul', 'a'.repeat(70_000), '{"__proto__":1}', '/tmp'][Math.floor(rand() * 7)];
    case 4: return 'id-' + Math.floor(rand() * 1e6);
    case 5: return {};
    case 6: return [];
    case 7: return Array.from({ length: Math.floor(rand() * 4) }, () => junk(rand, depth + 1));
    default: {
      const keys = ['id', 'name', 'key', 'value', 'proposal', 'actions', 'path', 'run_id', 'agent_id', 'limit', 'token', 'tool', 'params', '__proto__', 'constructor'];
      const o: Record<string, unknown> = {};
      for (let i = 0; i < 1 + Math.floor(rand() * 4); i++) o[keys[Math.floor(rand() * keys.length)]!] = junk(rand, depth + 1);
      return o;
    }
  }
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/**
 * Memory the process still holds after a full collection: heap plus buffers. Client and daemon
 * share this process, so RSS would also count the garbage of the frames the test itself built;
 * a daemon that kept what it should have bounded shows here as surely.
 */
function retained(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}
const rss = (): number => process.memoryUsage().rss;

async function healthy(server: TestServer): Promise<void> {
  const c = await server.authed({ handshake: true });
  assert.equal(await c.result('state.set', { key: 'alive', value: 1 }), 'ok');
  assert.equal(await c.result('state.get', { key: 'alive' }), 1);
  await c.close();
}

async function fresh(server: TestServer): Promise<RawClient> {
  return server.authed({ handshake: true });
}

describe('hostile clients', () => {
  let server: TestServer;
  const figures: string[] = [];

  test('setup', async () => {
    server = await startServer({
      handlerTimeoutMs: scaled(3000),
      approvalGate: { enabled: true, methods: ['messages.send', 'mail.send'], timeoutMs: 50 },
      maxConnections: 200,
      maxUnauthenticatedConnections: 50,
      maxPendingApprovalsPerSession: 16,
    });
  });

  test('every method in the table survives malformed params', async (t) => {
    const names = server.state.methods.list().map((m) => m.name).filter((n) => !n.startsWith('test.'));
    assert.ok(names.length > 50, `${names.length} methods`);
    const before = retained();
    const rssBefore = rss();
    const rand = prng(0xca5);
    let c = await fresh(server);
    let calls = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of names) {
        if (!c.isOpen) c = await fresh(server);
        const params = round === 0 ? junk(rand) : { ...(junk(rand) as object), ...{ [JSON.stringify(junk(rand)) ?? 'k']: junk(rand) } };
        const reply = await c.call(name, params, { timeoutMs: scaled(10_000) }).catch((err: Error) => ({ lost: err.message }));
        calls++;
        if ('lost' in reply) {
          // Only a close the method asked for is acceptable (e.g. too many wrong tokens).
          assert.equal(c.isOpen, false, `${name}: no reply on an open connection (${reply.lost})`);
          continue;
        }
        assert.ok('result' in reply || (Number.isInteger(reply.error?.code) && typeof reply.error.message === 'string'), `${name}: ${JSON.stringify(reply).slice(0, 200)}`);
      }
    }
    await c.close();
    await healthy(server);
    figures.push(`fuzz: ${calls} calls over ${names.length} methods, retained +${((retained() - before) / MiB).toFixed(1)} MiB (RSS +${((rss() - rssBefore) / MiB).toFixed(1)} MiB)`);
    t.diagnostic(figures.at(-1)!);
  });

  test('malformed frames keep the connection and the daemon up', async (t) => {
    const c = await fresh(server);
    const rand = prng(0xf00);
    const frames = [
      '', '{', '[', 'null', '[]', '[[]]', '{"jsonrpc":"1.0"}', '{"jsonrpc":"2.0","id":{},"method":"x"}',
      '{"jsonrpc":"2.0","id":1,"method":42}', '{"jsonrpc":"2.0","id":1,"method":"state.get","params":"x"}',
      '\u0000\u0001\u0002', '{"a":' + '['.repeat(10_000), JSON.stringify(Array.from({ length: 101 }, () => 1)),
    ];
    for (let i = 0; i < 50 * ROUNDS; i++) frames.push(JSON.stringify(junk(rand)).slice(0, Math.floor(rand() * 200)));
    for (const f of frames) c.ws.send(f);
    assert.equal(await c.result('state.set', { key: 'after-garbage', value: true }), 'ok');
    assert.equal(c.isOpen, true);
    t.diagnostic(`frames: ${frames.length} malformed frames, connection still open`);
  });

  test('amplification: stalled subscribers and a flood of host.notify stay bounded', async (t) => {
    const before = retained();
    const rssBefore = rss();
    const stalled: RawClient[] = [];
    for (let i = 0; i < 20; i++) {
      const s = await fresh(server);
      await s.result('host.subscribe', {});
      s.ws.pause();
      stalled.push(s);
    }
    const reader = await fresh(server);
    await reader.result('host.subscribe', {});
    const publisher = await fresh(server);
    const payload = { blob: 'p'.repeat(64 * 1024) };
    for (let i = 0; i < 24 * 16; i++) {
      // 24 MiB of notifications, as in the report.
      publisher.send({ jsonrpc: '2.0', id: `a${i}`, method: 'host.notify', params: { payload } });
      if (i % 16 === 15) await publisher.next(scaled(30_000));
    }
    await publisher.result('state.exists', { key: 'k' });
    const grown = retained() - before;
    const rssGrown = rss() - rssBefore;
    figures.push(`amplification: 20 stalled subscribers + 24 MiB host.notify, retained +${(grown / MiB).toFixed(1)} MiB (RSS +${(rssGrown / MiB).toFixed(1)} MiB), ${server.state.host.overflowedSubscribers} subscribers dropped`);
    t.diagnostic(figures.at(-1)!);
    assert.ok(grown < GROWTH_CEILING, figures.at(-1));
    for (const s of stalled) s.ws.terminate();
    reader.ws.terminate();
    await healthy(server);
  });

  test('big state: one session cannot hold more than its bytes', async (t) => {
    const before = retained();
    const rssBefore = rss();
    const c = await fresh(server);
    const value = 'v'.repeat(4 * MiB - 16);
    let stored = 0;
    let refused = 0;
    for (let i = 0; i < 40; i++) {
      const r = await c.call('state.set', { key: `big${i}`, value }, { timeoutMs: scaled(30_000) });
      if ('result' in r) stored++;
      else {
        assert.equal(r.error.data.kind, 'limit');
        refused++;
      }
    }
    const grown = retained() - before;
    const rssGrown = rss() - rssBefore;
    figures.push(`big state: ${stored} × 4 MiB stored, ${refused} refused, retained +${(grown / MiB).toFixed(1)} MiB (RSS +${(rssGrown / MiB).toFixed(1)} MiB)`);
    t.diagnostic(figures.at(-1)!);
    assert.ok(stored <= 16 && refused > 0);
    assert.ok(grown < GROWTH_CEILING, figures.at(-1));
    await c.close();
    await healthy(server);
  });

  test('connection flood: past the caps upgrades get 503; a healthy connection keeps answering', async (t) => {
    const keep = await fresh(server);
    const opened = await Promise.allSettled(Array.from({ length: 260 }, () => server.connect()));
    const refused = opened.filter((o) => o.status === 'rejected' && /HTTP 503/.test(String(o.reason))).length;
    figures.push(`connection flood: 260 idle connections held, ${refused} refused with 503 (unauthenticated cap 50)`);
    t.diagnostic(figures.at(-1)!);
    assert.ok(refused >= 150, figures.at(-1));
    for (const o of opened) if (o.status === 'fulfilled') await o.value.close();
    assert.equal(await upgradeStatus(server.url), 101);
    assert.equal(await keep.result('state.exists', { key: 'k' }), false);
    await keep.close();
    await healthy(server);
  });

  test('approval flood: notifications of a gated method stay within the pending bound and leave with the sender', async (t) => {
    const before = retained();
    const rssBefore = rss();
    const c = await fresh(server);
    for (let i = 0; i < 5000; i++) c.notify('messages.send', { to: 'x', body: `n${i}` });
    await c.call('state.exists', { key: 'k' });
    assert.ok(server.state.host.pendingCount() <= 16, `${server.state.host.pendingCount()} pending`);
    await c.close();
    await waitFor(() => server.state.host.pendingCount() === 0, undefined, 'the pending set to empty');
    const grown = retained() - before;
    const rssGrown = rss() - rssBefore;
    figures.push(`approval flood: 5000 gated notifications, pending ≤ 16, 0 after close, retained +${(grown / MiB).toFixed(1)} MiB (RSS +${(rssGrown / MiB).toFixed(1)} MiB)`);
    t.diagnostic(figures.at(-1)!);
    assert.ok(grown < GROWTH_CEILING);
    await healthy(server);
  });

  test('teardown', async () => {
    if (process.env.CAR_FUZZ_FIGURES) console.log(figures.join('\n'));
    await server.close();
  });
});
