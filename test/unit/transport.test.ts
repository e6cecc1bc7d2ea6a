import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { CloseCode, createMemoryPair, isAllowedOrigin, isLoopbackHost, type CloseInfo } from '../../src/index.js';
import { delay } from '../helpers/raw-client.js';

describe('MemoryTransport', () => {
  test('frames are delivered asynchronously and in order', async () => {
    const [a, b] = createMemoryPair();
    const got: string[] = [];
    b.onframe = (t) => got.push(t);
    assert.equal(a.send('one'), true);
    assert.equal(a.send('two'), true);
    assert.deepEqual(got, [], 'not delivered synchronously');
    await delay(0);
    assert.deepEqual(got, ['one', 'two']);
    assert.equal(a.kind, 'memory');
    assert.equal(a.remoteAddress, 'memory');
  });

  test('pause() holds frames (counted in the sender\'s bufferedBytes); resume() delivers them', async () => {
    const [a, b] = createMemoryPair({ maxBufferedBytes: 1000 });
    const got: string[] = [];
    b.onframe = (t) => got.push(t);
    b.pause();
    a.send('x'.repeat(100));
    a.send('y'.repeat(50));
    await delay(0);
    assert.deepEqual(got, []);
    assert.equal(a.bufferedBytes, 150);
    b.resume();
    await delay(0);
    assert.equal(got.length, 2);
    assert.equal(a.bufferedBytes, 0);
  });

  test('slow consumer: a send past maxBufferedBytes to a paused end fails and closes the pair with 1008', async () => {
    const [a, b] = createMemoryPair({ maxBufferedBytes: 100 });
    const closes: [string, CloseInfo][] = [];
    a.onclose = (info) => closes.push(['a', info]);
    b.onclose = (info) => closes.push(['b', info]);
    b.pause();
    assert.equal(a.send('x'.repeat(60)), true);
    assert.equal(a.send('x'.repeat(40)), true, 'exactly at the bound is fine');
    assert.equal(a.send('x'), false);
    assert.equal(a.isOpen, false);
    assert.equal(b.isOpen, false);
    await delay(0);
    assert.equal(closes.length, 2);
    for (const [, info] of closes) {
      assert.equal(info.code, CloseCode.PolicyViolation);
      assert.match(info.reason, /^slow consumer/);
    }
    assert.equal(a.send('after close'), false);
    assert.equal(b.send('after close'), false);
  });

  test('the bound does not trip for a consumer that keeps up', async () => {
    const [a, b] = createMemoryPair({ maxBufferedBytes: 100 });
    let n = 0;
    b.onframe = () => n++;
    for (let i = 0; i < 50; i++) {
      assert.equal(a.send('x'.repeat(80)), true);
      await delay(0);
    }
    assert.equal(n, 50);
    assert.equal(a.isOpen, true);
  });

  test('close() fires onclose once on both ends with the code and reason; it is idempotent', async () => {
    const [a, b] = createMemoryPair();
    const seen: string[] = [];
    a.onclose = (i) => seen.push(`a:${i.code}:${i.reason}`);
    b.onclose = (i) => seen.push(`b:${i.code}:${i.reason}`);
    a.close(4001, 'done');
    a.close(4002, 'again');
    b.close(4003, 'other side');
    await delay(0);
    assert.deepEqual(seen, ['a:4001:done', 'b:4001:done']);
  });

  test('a frame sent just before close() is still delivered, before onclose', async () => {
    const [a, b] = createMemoryPair();
    const events: string[] = [];
    b.onframe = (t) => events.push(`frame:${t}`);
    b.onclose = (i) => events.push(`close:${i.code}`);
    a.send('last words');
    a.close(1008, 'policy');
    await delay(0);
    assert.deepEqual(events, ['frame:last words', 'close:1008']);
  });

  test('frames still held by a paused end when the pair closes are dropped', async () => {
    const [a, b] = createMemoryPair();
    const got: string[] = [];
    b.onframe = (t) => got.push(t);
    b.pause();
    a.send('held');
    a.close();
    await delay(0);
    b.resume();
    await delay(0);
    assert.deepEqual(got, []);
  });
});

describe('isAllowedOrigin', () => {
  const table: [string | undefined, boolean][] = [
    [undefined, true],
    ['http://localhost', true],
    ['http://localhost:3000', true],
    ['https://localhost:8443', true],
    ['http://LOCALHOST:3000', true],
    ['http://app.localhost:5173', true],
    ['http://127.0.0.1', true],
    ['http://127.0.0.1:9100', true],
    ['http://127.1.2.3', true],
    ['http://[::1]', true],
    ['http://[::1]:8080', true],
    ['http://[0:0:0:0:0:0:0:1]:8080', true],
    ['https://evil.example', false],
    ['http://evil.example:3000', false],
    ['null', false],
    ['', false],
    ['not a url', false],
    ['file://', false],
    ['file:///etc/passwd', false],
    ['ws://localhost', false],
    ['chrome-extension://abcdef', false],
    ['http://localhost.evil.example', false],
    ['http://127.0.0.1.evil.example', false],
    ['http://evil.example/?http://localhost', false],
    ['http://localhost@evil.example', false],
    ['http://0.0.0.0', false],
    ['http://10.0.0.1', false],
    ['http://[::2]', false],
    ['http://[::ffff:127.0.0.1]', false],
  ];
  for (const [origin, allowed] of table) {
    test(`${JSON.stringify(origin)} → ${allowed ? 'allowed' : 'refused'}`, () => {
      assert.equal(isAllowedOrigin(origin), allowed);
    });
  }

  test('isLoopbackHost accepts bracketed and bare IPv6', () => {
    assert.equal(isLoopbackHost('[::1]'), true);
    assert.equal(isLoopbackHost('::1'), true);
    assert.equal(isLoopbackHost('localhost'), true);
    assert.equal(isLoopbackHost('example.com'), false);
  });
});
