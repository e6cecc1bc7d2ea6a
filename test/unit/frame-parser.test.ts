import assert from 'node:assert/strict';
import test, { after, describe } from 'node:test';
import { FrameParser } from '../../src/rpc/frame-parser.js';
import { JsonRebuild, sliceJson } from '../../src/rpc/json-slices.js';
import { JsonWriter } from '../../src/rpc/json-text.js';
import { jsonSizeOver } from '../../src/util/json-size.js';

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

  test('"__proto__" stays an own member in small pieces too (they travel by structured clone)', async () => {
    const text = `{"list":[${'{"__proto__":{"p":1}},'.repeat(200)}{}]}`;
    const outcome = await parser.parse(text, 64);
    assert.ok(outcome.ok);
    const item = (outcome.value as { list: Record<string, unknown>[] }).list[0]!;
    assert.deepEqual(Object.keys(item), ['__proto__']);
    assert.equal(Object.getPrototypeOf(item), Object.prototype);
    assert.equal(JSON.stringify(outcome.value), JSON.stringify(JSON.parse(text)));
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

describe('JsonWriter: JSON text in slices', () => {
  const write = (value: unknown, slice: number): { text: string; steps: number } => {
    const w = new JsonWriter(value, slice);
    let steps = 1;
    while (!w.step()) steps++;
    return { text: w.text(), steps };
  };
  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }
  const values: [string, unknown][] = [
    ['many small objects', Array.from({ length: 2000 }, (_, i) => ({ i, s: `v${i}`, n: [i, null, false] }))],
    ['a long string', 'q"\\\n😀'.repeat(5000)],
    ['a long string cut between the halves of a surrogate pair', `x${'😀'.repeat(1000)}`],
    ['nested big containers', { a: { b: [Array.from({ length: 300 }, (_, i) => i), 'x'.repeat(3000)], c: {} }, d: [[], [{}]] }],
    ['members JSON leaves out, holes and odd numbers', { list: [undefined, () => 1, Number.NaN, -0, Infinity, ...Array(300).fill(1)], skip: undefined, fn: () => 2, keep: Array(300).fill('k') }],
    ['toJSON, class instances and a null prototype', { when: new Date(0), p: Array.from({ length: 300 }, (_, i) => new Point(i, -i)), bare: Object.assign(Object.create(null), { big: 'z'.repeat(5000) }) }],
    ['a scalar', 7],
    ['a small object', { ok: true }],
  ];
  for (const [label, value] of values) {
    test(`${label}: the same text as JSON.stringify`, () => {
      assert.equal(write(value, 512).text, JSON.stringify(value));
    });
  }

  test('a big value takes many steps, each about one slice of text', () => {
    const value = Array.from({ length: 5000 }, (_, i) => ({ i }));
    const { text, steps } = write(value, 1024);
    assert.ok(steps >= text.length / 2048, `${steps} steps for ${text.length} characters`);
  });

  test('a cycle throws as JSON.stringify does', () => {
    const a: unknown[] = Array(500).fill(1);
    a.push({ back: a });
    assert.throws(() => write(a, 64), /circular/);
  });

  test('jsonSizeOver stops counting past its cap', () => {
    assert.ok(jsonSizeOver(Array(1_000_000).fill({ a: 1 }), 1000) < 1100);
    assert.equal(jsonSizeOver('abc', 1000), 5);
  });
});
