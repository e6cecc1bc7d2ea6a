import assert from 'node:assert/strict';
import test, { after, describe } from 'node:test';
import { FrameParser } from '../../src/rpc/frame-parser.js';
import { JsonRebuild, sliceJson } from '../../src/rpc/json-slices.js';

function roundTrip(value: unknown, batchBytes: number): { value: unknown; batches: number } {
  const rebuild = new JsonRebuild();
  let batches = 0;
  for (const ops of sliceJson(value, batchBytes)) {
    rebuild.apply(structuredClone(ops));
    batches++;
  }
  return { value: rebuild.value, batches };
}

describe('json slices', () => {
  const shapes: [string, unknown][] = [
    ['a long string', 'ab😀'.repeat(100)],
    ['an array of small objects', Array.from({ length: 200 }, (_, i) => ({ i, s: `v${i}`, n: [i, null, true] }))],
    ['nested big containers', { a: { b: [Array.from({ length: 50 }, (_, i) => i), 'x'.repeat(300)], c: {} }, d: [[], [{}]] }],
    ['numbers', Array.from({ length: 500 }, (_, i) => i / 7)],
    ['a small value', { k: 1 }],
    ['a scalar', 42],
    ['integer-like keys', Object.fromEntries(Array.from({ length: 100 }, (_, i) => [String(99 - i), `v${i}`]))],
  ];
  for (const [label, value] of shapes) {
    test(`${label} is rebuilt equal, member order included`, () => {
      const out = roundTrip(value, 64);
      assert.deepEqual(out.value, value);
      assert.equal(JSON.stringify(out.value), JSON.stringify(value));
    });
  }

  test('a big value travels in many batches, each about the batch size', () => {
    const value = Array.from({ length: 1000 }, (_, i) => ({ i }));
    const out = roundTrip(value, 256);
    assert.ok(out.batches > 20, `${out.batches} batches`);
  });

  test('"__proto__" stays an own member, as JSON.parse makes it; -0 stays -0', () => {
    const value = JSON.parse(`{"big":[${'1,'.repeat(100)}-0],"__proto__":{"polluted":true},"x":{"__proto__":[${'2,'.repeat(50)}2]}}`);
    const out = roundTrip(value, 32).value as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.keys(out), ['big', '__proto__', 'x']);
    assert.equal(({} as { polluted?: boolean }).polluted, undefined);
    assert.ok(Object.is((out.big as number[])[100], -0));
    assert.equal(JSON.stringify(out), JSON.stringify(value));
  });
});

describe('FrameParser', () => {
  const parser = new FrameParser({ workers: 2, batchBytes: 1024 });
  after(() => parser.close());

  test('parses bytes and text off the main thread into the value JSON.parse gives', async () => {
    const value = { jsonrpc: '2.0', id: 1, method: 'm', params: { list: Array.from({ length: 5000 }, (_, i) => ({ i, t: 'é' })) } };
    const text = JSON.stringify(value);
    assert.deepEqual(await parser.parse(Buffer.from(text), 64), { ok: true, value });
    assert.deepEqual(await parser.parse(text, 64), { ok: true, value });
    assert.equal(parser.parsed, 2);
  });

  test('bad JSON: the syntax error is JSON.parse’s own message', async () => {
    const text = `{"jsonrpc":"2.0","id":1,"method":"m","params":[${'1,'.repeat(1000)}]}`;
    let message = '';
    try {
      JSON.parse(text);
    } catch (err) {
      message = (err as Error).message;
    }
    assert.deepEqual(await parser.parse(Buffer.from(text), 64), { ok: false, reason: 'syntax', message });
  });

  test('nesting deeper than the bound is refused before parsing', async () => {
    assert.deepEqual(await parser.parse(Buffer.from(`${'['.repeat(70)}${']'.repeat(70)}`), 64), { ok: false, reason: 'depth' });
    assert.deepEqual(await parser.parse(Buffer.from(`${'['.repeat(64)}${']'.repeat(64)}`), 64), {
      ok: true,
      value: JSON.parse(`${'['.repeat(64)}${']'.repeat(64)}`),
    });
  });

  test('never more threads than its bound, however many frames wait', async () => {
    const frames = Array.from({ length: 8 }, (_, i) => parser.parse(JSON.stringify({ i, pad: 'x'.repeat(100_000) }), 64));
    assert.ok(parser.threads <= 2);
    const outcomes = await Promise.all(frames);
    assert.deepEqual(
      outcomes.map((o) => (o.ok ? (o.value as { i: number }).i : -1)),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
  });

  test('an aborted parse resolves as aborted and the thread carries on', async () => {
    const controller = new AbortController();
    const pending = parser.parse(JSON.stringify(Array.from({ length: 20_000 }, (_, i) => i)), 64, controller.signal);
    controller.abort();
    assert.deepEqual(await pending, { ok: false, reason: 'aborted' });
    assert.deepEqual(await parser.parse('[1]', 64), { ok: true, value: [1] });
  });
});
