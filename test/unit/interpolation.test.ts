import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { interpolate, InterpolationError, type Resolution, type Resolver } from '../../src/engine/executor/interpolation.js';
import { prng as rng } from '../helpers/prng.js';

function resolver(outputs: Record<string, unknown>, statuses: Record<string, string> = {}): Resolver {
  return (id) => {
    if (Object.hasOwn(outputs, id)) return { ok: true, value: outputs[id] };
    if (Object.hasOwn(statuses, id)) return { ok: false, status: statuses[id] as string };
    return undefined;
  };
}

describe('$<id>.output interpolation', () => {
  const outputs = {
    a1: { items: [{ name: 'first', n: 1 }, { name: 'second' }], title: 'T', nested: { deep: { x: null } } },
    a2: 'plain text',
    a3: 42,
    'step.1': [10, 20],
  };
  const r = resolver(outputs, { failed1: 'failed', later: 'pending' });

  test('a whole-string reference becomes the value itself (any JSON)', () => {
    assert.deepEqual(interpolate({ v: '$a1.output' }, r), { v: outputs.a1 });
    assert.deepEqual(interpolate({ v: '$a3.output' }, r), { v: 42 });
    assert.deepEqual(interpolate({ v: '$a2.output' }, r), { v: 'plain text' });
  });

  test('dotted paths reach into objects and arrays', () => {
    assert.deepEqual(interpolate({ v: '$a1.output.items.0.name' }, r), { v: 'first' });
    assert.deepEqual(interpolate({ v: '$a1.output.items.1' }, r), { v: { name: 'second' } });
    assert.deepEqual(interpolate({ v: '$a1.output.nested.deep.x' }, r), { v: null });
    assert.deepEqual(interpolate({ v: '$step.1.output.1' }, r), { v: 20 }, 'ids may contain dots');
  });

  test('references inside longer strings are replaced by their text', () => {
    assert.deepEqual(interpolate({ v: 'title=$a1.output.title, n=$a3.output.' }, r), { v: 'title=T, n=42.' });
    assert.deepEqual(interpolate({ v: 'item: $a1.output.items.0' }, r), { v: 'item: {"name":"first","n":1}' });
    assert.deepEqual(interpolate({ v: '[$a2.output][$a2.output]' }, r), { v: '[plain text][plain text]' });
  });

  test('nested containers are walked; untouched containers are returned as they are', () => {
    const params = { keep: { a: [1, 2, { b: 'no refs $5' }] }, change: [{ x: '$a3.output' }] };
    const out = interpolate(params, r);
    assert.equal(out.keep, params.keep, 'no copy without references');
    assert.deepEqual(out.change, [{ x: 42 }]);
    assert.deepEqual(params.change, [{ x: '$a3.output' }], 'the input is not modified');
    const none = { a: 'x', b: [1, 'y'] };
    assert.equal(interpolate(none, r), none);
  });

  test('things that are not references of this proposal are left alone', () => {
    const params = { a: '$HOME', b: '$unknown.output', c: '$a1.outputs', d: 'cost: $5.output', e: '$a1.output_x' };
    assert.deepEqual(interpolate(params, r), params);
  });

  test('a reference to an action that did not succeed fails clearly', () => {
    assert.throws(
      () => interpolate({ text: '$failed1.output' }, r),
      (e: unknown) =>
        e instanceof InterpolationError &&
        e.message === "parameter 'text' references $failed1.output, but action 'failed1' did not succeed (failed)",
    );
    assert.throws(() => interpolate({ deep: { list: ['x $later.output y'] } }, r), /parameter 'deep\.list\[0\]' references \$later\.output, but action 'later' has not run yet/);
  });

  test('a path that does not exist in the output fails clearly', () => {
    assert.throws(() => interpolate({ v: '$a1.output.items.5.name' }, r), /the output of action 'a1' has no 'items\.5'/);
    assert.throws(() => interpolate({ v: '$a3.output.x' }, r), /has no 'x'/);
    assert.throws(() => interpolate({ v: '$a1.output.title.length' }, r), /has no 'title\.length'/);
  });

  test('a "__proto__" key survives interpolation as a plain own property', () => {
    const params = JSON.parse('{"__proto__": "$a3.output", "x": 1}') as Record<string, unknown>;
    const out = interpolate(params, r);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, 42);
  });
});

describe('interpolation, randomized', () => {
  test('every path into a random output resolves to the value found by walking it directly', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rand = rng(seed);
      const int = (n: number): number => Math.floor(rand() * n);
      const key = (): string => `k${int(5)}${['', '_x', '-y'][int(3)]}`;
      const gen = (depth: number): unknown => {
        const kind = depth >= 4 ? int(4) : int(6);
        if (kind === 0) return int(1000) - 500;
        if (kind === 1) return `s${int(100)}`;
        if (kind === 2) return [true, false, null][int(3)];
        if (kind === 3) return rand();
        if (kind === 4) return Array.from({ length: int(4) }, () => gen(depth + 1));
        const o: Record<string, unknown> = {};
        for (let i = int(4); i > 0; i--) o[key()] = gen(depth + 1);
        return o;
      };
      const output = gen(0);
      // Collect every path that exists, with the value there.
      const paths: [string, unknown][] = [];
      const walk = (v: unknown, path: string): void => {
        paths.push([path, v]);
        if (Array.isArray(v)) v.forEach((item, i) => walk(item, `${path}.${i}`));
        else if (typeof v === 'object' && v !== null) for (const [k, item] of Object.entries(v)) walk(item, `${path}.${k}`);
      };
      walk(output, '');
      const resolve: Resolver = (id): Resolution | undefined => (id === 'src' ? { ok: true, value: output } : undefined);
      for (const [path, expected] of paths) {
        const whole = interpolate({ v: `$src.output${path}` }, resolve);
        assert.deepEqual(whole.v, expected, `seed ${seed}: $src.output${path}`);
        const embedded = interpolate({ v: `<$src.output${path}>` }, resolve);
        const text = typeof expected === 'string' ? expected : JSON.stringify(expected);
        assert.equal(embedded.v, `<${text}>`, `seed ${seed}: embedded ${path}`);
      }
      // A segment that is not there fails rather than inventing a value.
      assert.throws(() => interpolate({ v: '$src.output.zz_missing' }, resolve), InterpolationError, `seed ${seed}`);
    }
  });
});
