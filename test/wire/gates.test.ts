import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { GATE_ORDER } from '../../src/index.js';
import { waitFor } from '../helpers/raw-client.js';
import { startServer, type TestServer, useServer } from '../helpers/server.js';

interface DiscoveredMethod {
  name: string;
  'x-car-gates': string[];
}

async function discover(server: TestServer): Promise<Map<string, string[]>> {
  const c = await server.authed();
  const doc = (await c.result('rpc.discover', {})) as { methods: DiscoveredMethod[] };
  return new Map(doc.methods.map((m) => [m.name, m['x-car-gates']]));
}

describe('gates as data: rpc.discover shows each method\'s gates', () => {
  const server = useServer();

  test('every method lists its gates in the fixed pipeline order', async (t) => {
    const gates = await discover(server);
    assert.ok(gates.size > 100, `only ${gates.size} methods`);
    const counts = new Map<number, number>();
    for (const [name, list] of gates) {
      assert.ok(Array.isArray(list), `${name} has no x-car-gates`);
      const positions = list.map((g) => GATE_ORDER.indexOf(g as (typeof GATE_ORDER)[number]));
      assert.ok(positions.every((p) => p >= 0), `${name}: unknown gate in ${list.join(',')}`);
      assert.deepEqual(positions, [...positions].sort((a, b) => a - b), `${name}: gates out of order`);
      assert.ok(list.includes('params') && list.includes('deadline'), `${name}: params and deadline apply to every method`);
      counts.set(list.length, (counts.get(list.length) ?? 0) + 1);
    }
    for (const [n, methods] of [...counts].sort((a, b) => a[0] - b[0])) t.diagnostic(`${methods} methods pass ${n} gates`);
  });

  test('the declarations and the config lists both show up', async () => {
    const gates = await discover(server);
    assert.deepEqual(gates.get('session.auth'), ['params', 'deadline']);
    assert.deepEqual(gates.get('state.get'), ['auth', 'params', 'deadline']);
    // handshakeGated from the config
    assert.deepEqual(gates.get('host.subscribe'), ['auth', 'handshake', 'params', 'deadline']);
    assert.deepEqual(gates.get('permission.approve'), ['auth', 'role', 'params', 'deadline']);
    // approvalGate.methods from the config
    assert.deepEqual(gates.get('messages.send'), ['auth', 'params', 'approval', 'deadline']);
    assert.deepEqual(gates.get('proposal.submit'), ['auth', 'params', 'deadline', 'supervision', 'permission']);
    assert.deepEqual(gates.get('test.admitted'), ['auth', 'params', 'deadline', 'admission']);
    // inference-class methods, the skills that run on a model among them
    for (const name of ['infer', 'infer_stream', 'embed', 'classify', 'skills.distill', 'skills.evolve', 'skill.repair']) {
      assert.deepEqual(gates.get(name), ['auth', 'params', 'deadline', 'admission'], name);
    }
    assert.deepEqual(gates.get('tokenize'), ['auth', 'params', 'deadline'], 'tokenize runs no generation');
  });

  test('config lists are applied when the table is built: approvals off, no approval gate', async () => {
    const off = await startServer({ approvalGate: { enabled: false, methods: ['messages.send'], timeoutMs: 1000 } });
    try {
      const gates = await discover(off);
      assert.deepEqual(gates.get('messages.send'), ['auth', 'params', 'deadline']);
      assert.equal(off.state.methods.route('messages.send')?.approval, false);
    } finally {
      await off.close();
    }
  });
});

describe('the admission gate', () => {
  const server = useServer({ inferenceMaxConcurrent: 1 });

  const admitted = (tag: string): Promise<unknown> =>
    new Promise((resolve) => {
      const on = (t: string): void => {
        if (t !== tag) return;
        server.hooks.events.off('admitted', on);
        resolve(t);
      };
      server.hooks.events.on('admitted', on);
    });
  const release = (tag: string): void => {
    const fn = server.hooks.release.get(tag);
    assert.ok(fn, `no held call ${tag}`);
    fn();
  };
  const status = () => server.state.admission.status();

  test('the handler holds a permit; a second caller queues until it is released', async () => {
    const a = await server.authed();
    const b = await server.authed();
    const aIn = admitted('a1');
    const aReply = a.call('test.admitted', { tag: 'a1' });
    await aIn;
    assert.equal(status().permits_in_use, 1);

    let bRan = false;
    const bIn = admitted('b1').then(() => (bRan = true));
    const bReply = b.call('test.admitted', { tag: 'b1' });
    await waitFor(() => status().queue_depth === 1, undefined, 'the second call to queue');
    assert.equal(bRan, false, 'the queued handler has not started');

    release('a1');
    assert.equal((await aReply).result, 'a1');
    await bIn;
    release('b1');
    assert.equal((await bReply).result, 'b1');
    assert.deepEqual([status().permits_in_use, status().queue_depth], [0, 0]);
  });

  test('a queued caller that disconnects leaves the queue; its handler never runs', async () => {
    const a = await server.authed();
    const b = await server.authed();
    const aIn = admitted('a2');
    const aReply = a.call('test.admitted', { tag: 'a2' });
    await aIn;
    let bRan = false;
    server.hooks.events.on('admitted', (t: string) => {
      if (t === 'b2') bRan = true;
    });
    void b.call('test.admitted', { tag: 'b2' }).catch(() => undefined);
    await waitFor(() => status().queue_depth === 1, undefined, 'the second call to queue');
    await b.close();
    await waitFor(() => status().queue_depth === 0, undefined, 'the queue to empty');
    release('a2');
    assert.equal((await aReply).result, 'a2');
    assert.equal(bRan, false);
    assert.equal(status().permits_in_use, 0);
  });

  test('a holder that disconnects releases its permit to the next caller', async () => {
    const a = await server.authed();
    const b = await server.authed();
    const aIn = admitted('a3');
    void a.call('test.admitted', { tag: 'a3' }).catch(() => undefined);
    await aIn;
    const bIn = admitted('b3');
    const bReply = b.call('test.admitted', { tag: 'b3' });
    await waitFor(() => status().queue_depth === 1, undefined, 'the second call to queue');
    await a.close();
    await bIn;
    release('b3');
    assert.equal((await bReply).result, 'b3');
    assert.equal(status().permits_in_use, 0);
  });

  test('a queued call whose deadline passes gets -32004 and leaves the queue', async () => {
    const a = await server.authed();
    const b = await server.authed();
    const aIn = admitted('a4');
    const aReply = a.call('test.admitted', { tag: 'a4' });
    await aIn;
    const err = await b.error('test.admitted', { tag: 'b4', deadline_ms: 20 });
    assert.equal(err.code, -32004);
    assert.equal(status().queue_depth, 0);
    release('a4');
    assert.equal((await aReply).result, 'a4');
    assert.equal(status().permits_in_use, 0);
  });
});
