import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { classify, ErrorCode, RemoteError, RequestAbortedError, RpcError } from '../../src/index.js';
import { errorResponse, invalidRequest, successResponse } from '../../src/rpc/messages.js';
import { CHECK_VALUE_UP_TO_OPENS, depthCheckFor, exceedsJsonDepth, valueExceedsDepth } from '../../src/rpc/depth.js';

describe('classify', () => {
  test('a request: jsonrpc 2.0, a method and an id', () => {
    assert.deepEqual(classify({ jsonrpc: '2.0', id: 1, method: 'm', params: { a: 1 } }), {
      kind: 'request',
      id: 1,
      method: 'm',
      params: { a: 1 },
    });
    assert.deepEqual(classify({ jsonrpc: '2.0', id: 'x', method: 'm', params: [1, 2] }), {
      kind: 'request',
      id: 'x',
      method: 'm',
      params: [1, 2],
    });
    assert.deepEqual(classify({ jsonrpc: '2.0', id: 0, method: 'm' }), { kind: 'request', id: 0, method: 'm', params: undefined });
    assert.deepEqual(classify({ jsonrpc: '2.0', id: 0, method: 'm', params: null }), { kind: 'request', id: 0, method: 'm', params: undefined });
  });

  test('an explicit id: null is still a request (answered with id null)', () => {
    assert.deepEqual(classify({ jsonrpc: '2.0', id: null, method: 'm' }), {
      kind: 'request',
      id: null,
      method: 'm',
      params: undefined,
    });
  });

  test('fractional and negative numeric ids are accepted as-is', () => {
    assert.equal((classify({ jsonrpc: '2.0', id: -2.5, method: 'm' }) as { id: unknown }).id, -2.5);
  });

  test('a notification: no id member at all', () => {
    assert.deepEqual(classify({ jsonrpc: '2.0', method: 'n' }), { kind: 'notification', method: 'n', params: undefined });
    assert.deepEqual(classify({ jsonrpc: '2.0', method: 'n', params: [] }), { kind: 'notification', method: 'n', params: [] });
  });

  test('a success response, with or without "jsonrpc"', () => {
    assert.deepEqual(classify({ jsonrpc: '2.0', id: 'cb-1', result: { ok: 1 } }), { kind: 'response', id: 'cb-1', result: { ok: 1 } });
    assert.deepEqual(classify({ id: 4, result: null }), { kind: 'response', id: 4, result: null });
  });

  test('an error response, with or without "jsonrpc", id null allowed', () => {
    assert.deepEqual(classify({ jsonrpc: '2.0', id: 2, error: { code: -1, message: 'no' } }), {
      kind: 'error',
      id: 2,
      error: { code: -1, message: 'no' },
    });
    assert.deepEqual(classify({ id: null, error: { code: -32700, message: 'parse', data: [1] } }), {
      kind: 'error',
      id: null,
      error: { code: -32700, message: 'parse', data: [1] },
    });
  });

  const invalid: [string, unknown, unknown][] = [
    ['a number', 5, null],
    ['a string', 'x', null],
    ['null', null, null],
    ['an array', [], null],
    ['jsonrpc "1.0" on a request', { jsonrpc: '1.0', id: 3, method: 'm' }, 3],
    ['no jsonrpc on a request', { id: 3, method: 'm' }, 3],
    ['jsonrpc as a number', { jsonrpc: 2, id: 'a', method: 'm' }, 'a'],
    ['a non-string method', { jsonrpc: '2.0', id: 1, method: 7 }, 1],
    ['an empty method', { jsonrpc: '2.0', id: 1, method: '' }, 1],
    ['a null method', { jsonrpc: '2.0', id: 1, method: null }, 1],
    ['an object id', { jsonrpc: '2.0', id: {}, method: 'm' }, null],
    ['a boolean id', { jsonrpc: '2.0', id: true, method: 'm' }, null],
    ['an infinite id', { jsonrpc: '2.0', id: Infinity, method: 'm' }, null],
    ['params as a number', { jsonrpc: '2.0', id: 1, method: 'm', params: 1 }, 1],
    ['params as a string', { jsonrpc: '2.0', id: 1, method: 'm', params: 'p' }, 1],
    ['params true', { jsonrpc: '2.0', method: 'm', params: true }, null],
    ['both result and error', { jsonrpc: '2.0', id: 1, result: 1, error: { code: 1, message: 'x' } }, 1],
    ['neither method, result nor error', { jsonrpc: '2.0', id: 1 }, 1],
    ['a response without id', { jsonrpc: '2.0', result: 1 }, null],
    ['a response with an object id', { jsonrpc: '2.0', id: [1], result: 1 }, null],
    ['a response with jsonrpc "1.0"', { jsonrpc: '1.0', id: 9, result: 1 }, 9],
    ['an error that is a string', { jsonrpc: '2.0', id: 1, error: 'bad' }, 1],
    ['an error with a fractional code', { jsonrpc: '2.0', id: 1, error: { code: 1.5, message: 'x' } }, 1],
    ['an error without a message', { jsonrpc: '2.0', id: 1, error: { code: 1 } }, 1],
    ['an empty object', {}, null],
  ];
  for (const [label, value, id] of invalid) {
    test(`invalid: ${label}`, () => {
      const c = classify(value);
      assert.equal(c.kind, 'invalid');
      assert.equal((c as { id: unknown }).id, id);
      assert.match((c as { message: string }).message, /^invalid request: /);
    });
  }
});

describe('response builders', () => {
  test('successResponse turns an undefined result into null', () => {
    assert.deepEqual(successResponse(1, undefined), { jsonrpc: '2.0', id: 1, result: null });
    assert.deepEqual(successResponse('a', 0), { jsonrpc: '2.0', id: 'a', result: 0 });
  });

  test('errorResponse and invalidRequest', () => {
    assert.deepEqual(errorResponse(null, { code: -1, message: 'm' }), { jsonrpc: '2.0', id: null, error: { code: -1, message: 'm' } });
    assert.deepEqual(invalidRequest(2, 'bad'), { jsonrpc: '2.0', id: 2, error: { code: -32600, message: 'bad' } });
  });
});

describe('errors', () => {
  test('the CAR error codes', () => {
    assert.deepEqual(ErrorCode, {
      ParseError: -32700,
      InvalidRequest: -32600,
      MethodNotFound: -32601,
      InvalidParams: -32602,
      InternalError: -32603,
      AuthRequired: -32001,
      ApprovalDenied: -32003,
      DeadlineExceeded: -32004,
      HandshakeRequired: -32005,
      ProtocolVersionMismatch: -32006,
      ContentRefused: -32007,
    });
  });

  test('RpcError.toJSON omits undefined data', () => {
    assert.deepEqual(new RpcError(-32000, 'x').toJSON(), { code: -32000, message: 'x' });
    assert.deepEqual(new RpcError(-32000, 'x', { a: 1 }).toJSON(), { code: -32000, message: 'x', data: { a: 1 } });
    assert.deepEqual(new RpcError(-32000, 'x', null).toJSON(), { code: -32000, message: 'x', data: null });
  });

  test('RpcError.invalidParams prefixes the message', () => {
    const e = RpcError.invalidParams('key is required', { field: 'key' });
    assert.equal(e.code, -32602);
    assert.equal(e.message, 'invalid params: key is required');
    assert.deepEqual(e.data, { field: 'key' });
  });

  test('RpcError.from maps anything thrown to an RpcError', () => {
    const typed = new RpcError(-32005, 'typed');
    assert.equal(RpcError.from(typed), typed);
    assert.deepEqual(RpcError.from(new Error('plain')).toJSON(), { code: -32603, message: 'plain' });
    assert.deepEqual(RpcError.from(new TypeError('')).toJSON(), { code: -32603, message: 'TypeError' });
    assert.deepEqual(RpcError.from('a string').toJSON(), { code: -32603, message: 'a string' });
    assert.deepEqual(RpcError.from(undefined).toJSON(), { code: -32603, message: 'undefined' });
  });

  test('RemoteError and RequestAbortedError carry code / reason', () => {
    const r = new RemoteError({ code: 7, message: 'remote', data: 1 });
    assert.equal(r.code, 7);
    assert.equal(r.message, 'remote');
    assert.equal(r.data, 1);
    const a = new RequestAbortedError('timeout', 'slow');
    assert.equal(a.reason, 'timeout');
    assert.equal(a.name, 'RequestAbortedError');
  });
});

describe('exceedsJsonDepth', () => {
  const nest = (n: number): string => '['.repeat(n) + ']'.repeat(n);

  test('exactly maxDepth levels is fine; one more is too deep', () => {
    assert.equal(exceedsJsonDepth(nest(10), 10), false);
    assert.equal(exceedsJsonDepth(nest(11), 10), true);
    assert.equal(exceedsJsonDepth(nest(10_000), 256), true);
  });

  test('objects count as well as arrays, mixed', () => {
    const mixed = '{"a":[{"b":[{"c":[1]}]}]}'; // depth 6
    assert.equal(exceedsJsonDepth(mixed.padEnd(100, ' '), 6), false);
    assert.equal(exceedsJsonDepth(mixed.padEnd(100, ' '), 5), true);
  });

  test('siblings do not add up: depth is nesting, not count', () => {
    const wide = `[${Array.from({ length: 500 }, () => '[1]').join(',')}]`;
    assert.equal(exceedsJsonDepth(wide, 2), false);
  });

  test('brackets inside strings, including after escaped quotes, are ignored', () => {
    const inString = JSON.stringify({ s: '[[[[[[[[[[{{{{{{{{{{' + '"' + '[[[[[[' + '\\' });
    assert.equal(exceedsJsonDepth(inString.padEnd(200, ' '), 1), false);
    const afterEscape = JSON.stringify(['a\\"[[[[[[[[', '\\\\', '[[[[[[[']);
    assert.equal(exceedsJsonDepth(afterEscape.padEnd(200, ' '), 1), false);
  });

  test('a run of backslashes before a quote: even ends the string, odd escapes the quote', () => {
    const even = `["\\\\"${'['.repeat(5)}${']'.repeat(5)}]`; // two backslashes: the string ends, 6 levels
    assert.equal(exceedsJsonDepth(even.padEnd(100, ' '), 5), true);
    assert.equal(exceedsJsonDepth(even.padEnd(100, ' '), 6), false);
    const odd = `["\\\\\\"${'['.repeat(5)}"]`; // three backslashes: the quote is escaped, the brackets are string content
    assert.equal(exceedsJsonDepth(odd.padEnd(100, ' '), 1), false);
  });

  test('an unterminated string hides nothing after it and is left to the parser', () => {
    assert.equal(exceedsJsonDepth(`["${'['.repeat(300)}`, 2), false);
    assert.equal(exceedsJsonDepth(`${'['.repeat(3)}"${'['.repeat(300)}`, 2), true);
  });

  test('many brackets spread over siblings and strings never count as depth', () => {
    const wide = JSON.stringify(Array.from({ length: 400 }, (_, i) => ({ id: `a${i}`, p: { s: '{[' }, d: [] })));
    assert.equal(exceedsJsonDepth(wide, 3), false);
    assert.equal(exceedsJsonDepth(wide, 2), true);
  });

  test('text too short to exceed the bound is not scanned', () => {
    assert.equal(exceedsJsonDepth('[[]]', 2), false);
    assert.equal(exceedsJsonDepth('', 0), false);
  });
});

describe('depthCheckFor and valueExceedsDepth', () => {
  const nestArrays = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;
  const nestObjects = (n: number): string => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

  test('the value walk agrees with the text scan at the bound, for arrays, objects and mixes', () => {
    for (const text of [nestArrays(64), nestArrays(65), nestObjects(64), nestObjects(65), '{"a":[{"b":[{"c":[1]}]}]}', '[[],[[]],[[[]]]]', '[]', '{}', '1']) {
      for (const max of [0, 1, 2, 3, 5, 6, 64, 65]) {
        assert.equal(valueExceedsDepth(JSON.parse(text), max), exceedsJsonDepth(text, max), `${text.slice(0, 20)} at ${max}`);
      }
    }
    assert.equal(valueExceedsDepth(JSON.parse(nestArrays(64)), 64), false);
    assert.equal(valueExceedsDepth(JSON.parse(nestArrays(65)), 64), true);
  });

  test('siblings never add up in the value walk; a deep leaf anywhere is found', () => {
    const wide = { items: Array.from({ length: 500 }, (_, i) => ({ i, tags: [i] })) };
    assert.equal(valueExceedsDepth(wide, 4), false);
    assert.equal(valueExceedsDepth(wide, 3), true);
    const lateDeep = [...Array.from({ length: 100 }, () => 1), JSON.parse(nestArrays(10))];
    assert.equal(valueExceedsDepth(lateDeep, 10), true);
    assert.equal(valueExceedsDepth(lateDeep, 11), false);
  });

  test('a frame is checked not at all, on its value, or on its text, by how many brackets it opens', () => {
    assert.equal(depthCheckFor('{"jsonrpc":"2.0","id":1,"method":"state.get","params":{"key":"k"}}', 64), 'none');
    assert.equal(depthCheckFor(JSON.stringify(Array.from({ length: 100 }, () => ({}))), 64), 'value');
    assert.equal(depthCheckFor(JSON.stringify(Array.from({ length: CHECK_VALUE_UP_TO_OPENS }, () => ({}))), 64), 'text');
    assert.equal(depthCheckFor(nestArrays(CHECK_VALUE_UP_TO_OPENS + 1), 64), 'text');
  });
});
