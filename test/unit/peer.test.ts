import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import test, { describe } from 'node:test';
import {
  createMemoryPair,
  ErrorCode,
  Peer,
  RemoteError,
  RequestAbortedError,
  RpcError,
  type InboundContext,
  type InboundHandler,
  type MemoryTransport,
  type PeerOptions,
} from '../../src/index.js';
import { CHECK_VALUE_UP_TO_OPENS } from '../../src/rpc/depth.js';
import { delay, waitFor } from '../helpers/raw-client.js';
import { sleep } from '../helpers/server.js';

const defaults: PeerOptions = { maxBatchItems: 10, maxInFlight: 10, maxJsonDepth: 32 };

/** Two Peers over an in-memory pair. */
function peers(
  serverHandler: InboundHandler,
  clientHandler: InboundHandler = () => undefined,
  serverOptions: Partial<PeerOptions> = {},
): { server: Peer; client: Peer; a: MemoryTransport; b: MemoryTransport } {
  const [a, b] = createMemoryPair();
  const server = new Peer(a, serverHandler, { ...defaults, idPrefix: 'cb-', ...serverOptions });
  const client = new Peer(b, clientHandler, defaults);
  return { server, client, a, b };
}

/** One Peer, with the other end a raw transport whose frames the test reads itself. */
function peerWithRawEnd(
  handler: InboundHandler,
  options: Partial<PeerOptions> = {},
): { peer: Peer; raw: MemoryTransport; frames: unknown[]; next(): Promise<any> } {
  const [a, raw] = createMemoryPair();
  const peer = new Peer(a, handler, { ...defaults, ...options });
  const frames: unknown[] = [];
  let waiter: ((f: unknown) => void) | undefined;
  raw.onframe = (text) => {
    const f = JSON.parse(text);
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w(f);
    } else frames.push(f);
  };
  return {
    peer,
    raw,
    frames,
    next: () =>
      frames.length > 0
        ? Promise.resolve(frames.shift())
        : new Promise((resolve) => {
            waiter = resolve;
          }),
  };
}

describe('Peer: requests both ways', () => {
  test('client → server request and reply', async () => {
    const { client } = peers((method, params) => ({ method, params }));
    assert.deepEqual(await client.request('echo', { a: 1 }), { method: 'echo', params: { a: 1 } });
    assert.deepEqual(await client.request('echo', [1, 2]), { method: 'echo', params: [1, 2] });
    assert.deepEqual(await client.request('echo', undefined), { method: 'echo' });
  });

  test('server → client request with "cb-" ids, numbered from 0', async () => {
    const seen: unknown[] = [];
    const { server } = peers(
      () => undefined,
      (method, params, ctx) => {
        seen.push(ctx.id);
        return `client handled ${method}`;
      },
    );
    assert.equal(await server.request('tools.execute', { tool: 't' }), 'client handled tools.execute');
    assert.equal(await server.request('tools.execute', { tool: 't' }), 'client handled tools.execute');
    assert.deepEqual(seen, ['cb-0', 'cb-1']);
  });

  test('plain integer ids without idPrefix; firstId sets the start', async () => {
    const [a] = createMemoryPair();
    const plain = new Peer(a, () => undefined, defaults);
    assert.equal(plain.nextRequestId(), 0);
    assert.equal(plain.nextRequestId(), 1);
    const [c] = createMemoryPair();
    const prefixed = new Peer(c, () => undefined, { ...defaults, idPrefix: 'cb-', firstId: 5 });
    assert.equal(prefixed.nextRequestId(), 'cb-5');
  });

  test('both directions at once on the same pair', async () => {
    const { server, client } = peers(
      async (method) => {
        await delay(5);
        return `server:${method}`;
      },
      (method) => `client:${method}`,
    );
    const [x, y] = await Promise.all([client.request('a', {}), server.request('b', {})]);
    assert.equal(x, 'server:a');
    assert.equal(y, 'client:b');
  });

  test('concurrent inbound requests are handled concurrently; replies may come out of order', async () => {
    const order: string[] = [];
    let fastDone!: () => void;
    const fastFinished = new Promise<void>((resolve) => (fastDone = resolve));
    const { client } = peers(async (_m, params) => {
      const p = params as { tag: string };
      // The slow call only finishes after the fast one: both must be in flight at once.
      if (p.tag === 'slow') await fastFinished;
      else await delay(1);
      order.push(p.tag);
      if (p.tag === 'fast') fastDone();
      return p.tag;
    });
    const results = await Promise.all([client.request('s', { tag: 'slow' }), client.request('s', { tag: 'fast' })]);
    assert.deepEqual(results, ['slow', 'fast']);
    assert.deepEqual(order, ['fast', 'slow']);
  });

  test('a thrown RpcError reaches the caller as a RemoteError with code, message and data', async () => {
    const { client } = peers(() => {
      throw new RpcError(-32005, 'handshake first', { hint: 'x' });
    });
    await assert.rejects(client.request('m', {}), (err: unknown) => {
      assert.ok(err instanceof RemoteError);
      assert.equal(err.code, -32005);
      assert.equal(err.message, 'handshake first');
      assert.deepEqual(err.data, { hint: 'x' });
      return true;
    });
  });

  test('a rejected promise with a plain Error is -32603', async () => {
    const { client } = peers(async () => {
      throw new Error('async failure');
    });
    await assert.rejects(client.request('m', {}), { name: 'RemoteError', code: -32603, message: 'async failure' });
  });

  test('a result that cannot be serialised becomes a -32603 reply, not a crash', async () => {
    const { client } = peers(() => ({ big: 10n }));
    await assert.rejects(client.request('m', {}), (err: unknown) => {
      assert.ok(err instanceof RemoteError);
      assert.equal(err.code, -32603);
      assert.match(err.message, /^result could not be serialised/);
      return true;
    });
  });

  test('notifications run the handler with id undefined and get no reply', async () => {
    const calls: [string, unknown, unknown][] = [];
    const { raw, frames } = peerWithRawEnd((method, params, ctx) => {
      calls.push([method, params, ctx.id]);
      return 'ignored';
    });
    raw.send(JSON.stringify({ jsonrpc: '2.0', method: 'note', params: { x: 1 } }));
    await waitFor(() => calls.length === 1);
    await delay(5);
    assert.deepEqual(calls, [['note', { x: 1 }, undefined]]);
    assert.deepEqual(frames, []);
  });

  test('notify() sends a notification frame; false once closed', async () => {
    const { peer, next } = peerWithRawEnd(() => undefined);
    assert.equal(peer.notify('tools.cancel', { request_id: 'cb-1' }), true);
    assert.deepEqual(await next(), { jsonrpc: '2.0', method: 'tools.cancel', params: { request_id: 'cb-1' } });
    assert.equal(peer.notify('ping'), true);
    assert.deepEqual(await next(), { jsonrpc: '2.0', method: 'ping' });
    peer.close();
    await delay(1);
    assert.equal(peer.notify('late'), false);
  });
});

describe('Peer: timeouts, cancellation and close', () => {
  test('a request with no answer within timeoutMs rejects with RequestAbortedError reason "timeout"', async () => {
    const { client } = peers(() => new Promise(() => undefined));
    const started = Date.now();
    await assert.rejects(client.request('never', {}, { timeoutMs: 30 }), (err: unknown) => {
      assert.ok(err instanceof RequestAbortedError);
      assert.equal(err.reason, 'timeout');
      assert.match(err.message, /got no answer within 30 ms/);
      return true;
    });
    assert.ok(Date.now() - started >= 25);
    assert.equal(client.pendingCount, 0);
  });

  test('an AbortSignal cancels a pending request (reason "aborted")', async () => {
    const { client } = peers(() => new Promise(() => undefined));
    const controller = new AbortController();
    const pending = client.request('never', {}, { signal: controller.signal, timeoutMs: 10_000 });
    assert.equal(client.pendingCount, 1);
    controller.abort();
    await assert.rejects(pending, (err: unknown) => err instanceof RequestAbortedError && err.reason === 'aborted');
    assert.equal(client.pendingCount, 0);
  });

  test('one signal over many pending requests: one listener, every request cancelled in order, none left behind', async () => {
    const { client } = peers((method) => (method === 'quick' ? 'done' : new Promise(() => undefined)));
    const controller = new AbortController();
    const opts = { signal: controller.signal, timeoutMs: 10_000 };
    assert.equal(await client.request('quick', {}, opts), 'done');
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'an answered request leaves no listener');
    const order: number[] = [];
    const pending = [0, 1, 2].map((n) =>
      client.request('never', { n }, opts).catch((err: unknown) => {
        order.push(n);
        throw err;
      }),
    );
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    controller.abort();
    for (const p of pending) await assert.rejects(p, (err: unknown) => err instanceof RequestAbortedError && err.reason === 'aborted');
    assert.deepEqual(order, [0, 1, 2]);
    assert.equal(client.pendingCount, 0);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  test('an already-aborted signal rejects without sending', async () => {
    const { peer, frames } = peerWithRawEnd(() => undefined);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(peer.request('m', {}, { signal: controller.signal }), { name: 'RequestAbortedError', reason: 'aborted' });
    await delay(2);
    assert.deepEqual(frames, []);
    assert.equal(peer.pendingCount, 0);
  });

  test('a duplicate explicit id while the first is pending is refused', async () => {
    const { peer } = peerWithRawEnd(() => undefined);
    const first = peer.request('m', {}, { id: 'same' });
    await assert.rejects(peer.request('m', {}, { id: 'same' }), /already pending/);
    peer.close();
    await assert.rejects(first, { name: 'RequestAbortedError', reason: 'closed' });
  });

  test('closing rejects all pending requests (reason "closed") and aborts in-flight handler signals', async () => {
    const signals: AbortSignal[] = [];
    const { server, client } = peers(async (_m, _p, ctx) => {
      signals.push(ctx.signal);
      await sleep(10_000, ctx.signal);
    });
    const pending = [client.request('a', {}), client.request('b', {}), client.request('c', {}, { timeoutMs: 10_000 })];
    await waitFor(() => signals.length === 3);
    assert.equal(server.inFlightCount, 3);
    assert.equal(client.pendingCount, 3);

    const closeInfos: unknown[] = [];
    client.onClose((info) => closeInfos.push(info));
    client.close(1001, 'bye');
    for (const p of pending) {
      await assert.rejects(p, (err: unknown) => err instanceof RequestAbortedError && err.reason === 'closed');
    }
    await waitFor(() => signals.every((s) => s.aborted));
    for (const s of signals) {
      assert.ok(s.reason instanceof RequestAbortedError);
      assert.equal(s.reason.reason, 'closed');
    }
    assert.equal(server.inFlightCount, 0);
    assert.equal(client.pendingCount, 0);
    assert.deepEqual(closeInfos, [{ code: 1001, reason: 'bye' }]);
    assert.equal(client.isOpen, false);
    assert.equal(server.isOpen, false);
    // onClose after the fact fires at once.
    let late: unknown;
    server.onClose((info) => (late = info));
    assert.deepEqual(late, { code: 1001, reason: 'bye' });
  });

  test('a request on a closed peer rejects with reason "closed"', async () => {
    const { client } = peers(() => 1);
    client.close();
    await delay(1);
    await assert.rejects(client.request('m', {}), { name: 'RequestAbortedError', reason: 'closed' });
  });

  test('a late response after a timeout is ignored, and nothing is sent back for it', async () => {
    const { peer, raw, frames, next } = peerWithRawEnd(() => 'served');
    const pending = peer.request('slow', {}, { timeoutMs: 20 });
    const req = await next();
    await assert.rejects(pending, { reason: 'timeout' });
    raw.send(JSON.stringify({ jsonrpc: '2.0', id: req.id, result: 'late' }));
    raw.send(JSON.stringify({ jsonrpc: '2.0', id: 12345, error: { code: 1, message: 'unknown id' } }));
    raw.send(JSON.stringify({ jsonrpc: '2.0', id: 'probe', method: 'm' }));
    assert.deepEqual(await next(), { jsonrpc: '2.0', id: 'probe', result: 'served' });
    assert.deepEqual(frames, []);
    assert.equal(peer.isOpen, true);
  });

  test('a response with id null settles nothing and is not answered', async () => {
    const { peer, raw, next } = peerWithRawEnd(() => 'served');
    const pending = peer.request('m', {}, { timeoutMs: 50 });
    await next();
    raw.send(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } }));
    await assert.rejects(pending, { reason: 'timeout' });
  });

  test('closeAfterReply closes the connection right after the reply is sent', async () => {
    const { peer, raw, next } = peerWithRawEnd((_m, _p, ctx: InboundContext) => {
      ctx.closeAfterReply(1008, 'go away');
      throw new RpcError(-32001, 'auth required: x');
    });
    let closed: unknown;
    raw.onclose = (info) => (closed = info);
    raw.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'm' }));
    const reply = await next();
    assert.deepEqual(reply, { jsonrpc: '2.0', id: 1, error: { code: -32001, message: 'auth required: x' } });
    await waitFor(() => closed !== undefined);
    assert.deepEqual(closed, { code: 1008, reason: 'go away' });
    assert.equal(peer.isOpen, false);
  });

  test('ctx.abort fires the handler signal with the given reason', async () => {
    let seen: unknown;
    const { client } = peers(async (_m, _p, ctx) => {
      ctx.signal.addEventListener('abort', () => (seen = ctx.signal.reason));
      ctx.abort(new Error('deadline'));
      ctx.abort(new Error('second abort is a no-op'));
      return 'done';
    });
    assert.equal(await client.request('m', {}), 'done');
    assert.ok(seen instanceof Error);
    assert.equal(seen.message, 'deadline');
  });
});

describe('Peer: framing rules', () => {
  test('non-JSON text is answered with -32700 and id null', async () => {
    const { raw, next } = peerWithRawEnd(() => 1);
    raw.send('{nope');
    const reply = await next();
    assert.equal(reply.id, null);
    assert.equal(reply.error.code, ErrorCode.ParseError);
    assert.match(reply.error.message, /^parse error: /);
  });

  test('too-deep nesting is -32600 before parsing', async () => {
    const { raw, next } = peerWithRawEnd(() => 1, { maxJsonDepth: 8 });
    raw.send('['.repeat(9) + ']'.repeat(9));
    const reply = await next();
    assert.equal(reply.error.code, -32600);
    assert.match(reply.error.message, /nesting deeper than 8 levels/);
    raw.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'm', params: [[[[1]]]] }));
    assert.deepEqual(await next(), { jsonrpc: '2.0', id: 1, result: 1 });
  });

  test('too-deep nesting is -32600 whichever check a frame gets: on its value, on its text, or malformed', async () => {
    let calls = 0;
    const { raw, next } = peerWithRawEnd(() => ++calls, { maxJsonDepth: 64 });
    const deep = (n: number): unknown => (n === 0 ? 1 : [deep(n - 1)]);
    // Few brackets in all: checked on the parsed value.
    raw.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'm', params: [deep(64)] }));
    assert.equal((await next()).error.code, -32600);
    raw.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'm', params: [deep(62)] }));
    assert.deepEqual(await next(), { jsonrpc: '2.0', id: 2, result: 1 });
    // More brackets than the value check takes: scanned before parsing.
    const wide = Array.from({ length: CHECK_VALUE_UP_TO_OPENS }, () => ({}));
    raw.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'm', params: [wide, deep(64)] }));
    assert.equal((await next()).error.code, -32600);
    raw.send(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'm', params: [wide] }));
    assert.deepEqual(await next(), { jsonrpc: '2.0', id: 4, result: 2 });
    // Unterminated and too deep: too deep wins over malformed.
    raw.send('{"jsonrpc":"2.0","id":5,"method":"m","params":' + '['.repeat(100));
    assert.equal((await next()).error.code, -32600);
    raw.send('{"jsonrpc":"2.0","id":6,"method":"m","params":' + '['.repeat(10));
    assert.equal((await next()).error.code, ErrorCode.ParseError);
    assert.equal(calls, 2);
  });

  test('a batch gets one array reply with only the requests\' answers, in item order', async () => {
    const notes: string[] = [];
    const { raw, next } = peerWithRawEnd(async (method, _p, ctx) => {
      if (ctx.id === undefined) notes.push(method);
      if (method === 'slow') await delay(15);
      if (method === 'fail') throw new RpcError(-32000, 'failed');
      return method;
    });
    raw.send(
      JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'slow' },
        { jsonrpc: '2.0', method: 'note' },
        { jsonrpc: '2.0', id: 2, method: 'fast' },
        { jsonrpc: '2.0', id: 3, method: 'fail' },
        { jsonrpc: '2.0', id: 'resp', result: 'a stray response' },
        5,
        [],
      ]),
    );
    const reply = await next();
    assert.deepEqual(reply, [
      { jsonrpc: '2.0', id: 1, result: 'slow' },
      { jsonrpc: '2.0', id: 2, result: 'fast' },
      { jsonrpc: '2.0', id: 3, error: { code: -32000, message: 'failed' } },
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'invalid request: a JSON-RPC message must be an object' } },
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'invalid request: nested batch' } },
    ]);
    assert.deepEqual(notes, ['note']);
  });

  test('a batch of notifications only (or responses only) gets no reply', async () => {
    const { raw, next, frames } = peerWithRawEnd(() => 'r');
    raw.send(JSON.stringify([{ jsonrpc: '2.0', method: 'n1' }, { jsonrpc: '2.0', method: 'n2' }]));
    raw.send(JSON.stringify([{ jsonrpc: '2.0', id: 'x', result: 1 }]));
    raw.send(JSON.stringify({ jsonrpc: '2.0', id: 'after', method: 'm' }));
    assert.deepEqual(await next(), { jsonrpc: '2.0', id: 'after', result: 'r' });
    assert.deepEqual(frames, []);
  });

  test('an empty batch and an oversize batch are each a single -32600', async () => {
    let ran = 0;
    const { raw, next } = peerWithRawEnd(() => ++ran, { maxBatchItems: 2 });
    raw.send('[]');
    const empty = await next();
    assert.deepEqual(empty, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'invalid request: empty batch' } });
    raw.send(JSON.stringify([1, 2, 3].map((id) => ({ jsonrpc: '2.0', id, method: 'm' }))));
    const big = await next();
    assert.ok(!Array.isArray(big));
    assert.equal(big.error.code, -32600);
    assert.match(big.error.message, /batch of 3 items exceeds the limit of 2/);
    assert.equal(ran, 0);
  });

  test('responses inside a batch settle pending requests', async () => {
    const { peer, raw, next } = peerWithRawEnd(() => 1);
    const a = peer.request('x', {});
    const b = peer.request('y', {});
    const ra = await next();
    const rb = await next();
    raw.send(JSON.stringify([
      { jsonrpc: '2.0', id: ra.id, result: 'A' },
      { jsonrpc: '2.0', id: rb.id, error: { code: 3, message: 'B' } },
    ]));
    assert.equal(await a, 'A');
    await assert.rejects(b, { name: 'RemoteError', code: 3, message: 'B' });
  });

  test('in-flight cap: requests beyond maxInFlight are refused with -32603; later ones are served', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { client, server } = peers(
      async (_m, params) => {
        if ((params as { held: boolean }).held) await gate;
        return 'ok';
      },
      undefined,
      { maxInFlight: 2 },
    );
    const calls = [client.request('s', { held: true }), client.request('s', { held: true }), client.request('s', { held: true })];
    // The third is refused while the first two are held; then they are let go.
    await assert.rejects(calls[2]!);
    open();
    const results = await Promise.allSettled(calls);
    assert.equal(results[0]!.status, 'fulfilled');
    assert.equal(results[1]!.status, 'fulfilled');
    assert.equal(results[2]!.status, 'rejected');
    const err = (results[2] as PromiseRejectedResult).reason;
    assert.ok(err instanceof RemoteError);
    assert.equal(err.code, -32603);
    assert.match(err.message, /too many requests in flight on this connection \(limit 2\)/);
    assert.equal(server.inFlightCount, 0);
    assert.equal(await client.request('s', { held: false }), 'ok');
  });

  test('in-flight cap: running notifications count; past the cap they are dropped, and close aborts the rest', async () => {
    const started: AbortSignal[] = [];
    const { client, server, b } = peers(
      (_m, _p, ctx) => {
        started.push(ctx.signal);
        return new Promise(() => undefined);
      },
      undefined,
      { maxInFlight: 3 },
    );
    for (let i = 0; i < 10; i++) client.notify('n', { i });
    await waitFor(() => started.length === 3);
    assert.equal(server.inFlightCount, 3);
    await assert.rejects(client.request('r', {}), /too many requests in flight on this connection \(limit 3\)/);
    assert.equal(started.length, 3, 'the seven past the cap never reached the handler');
    b.close();
    await waitFor(() => started.every((s) => s.aborted));
    assert.equal(server.inFlightCount, 0);
  });

  test('synchronous handlers do not count against the in-flight cap', async () => {
    const { client } = peers(() => 'sync', undefined, { maxInFlight: 1 });
    const all = await Promise.all(Array.from({ length: 5 }, () => client.request('m', {})));
    assert.deepEqual(all, ['sync', 'sync', 'sync', 'sync', 'sync']);
  });

  test('a handler returning undefined answers result null', async () => {
    const { client } = peers(() => undefined);
    assert.equal(await client.request('m', {}), null);
  });
});

describe('Peer: inbound deadlines', () => {
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  test('many calls in flight share one timer; it stops holding the process once they are answered', async () => {
    const release: (() => void)[] = [];
    const { server, client } = peers((_m, _p, ctx) => {
      ctx.setDeadline(60_000);
      return new Promise<string>((resolve) => release.push(() => resolve('ok')));
    }, () => undefined, { maxInFlight: 100 });
    const before = timers();
    const calls = Array.from({ length: 50 }, (_, i) => client.request('slow', { i }));
    await waitFor(() => release.length === 50);
    assert.ok(timers() - before <= 1, `${timers() - before} timers for 50 deadlines`);
    for (const r of release) r();
    assert.deepEqual(await Promise.all(calls), Array(50).fill('ok'));
    assert.equal(timers(), before, 'the shared timer no longer holds the process open');
    server.close();
  });

  test('a passed deadline answers with deadlineError and aborts the call; earlier and later deadlines keep their own time', async () => {
    const signals = new Map<string, AbortSignal>();
    const { server, client } = peers(
      (_m, p, ctx) => {
        const { tag, ms } = p as { tag: string; ms: number };
        signals.set(tag, ctx.signal);
        ctx.setDeadline(ms);
        return sleep(60_000, ctx.signal);
      },
      () => undefined,
      { deadlineError: (method, ms) => new RpcError(-32004, `${method} over ${ms} ms`) },
    );
    const short = client.request('work', { tag: 'short', ms: 10 });
    const long = client.request('work', { tag: 'long', ms: 60_000 });
    await assert.rejects(short, (err: unknown) => err instanceof RemoteError && err.code === -32004 && err.message === 'work over 10 ms');
    assert.equal(signals.get('short')!.aborted, true);
    assert.equal(signals.get('long')!.aborted, false, 'the long call is untouched');
    assert.equal(server.inFlightCount, 1);
    client.close();
    await assert.rejects(long);
    assert.equal(signals.get('long')!.aborted, true);
  });

  test('a handler that answers synchronously leaves nothing holding the process', async () => {
    const { server, client } = peers((_m, _p, ctx) => {
      ctx.setDeadline(60_000);
      return 'now';
    });
    const before = timers();
    const reply = client.request('fast', {});
    assert.equal(timers(), before);
    assert.equal(await reply, 'now');
    server.close();
  });
});
