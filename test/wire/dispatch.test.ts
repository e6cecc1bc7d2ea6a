import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { ErrorCode, RpcError } from '../../src/index.js';
import { releaseHeld, useServer, waitForHeld } from '../helpers/server.js';

describe('dispatch errors and ids', () => {
  const server = useServer();

  test('(14) an unknown method is -32601', async () => {
    const c = await server.authed();
    const err = await c.error('no.such.method', {});
    assert.equal(err.code, ErrorCode.MethodNotFound);
    assert.equal(err.code, -32601);
    assert.match(err.message, /no\.such\.method/);
    assert.equal(c.isOpen, true);
  });

  test('(14) "jsonrpc": "1.0" is -32600 with the id echoed', async () => {
    const c = await server.authed();
    c.send({ jsonrpc: '1.0', id: 'v1', method: 'state.keys' });
    const reply = await c.next();
    assert.equal(reply.id, 'v1');
    assert.equal(reply.error.code, -32600);
    assert.match(reply.error.message, /^invalid request: "jsonrpc" must be "2.0"/);
  });

  test('(14) a missing "jsonrpc" is -32600', async () => {
    const c = await server.authed();
    c.send({ id: 3, method: 'state.keys' });
    const reply = await c.next();
    assert.equal(reply.id, 3);
    assert.equal(reply.error.code, -32600);
  });

  test('(14) a method that is not a string is -32600', async () => {
    const c = await server.authed();
    c.send({ jsonrpc: '2.0', id: 11, method: 42 });
    const reply = await c.next();
    assert.equal(reply.id, 11);
    assert.equal(reply.error.code, -32600);
    assert.match(reply.error.message, /"method" must be a non-empty string/);
  });

  test('"params": null is no params', async () => {
    const c = await server.authed();
    c.send({ jsonrpc: '2.0', id: 'n', method: 'state.keys', params: null });
    const reply = await c.next();
    assert.equal(reply.id, 'n');
    assert.ok(Array.isArray(reply.result), JSON.stringify(reply));
  });

  test('(14) params that are a number (or a string, or a boolean) are -32600', async () => {
    const c = await server.authed();
    for (const [i, params] of [5, 'str', true].entries()) {
      c.send({ jsonrpc: '2.0', id: `p${i}`, method: 'state.keys', params });
      const reply = await c.next();
      assert.equal(reply.id, `p${i}`);
      assert.equal(reply.error.code, -32600, JSON.stringify(params));
      assert.match(reply.error.message, /"params" must be an object or an array/);
    }
    assert.equal(c.isOpen, true);
  });

  test('(14) an id of the wrong type is -32600 with id null', async () => {
    const c = await server.authed();
    c.send({ jsonrpc: '2.0', id: { nested: 1 }, method: 'state.keys' });
    const reply = await c.next();
    assert.equal(reply.id, null);
    assert.equal(reply.error.code, -32600);
  });

  test('(14) a message that is not an object (a number, a string) is -32600 with id null', async () => {
    const c = await server.authed();
    for (const text of ['42', '"hello"', 'null']) {
      c.send(text);
      const reply = await c.next();
      assert.equal(reply.id, null);
      assert.equal(reply.error.code, -32600, text);
    }
  });

  test('(14) text that is not JSON is -32700 with id null; the connection stays open', async () => {
    const c = await server.authed();
    c.send('{this is not json');
    const reply = await c.next();
    assert.equal(reply.jsonrpc, '2.0');
    assert.equal(reply.id, null);
    assert.equal(reply.error.code, ErrorCode.ParseError);
    assert.equal(reply.error.code, -32700);
    assert.match(reply.error.message, /^parse error:/);
    assert.equal(await c.result('state.exists', { key: 'x' }), false);
  });

  test('(14) ids are echoed with their type: "abc", 7, 0, -1.5, and a string "7"', async () => {
    const c = await server.authed();
    for (const id of ['abc', 7, 0, -1.5, '7', '']) {
      const reply = await c.call('state.exists', { key: 'x' }, { id });
      assert.equal(reply.id, id);
      assert.equal(typeof reply.id, typeof id);
      assert.equal(reply.result, false);
    }
  });

  test('(14) an explicit id: null is a request and is answered with id null', async () => {
    const c = await server.authed();
    c.send({ jsonrpc: '2.0', id: null, method: 'state.exists', params: { key: 'x' } });
    const reply = await c.next();
    assert.deepEqual(reply, { jsonrpc: '2.0', id: null, result: false });
  });

  test('a bad param names the field: "invalid params: key is required"', async () => {
    const c = await server.authed();
    const err = await c.error('state.get', {});
    assert.equal(err.code, ErrorCode.InvalidParams);
    assert.equal(err.message, 'invalid params: key is required');
    const wrongType = await c.error('state.get', { key: 5 });
    assert.equal(wrongType.code, -32602);
    assert.match(wrongType.message, /^invalid params: key: /);
    const tenant = await c.error('state.get', { key: 'a', tenant_id: 12 });
    assert.match(tenant.message, /^invalid params: tenant_id: /);
  });

  test('a handler throwing a plain Error is -32603 carrying its message', async () => {
    const c = await server.authed();
    const err = await c.error('test.throw', { message: 'kaboom: disk on fire' });
    assert.equal(err.code, ErrorCode.InternalError);
    assert.equal(err.code, -32603);
    assert.equal(err.message, 'kaboom: disk on fire');
    assert.equal(c.isOpen, true);
  });

  test('an unexpected error never carries an absolute server path to the client', async () => {
    const c = await server.authed();
    const err = await c.error('test.throw', { message: "EACCES: permission denied, open '/srv/car-home/memory/ns.json'" });
    assert.equal(err.code, -32603);
    assert.equal(err.message, "EACCES: permission denied, open '…/ns.json'");
  });

  test('the params gate names the field in data as every other invalid-params error does', async () => {
    const c = await server.authed();
    const err = await c.error('state.get', { key: 7 });
    assert.equal(err.code, -32602);
    assert.deepEqual(err.data, { kind: 'invalid', field: 'key' });
  });

  test('an embedder handler throwing an RpcError keeps its code, message and data', async () => {
    server.state.addMethod({
      name: 'test.denied',
      summary: 'Always denied.',
      params: (await import('zod')).z.object({}),
      handler() {
        throw new RpcError(ErrorCode.ApprovalDenied, 'approval denied: nope', { why: 'policy' });
      },
    });
    const c = await server.authed();
    const err = await c.error('test.denied', {});
    assert.deepEqual(err, { code: -32003, message: 'approval denied: nope', data: { why: 'policy' } });
  });

  test('a notification to an unknown method or with bad params gets no reply', async () => {
    const c = await server.authed();
    c.notify('no.such.method', {});
    c.notify('state.get', {});
    c.send({ jsonrpc: '2.0', id: 'after', method: 'state.exists', params: { key: 'x' } });
    const reply = await c.next();
    assert.equal(reply.id, 'after');
    assert.equal(reply.result, false);
  });

  test('a notification runs its handler (state.set as a notification writes the key)', async () => {
    const c = await server.authed();
    c.notify('state.set', { key: 'via-notify', value: 'yes' });
    assert.equal(await c.result('state.get', { key: 'via-notify' }), 'yes');
  });
});

describe('concurrency and the in-flight cap', () => {
  const server = useServer({ maxInFlightPerConnection: 3 });

  test('(15) two slow requests on one connection run concurrently; replies arrive out of order', async () => {
    const c = await server.authed();
    c.send({ jsonrpc: '2.0', id: 'slow', method: 'test.hold', params: { tag: 'slow' } });
    c.send({ jsonrpc: '2.0', id: 'fast', method: 'test.sleep', params: { ms: 5, tag: 'fast' } });
    // The fast call is answered while the slow one is still held: concurrent, not serial.
    assert.deepEqual(await c.next(), { jsonrpc: '2.0', id: 'fast', result: 'fast' });
    releaseHeld(server.hooks, 'slow');
    assert.deepEqual(await c.next(), { jsonrpc: '2.0', id: 'slow', result: 'slow' });
  });

  test('in-flight cap: requests beyond maxInFlightPerConnection are refused; the connection keeps working', async () => {
    const c = await server.authed();
    const held = ['t0', 't1', 't2'].map((tag) => c.call('test.hold', { tag }));
    await waitForHeld(server.hooks, ['t0', 't1', 't2']);
    const refused = await Promise.all([c.call('test.sleep', { ms: 1, tag: 't3' }), c.call('test.sleep', { ms: 1, tag: 't4' })]);
    for (const r of refused) {
      assert.equal(r.error.code, -32603);
      assert.match(r.error.message, /^too many requests in flight on this connection \(limit 3\)/);
    }
    for (const tag of ['t0', 't1', 't2']) releaseHeld(server.hooks, tag);
    assert.deepEqual(
      (await Promise.all(held)).map((r) => r.result),
      ['t0', 't1', 't2'],
    );
    assert.equal(await c.result('test.sleep', { ms: 1, tag: 'again' }), 'again');
  });

  test('the in-flight cap is per connection', async () => {
    const a = await server.authed();
    const b = await server.authed();
    const held = ['a0', 'a1', 'a2'].map((tag) => a.call('test.hold', { tag }));
    await waitForHeld(server.hooks, ['a0', 'a1', 'a2']);
    assert.equal(await b.result('test.sleep', { ms: 1, tag: 'b' }), 'b');
    for (const tag of ['a0', 'a1', 'a2']) releaseHeld(server.hooks, tag);
    for (const r of await Promise.all(held)) assert.ok('result' in r);
  });
});

describe('deadlines', () => {
  const server = useServer({ handlerTimeoutMs: 100 });

  test('(16) a handler past handlerTimeoutMs gets -32004 and its AbortSignal fires', async () => {
    const c = await server.authed();
    const started = Date.now();
    const err = await c.error('test.sleep', { ms: 2000, tag: 'deadline' });
    const elapsed = Date.now() - started;
    assert.equal(err.code, ErrorCode.DeadlineExceeded);
    assert.equal(err.code, -32004);
    assert.match(err.message, /^handler 'test\.sleep' exceeded its 0\.1s response deadline/);
    assert.ok(elapsed >= 90, `answered after ${elapsed} ms, before the deadline`);
    assert.ok(server.hooks.aborted.has('deadline'), 'the handler signal was aborted');
    const reason = server.hooks.aborted.get('deadline');
    assert.ok(reason instanceof RpcError);
    assert.equal(reason.code, -32004);
    assert.equal(c.isOpen, true);
  });

  test('a method deadlineMs override applies instead of handlerTimeoutMs', async () => {
    const { z } = await import('zod');
    server.state.addMethod({
      name: 'test.quick-deadline',
      summary: 'Never answers; 20 ms deadline.',
      params: z.object({}),
      deadlineMs: 20,
      handler: (_p, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))),
    });
    const c = await server.authed();
    const err = await c.error('test.quick-deadline', {});
    assert.equal(err.code, -32004);
    // The method's 20 ms, not the server's 100 ms, is what the message names.
    assert.match(err.message, /exceeded its 0\.02s response deadline/);
  });

});

describe('batches', () => {
  const server = useServer({ maxBatchItems: 4 });

  test('a mixed batch is answered with one array holding only the requests\' answers', async () => {
    const c = await server.authed();
    c.send([
      { jsonrpc: '2.0', id: 1, method: 'state.set', params: { key: 'b', value: 2 } },
      { jsonrpc: '2.0', method: 'state.set', params: { key: 'n', value: 'notified' } },
      { jsonrpc: '2.0', id: 'x', method: 'no.such.method' },
      { jsonrpc: '2.0', id: 3, method: 'test.sleep', params: { ms: 10, tag: 'slept' } },
    ]);
    const reply = await c.next();
    assert.ok(Array.isArray(reply), 'a batch reply is an array');
    assert.equal(reply.length, 3);
    const byId = new Map<unknown, any>(reply.map((r: { id: unknown }) => [r.id, r])); // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.deepEqual(byId.get(1), { jsonrpc: '2.0', id: 1, result: 'ok' });
    assert.equal(byId.get('x').error.code, -32601);
    assert.deepEqual(byId.get(3), { jsonrpc: '2.0', id: 3, result: 'slept' });
    assert.equal(await c.result('state.get', { key: 'n' }), 'notified');
  });

  test('an invalid item inside a batch gets its own -32600 entry', async () => {
    const c = await server.authed();
    c.send([{ jsonrpc: '2.0', id: 1, method: 'state.keys' }, 17, [], { jsonrpc: '1.0', id: 2, method: 'x' }]);
    const reply = await c.next();
    assert.ok(Array.isArray(reply));
    assert.equal(reply.length, 4);
    assert.deepEqual(reply[0], { jsonrpc: '2.0', id: 1, result: [] });
    for (const item of reply.slice(1)) assert.equal(item.error.code, -32600);
    assert.equal(reply[3].id, 2);
  });

  test('an all-notification batch gets no reply at all', async () => {
    const c = await server.authed();
    c.send([
      { jsonrpc: '2.0', method: 'state.set', params: { key: 'q1', value: 1 } },
      { jsonrpc: '2.0', method: 'state.set', params: { key: 'q2', value: 2 } },
    ]);
    c.send({ jsonrpc: '2.0', id: 'follow-up', method: 'state.keys', params: {} });
    const next = await c.next();
    assert.equal(next.id, 'follow-up', `the next frame should answer the follow-up, got ${JSON.stringify(next)}`);
    assert.deepEqual(next.result.sort(), ['q1', 'q2']);
  });

  test('an empty batch is a single -32600 (not an array)', async () => {
    const c = await server.authed();
    c.send('[]');
    const reply = await c.next();
    assert.ok(!Array.isArray(reply));
    assert.equal(reply.id, null);
    assert.equal(reply.error.code, -32600);
    assert.match(reply.error.message, /empty batch/);
  });

  test('a batch over maxBatchItems is a single -32600 and nothing in it runs', async () => {
    const c = await server.authed();
    const items = [0, 1, 2, 3, 4].map((i) => ({ jsonrpc: '2.0', id: i, method: 'state.set', params: { key: `big${i}`, value: i } }));
    c.send(items);
    const reply = await c.next();
    assert.ok(!Array.isArray(reply));
    assert.equal(reply.id, null);
    assert.equal(reply.error.code, -32600);
    assert.match(reply.error.message, /batch of 5 items exceeds the limit of 4/);
    assert.deepEqual(await c.result('state.keys', {}), []);
  });

  test('a batch sent before auth gets -32001 entries and the connection closes', async () => {
    const c = await server.connect();
    c.send([{ jsonrpc: '2.0', id: 1, method: 'state.keys' }]);
    const reply = await c.next();
    assert.ok(Array.isArray(reply));
    assert.equal(reply[0].error.code, -32001);
    await c.waitClosed();
  });
});

describe('capabilities.list and rpc.discover', () => {
  const server = useServer();

  test('capabilities.list answers {caller_role, count, methods:[{method, role}]} sorted, count == length', async () => {
    const c = await server.authed();
    const caps = await c.result('capabilities.list', {});
    assert.deepEqual(Object.keys(caps).sort(), ['caller_role', 'count', 'methods']);
    assert.equal(caps.caller_role, 'owner');
    assert.equal(caps.count, caps.methods.length);
    const names = caps.methods.map((m: { method: string }) => m.method);
    assert.deepEqual(names, [...names].sort());
    for (const m of caps.methods) {
      assert.deepEqual(Object.keys(m).sort(), ['method', 'role']);
      assert.equal(typeof m.role, 'string');
    }
    for (const core of ['session.auth', 'server.handshake', 'state.get', 'state.set', 'tools.register', 'rpc.discover']) {
      assert.ok(names.includes(core), core);
    }
    // Also accepted with no params and with an empty array.
    assert.equal((await c.result('capabilities.list')).count, caps.count);
    assert.equal((await c.result('capabilities.list', [])).count, caps.count);
  });

  test('capabilities.list leaves out host-only methods for a non-host caller', async () => {
    const { z } = await import('zod');
    server.state.addMethod({ name: 'test.host-only', summary: 'Host only.', role: 'host', params: z.object({}), handler: () => 'hi' });
    const owner = await server.authed();
    const ownerNames = (await owner.result('capabilities.list', {})).methods.map((m: { method: string }) => m.method);
    assert.ok(!ownerNames.includes('test.host-only'));
    const denied = await owner.error('test.host-only', {});
    assert.equal(denied.code, -32603);
    assert.match(denied.message, /requires the host role/);

    const host = await server.connect();
    await host.result('session.auth', { host_token: 'host' });
    const hostCaps = await host.result('capabilities.list', {});
    const entry = hostCaps.methods.find((m: { method: string }) => m.method === 'test.host-only');
    assert.deepEqual(entry, { method: 'test.host-only', role: 'host' });
    assert.equal(await host.result('test.host-only', {}), 'hi');
  });

  test('rpc.discover returns an OpenRPC document including state.get with a key param', async () => {
    const c = await server.authed();
    const doc = await c.result('rpc.discover', {});
    assert.equal(typeof doc.openrpc, 'string');
    assert.match(doc.openrpc, /^1\.\d+\.\d+$/);
    assert.equal(doc.info.title, 'car-server-core');
    assert.ok(Array.isArray(doc.methods));
    const get = doc.methods.find((m: { name: string }) => m.name === 'state.get');
    assert.ok(get, 'state.get is described');
    const key = get.params.find((p: { name: string }) => p.name === 'key');
    assert.ok(key, 'state.get has a key param');
    assert.equal(key.required, true);
    assert.equal(key.schema.type, 'string');
    const tenant = get.params.find((p: { name: string }) => p.name === 'tenant_id');
    assert.equal(tenant.required, false);
    const names = doc.methods.map((m: { name: string }) => m.name);
    assert.deepEqual(names, [...names].sort());
  });

  test('rpc.discover reflects a method replaced by an embedder', async () => {
    const { z } = await import('zod');
    const c = await server.authed();
    server.state.addMethod({ name: 'test.replaceable', summary: 'first version', params: z.object({}), handler: () => 1 });
    const before = await c.result('rpc.discover', {});
    assert.equal(before.methods.find((m: { name: string }) => m.name === 'test.replaceable').summary, 'first version');
    server.state.addMethod({ name: 'test.replaceable', summary: 'second version', params: z.object({}), handler: () => 2 });
    const afterDoc = await c.result('rpc.discover', {});
    assert.equal(afterDoc.methods.find((m: { name: string }) => m.name === 'test.replaceable').summary, 'second version');
    assert.equal(await c.result('test.replaceable', {}), 2);
  });
});
