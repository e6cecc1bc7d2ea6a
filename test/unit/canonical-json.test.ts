import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import test, { describe } from 'node:test';
import { actionFingerprint, parametersDigest } from '../../src/index.js';
import { canonicalJson } from '../../src/util/canonical-json.js';
import { jsonValues } from '../helpers/json-values.js';

/** Seeded JSON values whose objects have shuffled keys, digit-like and non-ASCII ones among them. */
function generator(seed: number): () => unknown {
  const names = ['a', 'b', 'z', '10', '9', 'ä', 'A'];
  return jsonValues(seed, { keys: (_depth, next) => Array.from({ length: Math.floor(next() * 5) }, () => names[Math.floor(next() * names.length)]!) });
}

/** The same value with every object's keys written in sorted order (what the fast path accepts). */
function sortedCopy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedCopy);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortedCopy((v as Record<string, unknown>)[k]);
  return out;
}

describe('canonicalJson (src/util)', () => {
  test('equal JSON values give one text, whichever key order they were built in', () => {
    const next = generator(7);
    for (let i = 0; i < 500; i++) {
      const v = next();
      const text = canonicalJson(v);
      assert.equal(canonicalJson(sortedCopy(v)), text);
      assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(v)));
    }
  });

  test('values JSON cannot carry follow JSON.stringify; bigints become decimal strings', () => {
    assert.equal(canonicalJson({ b: 1n, a: undefined, f: () => 1, s: Symbol('x') }), '{"b":"1"}');
    assert.equal(canonicalJson([undefined, Infinity, -0, 2n ** 70n]), `[null,null,0,"${(2n ** 70n).toString()}"]`);
    assert.equal(canonicalJson(undefined), 'null');
  });

  test('toJSON is honoured at any depth, inside a sorted object', () => {
    const when = new Date(0);
    assert.equal(canonicalJson({ z: { at: when }, a: { toJSON: () => ({ y: 1, x: 2 }) } }), '{"a":{"x":2,"y":1},"z":{"at":"1970-01-01T00:00:00.000Z"}}');
  });

  test('every hash goes through it: fingerprints and supervision digests ignore key order', () => {
    const params = { path: '/tmp/x', flags: { recursive: true, force: false } };
    const reordered = { flags: { force: false, recursive: true }, path: '/tmp/x' };
    assert.equal(
      actionFingerprint({ type: 'tool_call', tool: 'rm', parameters: params }),
      `fp-${createHash('sha256').update(canonicalJson({ parameters: reordered, tool: 'rm', type: 'tool_call' })).digest('hex')}`,
    );
    assert.equal(parametersDigest(params), parametersDigest(reordered));
    assert.equal(parametersDigest(params), createHash('sha256').update(canonicalJson(reordered)).digest('hex'));
  });
});
