import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { waitFor, type RawClient } from '../helpers/raw-client.js';
import { useServer } from '../helpers/server.js';

/** Frames at or over `workerParseThresholdBytes` are parsed on a parser thread; nothing else changes. */

const THRESHOLD = 64 * 1024;

/** A `state.set` frame of exactly `bytes` bytes (ASCII). */
function setFrame(bytes: number, id: number, key: string): string {
  const head = `{"jsonrpc":"2.0","id":${id},"method":"state.set","params":{"key":"${key}","value":"`;
  const tail = '"}}';
  return head + 'x'.repeat(bytes - head.length - tail.length) + tail;
}

function parseErrorOf(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return `parse error: ${(err as Error).message}`;
  }
  throw new Error('the text parses');
}

async function replies(c: RawClient, n: number): Promise<{ id: unknown; result?: unknown; error?: { code: number; message: string } }[]> {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await c.next());
  return out;
}

describe('workerParseThresholdBytes', () => {
  const server = useServer({ workerParseThresholdBytes: THRESHOLD });
  const parsed = (): number => server.state.frameParser!.parsed;

  test('a frame one byte under the bound is parsed inline, one of exactly the bound on a parser thread', async () => {
    const c = await server.authed();
    const before = parsed();
    c.send(setFrame(THRESHOLD - 1, 1, 'below'));
    assert.deepEqual(await c.next(), { jsonrpc: '2.0', id: 1, result: 'ok' });
    assert.equal(parsed(), before, 'under the bound: inline');
    c.send(setFrame(THRESHOLD, 2, 'at'));
    assert.deepEqual(await c.next(), { jsonrpc: '2.0', id: 2, result: 'ok' });
    assert.equal(parsed(), before + 1, 'at the bound: parser thread');
    const value = await c.result('state.get', { key: 'at' });
    assert.equal(value, JSON.parse(setFrame(THRESHOLD, 2, 'at')).params.value);
  });

  test('order on one connection is kept: small frames sent after a big one wait for it', async () => {
    const c = await server.authed();
    const big = setFrame(8 * THRESHOLD, 1, 'o');
    c.send(big);
    c.send({ jsonrpc: '2.0', id: 2, method: 'state.get', params: { key: 'o' } });
    c.send({ jsonrpc: '2.0', id: 3, method: 'state.set', params: { key: 'o', value: 'small' } });
    c.send(setFrame(2 * THRESHOLD, 4, 'p'));
    c.send({ jsonrpc: '2.0', id: 5, method: 'state.get', params: { key: 'o' } });
    const got = await replies(c, 5);
    assert.deepEqual(got.map((r) => r.id), [1, 2, 3, 4, 5]);
    assert.equal(got[1]!.result, JSON.parse(big).params.value, 'the get after the big set saw it');
    assert.equal(got[4]!.result, 'small');
  });

  test('bad JSON in a big frame: the same -32700 parse error as inline, and the connection lives on', async () => {
    const c = await server.authed();
    const bad = `${setFrame(2 * THRESHOLD, 1, 'bad').slice(0, -2)}]`;
    const before = parsed();
    c.send(bad);
    const reply = await c.next();
    assert.equal(parsed(), before + 1);
    assert.deepEqual(reply, { jsonrpc: '2.0', id: null, error: { code: -32700, message: parseErrorOf(bad) } });
    assert.equal(await c.result('state.exists', { key: 'bad' }), false);
  });

  test('a big frame nested past maxJsonDepth: the same -32600 as inline', async () => {
    const c = await server.authed();
    const deep = `${'['.repeat(300)}${'"x",'.repeat(THRESHOLD / 4)}0${']'.repeat(300)}`;
    c.send(deep);
    assert.deepEqual(await c.next(), {
      jsonrpc: '2.0',
      id: null,
      error: { code: -32600, message: 'invalid request: JSON nesting deeper than 256 levels' },
    });
    assert.equal(await c.result('state.exists', { key: 'k' }), false);
  });

  test('a big batch is parsed on a parser thread and answered as a batch', async () => {
    const c = await server.authed();
    const before = parsed();
    const pad = 'y'.repeat(THRESHOLD);
    c.send([
      { jsonrpc: '2.0', id: 'a', method: 'state.set', params: { key: 'b1', value: pad } },
      { jsonrpc: '2.0', id: 'b', method: 'state.get', params: { key: 'b1' } },
    ]);
    const reply = await c.next();
    assert.equal(parsed(), before + 1);
    assert.deepEqual(reply, [
      { jsonrpc: '2.0', id: 'a', result: 'ok' },
      { jsonrpc: '2.0', id: 'b', result: pad },
    ]);
  });

  test('while one connection streams big frames, the daemon and other connections keep answering', async () => {
    const sender = await server.authed();
    const healthy = await server.authed();
    const frames = 24;
    const before = parsed();
    for (let i = 0; i < frames; i++) sender.send(setFrame(16 * THRESHOLD, i + 1, `s${i % 3}`));
    // Each healthy reply notes how many big frames had been answered by then.
    const answeredAt: number[] = [];
    let answered = 0;
    const senderDone = (async () => {
      for (let i = 0; i < frames; i++) {
        const r = await sender.next();
        assert.deepEqual(r, { jsonrpc: '2.0', id: i + 1, result: 'ok' });
        answered++;
      }
    })();
    for (let i = 0; i < 20 && answered < frames; i++) {
      assert.equal(await healthy.result('state.set', { key: 'h', value: i }), 'ok');
      answeredAt.push(answered);
    }
    await senderDone;
    assert.equal(parsed(), before + frames);
    assert.ok(answeredAt.length > 0 && answeredAt[0]! < frames, `healthy replies came before the big frames were done: ${answeredAt.join(',')}`);
    assert.equal(await healthy.result('state.get', { key: 'h' }), answeredAt.length - 1);
  });

  test('a connection that closes while its big frame is parsed: the parse is dropped, the daemon carries on', async () => {
    const c = await server.authed();
    const before = parsed();
    c.send(setFrame(64 * THRESHOLD, 1, 'gone'));
    c.send({ jsonrpc: '2.0', id: 2, method: 'state.get', params: { key: 'gone' } });
    await waitFor(() => parsed() > before, undefined, 'the big frame to reach the parser');
    await c.close();
    await waitFor(() => server.state.frameParser!.inFlight === 0, undefined, 'the dropped parse to leave the parser');
    const other = await server.authed();
    assert.equal(await other.result('state.set', { key: 'k', value: 1 }), 'ok');
  });
});

describe('big replies are serialised in slices', () => {
  const server = useServer({ workerParseThresholdBytes: THRESHOLD, maxReplyBytes: 8 * THRESHOLD });
  const objects = (n: number): { i: number; s: string }[] => Array.from({ length: n }, (_, i) => ({ i, s: `v${i}` }));

  test('the text is what JSON.stringify gives, and frames sent after a big reply come after it', async () => {
    const c = await server.authed();
    const value = { list: objects(5000), tail: 'é'.repeat(THRESHOLD) };
    assert.equal(await c.result('state.set', { key: 'big', value }), 'ok');
    c.send({ jsonrpc: '2.0', id: 1, method: 'state.get', params: { key: 'big' } });
    c.send({ jsonrpc: '2.0', id: 2, method: 'state.get', params: { key: 'none' } });
    c.send([
      { jsonrpc: '2.0', id: 3, method: 'state.get', params: { key: 'big' } },
      { jsonrpc: '2.0', id: 4, method: 'state.exists', params: { key: 'big' } },
    ]);
    c.send({ jsonrpc: '2.0', id: 5, method: 'state.exists', params: { key: 'big' } });
    const first = await c.next();
    assert.deepEqual(first, { jsonrpc: '2.0', id: 1, result: value });
    assert.deepEqual(await c.next(), { jsonrpc: '2.0', id: 2, result: null });
    assert.deepEqual(await c.next(), [
      { jsonrpc: '2.0', id: 3, result: value },
      { jsonrpc: '2.0', id: 4, result: true },
    ]);
    assert.deepEqual(await c.next(), { jsonrpc: '2.0', id: 5, result: true });
  });

  test('a big reply over maxReplyBytes still becomes the -32603 limit error for its id', async () => {
    const c = await server.authed();
    const value = objects(40_000);
    await c.result('state.set', { key: 'huge', value });
    const bytes = Buffer.byteLength(JSON.stringify({ jsonrpc: '2.0', id: 9, result: value }));
    assert.ok(bytes > 8 * THRESHOLD);
    const reply = await c.call('state.get', { key: 'huge' }, { id: 9 });
    assert.equal(reply.error.code, -32603);
    assert.deepEqual(reply.error.data, { kind: 'limit', limit: 8 * THRESHOLD, bytes });
    assert.equal(await c.result('state.exists', { key: 'huge' }), true, 'the connection lives on');
  });
});

describe('maxFrameParseWorkers: 0 parses every frame inline', () => {
  const server = useServer({ workerParseThresholdBytes: THRESHOLD, maxFrameParseWorkers: 0 });

  test('big frames, good and bad, get the same answers with no parser thread', async () => {
    assert.equal(server.state.frameParser, null);
    const c = await server.authed();
    c.send(setFrame(4 * THRESHOLD, 1, 'k'));
    assert.deepEqual(await c.next(), { jsonrpc: '2.0', id: 1, result: 'ok' });
    const bad = `${setFrame(2 * THRESHOLD, 2, 'bad').slice(0, -2)}]`;
    c.send(bad);
    assert.deepEqual(await c.next(), { jsonrpc: '2.0', id: null, error: { code: -32700, message: parseErrorOf(bad) } });
  });
});
