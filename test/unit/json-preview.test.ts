import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { jsonPrefix, jsonPreview } from '../../src/util/json-preview.js';
import { jsonValues } from '../helpers/json-values.js';

/** Seeded JSON values, some with long strings and long arrays so that both paths are taken. */
function generator(seed: number): () => unknown {
  return jsonValues(seed, {
    repeat: (depth, next) => 1 + Math.floor(next() * (depth < 2 && next() < 0.1 ? 300 : 3)),
    arrayLength: (depth, next) => Math.floor(next() * (depth < 1 && next() < 0.2 ? 200 : 4)),
    keys: (depth, next) => Array.from({ length: Math.floor(next() * (depth < 1 && next() < 0.2 ? 100 : 5)) }, () => `k${Math.floor(next() * 1000)}`),
  });
}

function expected(value: unknown, maxChars: number): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) as string);
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}

describe('jsonPreview', () => {
  test('is the start of JSON.stringify, cut at the bound with an ellipsis, for small and large values alike', () => {
    const gen = generator(7);
    let cut = 0;
    let large = 0;
    for (let i = 0; i < 600; i++) {
      const value = gen();
      if (value === null) continue;
      for (const max of [1, 20, 200]) assert.equal(jsonPreview(value, max), expected(value, max), JSON.stringify(value).slice(0, 300));
      const full = typeof value === 'string' ? value : (JSON.stringify(value) as string);
      if (full.length > 200) cut++;
      if (full.length > 4096) large++;
    }
    assert.ok(cut > 50 && large > 20, `the sample must exercise both paths (cut ${cut}, large ${large})`);
  });

  test('null and undefined have no preview; a string is shown as itself; members JSON leaves out stay out', () => {
    assert.equal(jsonPreview(null, 10), undefined);
    assert.equal(jsonPreview(undefined, 10), undefined);
    assert.equal(jsonPreview('plain "text"', 100), 'plain "text"');
    const sparse = { a: undefined, b: () => 1, c: [undefined, () => 1, Symbol('s')], d: new Date(0), e: 'x'.repeat(5000) };
    assert.equal(jsonPreview(sparse, 300), expected(sparse, 300));
    assert.equal(jsonPrefix(sparse, 10_000), JSON.stringify(sparse));
  });

  test('a huge value is read only as far as the bound: its size does not matter', () => {
    let reads = 0;
    const items = Array.from({ length: 100_000 }, (_, i) => ({ i, text: `item ${i}` }));
    const counted = new Proxy(items, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const shown = jsonPreview({ rows: counted }, 200);
    assert.equal(shown, expected({ rows: items }, 200));
    // The size walk stops at 4 KiB and the prefix at 201 characters: a few hundred items at most.
    assert.ok(reads < 1000, `read ${reads} of 100,000 items`);
  });

  test('a cyclic value gives a bounded preview instead of throwing', () => {
    const a: Record<string, unknown> = { name: 'loop' };
    a.self = a;
    const shown = jsonPreview(a, 50) as string;
    assert.ok(shown.startsWith('{"name":"loop","self":{"name":"loop"'), shown);
    assert.ok(shown.endsWith('…'));
  });
});
