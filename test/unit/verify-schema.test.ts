import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { schemaViolations } from '../../src/engine/verify/index.js';

const paths = (params: unknown, schema: unknown): string[] => schemaViolations(params, schema).map((v) => v.path);

describe('schemaViolations (JSON Schema subset)', () => {
  test('each primitive type accepts its own values and rejects others', () => {
    const cases: [string, unknown, unknown][] = [
      ['string', 'x', 1],
      ['number', 1.5, '1.5'],
      ['integer', 3, 3.5],
      ['boolean', false, 0],
      ['object', { a: 1 }, [1]],
      ['array', [1], { 0: 1 }],
      ['null', null, 0],
    ];
    for (const [type, good, bad] of cases) {
      const schema = { type: 'object', properties: { v: { type } } };
      assert.deepEqual(schemaViolations({ v: good }, schema), [], `${type} accepts ${JSON.stringify(good)}`);
      const v = schemaViolations({ v: bad }, schema);
      assert.equal(v.length, 1, `${type} rejects ${JSON.stringify(bad)}`);
      assert.equal(v[0]?.path, 'parameters.v');
      assert.match(v[0]?.message ?? '', new RegExp(`must be ${type}`));
    }
  });

  test('an integer is a number; null is not an object', () => {
    assert.deepEqual(schemaViolations({ n: 2 }, { properties: { n: { type: 'number' } } }), []);
    assert.equal(schemaViolations(null, { type: 'object' }).length, 1);
  });

  test('union types accept any member', () => {
    const schema = { properties: { v: { type: ['string', 'null'] } } };
    assert.deepEqual(paths({ v: 'a' }, schema), []);
    assert.deepEqual(paths({ v: null }, schema), []);
    const v = schemaViolations({ v: 3 }, schema);
    assert.equal(v.length, 1);
    assert.match(v[0]?.message ?? '', /must be string or null \(got integer\)/);
  });

  test('required names each missing field', () => {
    const schema = { type: 'object', required: ['a', 'b', 'c'] };
    assert.deepEqual(paths({ b: 1 }, schema), ['parameters.a', 'parameters.c']);
    assert.equal(schemaViolations({}, schema)[0]?.message, 'is required');
  });

  test('nested properties and items are checked with full paths', () => {
    const schema = {
      type: 'object',
      properties: {
        user: { type: 'object', required: ['id'], properties: { id: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } } },
        pair: { type: 'array', items: [{ type: 'string' }, { type: 'number' }] },
        'odd key': { type: 'boolean' },
      },
    };
    assert.deepEqual(
      paths({ user: { tags: ['a', 2] }, pair: [1, 'x'], 'odd key': 'no' }, schema),
      ['parameters.user.id', 'parameters.user.tags[1]', 'parameters.pair[0]', 'parameters.pair[1]', 'parameters["odd key"]'],
    );
    assert.deepEqual(paths({ user: { id: 7, tags: [] }, pair: ['a', 1] }, schema), []);
  });

  test('$<id>.output references are not type-checked but do satisfy required', () => {
    const schema = {
      type: 'object',
      required: ['n', 'deep'],
      properties: { n: { type: 'integer' }, deep: { type: 'object', properties: { s: { type: 'string' } } } },
    };
    assert.deepEqual(paths({ n: '$a1.output', deep: '$a2.output.body' }, schema), []);
    assert.deepEqual(paths({ n: '$a1.output', deep: { s: '$a1.output[0]' } }, schema), []);
    // Not a reference: no ".output" suffix, or text around it.
    assert.deepEqual(paths({ n: '$a1', deep: {} }, schema), ['parameters.n']);
    assert.deepEqual(paths({ n: 'x $a1.output', deep: {} }, schema), ['parameters.n']);
  });

  test('unknown keywords and type names constrain nothing; a non-object schema checks nothing', () => {
    assert.deepEqual(paths({ v: 'abc' }, { properties: { v: { type: 'string', minLength: 10, pattern: '^z' } } }), []);
    assert.deepEqual(paths({ v: 1 }, { properties: { v: { type: 'any' } } }), []);
    assert.deepEqual(paths({ v: 1 }, true), []);
    assert.deepEqual(paths({ v: 1 }, {}), []);
  });

  test('at most 20 violations are reported', () => {
    const props = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, { type: 'string' }]));
    const params = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
    assert.equal(schemaViolations(params, { properties: props }).length, 20);
  });
});
