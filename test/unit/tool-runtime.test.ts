import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { ToolRateLimiter, ToolResultCache } from '../../src/engine/executor/index.js';
import { MessagingExecutor, parseMessage } from '../../src/engine/executor/messaging.js';
import type { ToolCall, ToolOutcome } from '../../src/engine/tool-executor.js';
import { ServerStateConfig } from '../../src/index.js';

describe('ToolResultCache', () => {
  test('entries expire after their TTL', () => {
    let now = 1000;
    const cache = new ToolResultCache({ maxEntries: 10, maxBytes: 1 << 20 }, () => now);
    const key = ToolResultCache.key('t', { b: 1, a: 2 });
    assert.equal(key, ToolResultCache.key('t', { a: 2, b: 1 }), 'canonical parameters');
    cache.set(key, { v: 1 }, 500);
    now += 499;
    assert.deepEqual(cache.get(key), { output: { v: 1 }, ageMs: 499 });
    now += 1;
    assert.equal(cache.get(key), undefined);
    assert.equal(cache.size, 0);
    assert.equal(cache.byteSize, 0);
  });

  test('bounded by entries and bytes, least recently used out first', () => {
    const cache = new ToolResultCache({ maxEntries: 2, maxBytes: 100 });
    cache.set('a', 1, 1e6);
    cache.set('b', 2, 1e6);
    cache.get('a');
    cache.set('c', 3, 1e6);
    assert.equal(cache.get('b'), undefined, 'b was least recently used');
    assert.equal(cache.get('a')?.output, 1);
    assert.equal(cache.set('big', 'x'.repeat(200), 1e6), false);
    cache.set('d', 'y'.repeat(80), 1e6);
    assert.ok(cache.byteSize <= 100);
    assert.equal(cache.get('d')?.output, 'y'.repeat(80));
  });
});

describe('ToolRateLimiter', () => {
  test('a sliding window of max_calls per interval_secs, per tool', () => {
    let now = 0;
    const limiter = new ToolRateLimiter(() => now);
    const limit = { max_calls: 2, interval_secs: 1 };
    assert.equal(limiter.tryAcquire('t', limit), true);
    now = 500;
    assert.equal(limiter.tryAcquire('t', limit), true);
    assert.equal(limiter.tryAcquire('t', limit), false);
    assert.equal(limiter.tryAcquire('other', limit), true, 'per tool');
    now = 1000;
    assert.equal(limiter.tryAcquire('t', limit), true, 'the first call left the window');
    assert.equal(limiter.tryAcquire('t', limit), false);
  });
});

describe('messaging.send', () => {
  test('parameters are validated', () => {
    assert.equal(typeof parseMessage({ channel: 'c', kind: 'direct', to: 'x', body: 'b' }), 'object');
    assert.match(parseMessage({ channel: '', kind: 'direct', to: 'x', body: 'b' }) as string, /channel/);
    assert.match(parseMessage({ channel: 'c', kind: 'all', to: 'x', body: 'b' }) as string, /kind/);
    assert.match(parseMessage({ channel: 'c', kind: 'direct', to: 'x' }) as string, /body/);
    assert.match(parseMessage({ channel: 'c', kind: 'direct', to: 'x', body: 'b', extra: 1 }) as string, /unknown parameter 'extra'/);
  });

  test('concurrent sends with one idempotency_key share one delivery; a failed one may be retried', async () => {
    const calls: ToolCall[] = [];
    let fail = true;
    const inner = {
      execute(call: ToolCall): Promise<ToolOutcome> {
        calls.push(call);
        return Promise.resolve(
          fail ? { ok: false, error: 'busy', reason: 'tool_error', durationMs: 0 } : { ok: true, output: { message_id: 'm' }, durationMs: 0 },
        );
      },
    };
    const m = new MessagingExecutor(inner, () => true, 8);
    const params = { channel: 'c', kind: 'direct', to: 'x', body: 'b', idempotency_key: 'k' };
    const [a, b] = await Promise.all([
      m.execute({ tool: 'messaging.send', parameters: params }),
      m.execute({ tool: 'messaging.send', parameters: params }),
    ]);
    assert.equal(calls.length, 1);
    assert.equal(a.ok, false);
    assert.equal(b.ok, false);
    await new Promise((r) => setImmediate(r));
    fail = false;
    const c = await m.execute({ tool: 'messaging.send', parameters: params });
    assert.equal(c.ok, true);
    assert.equal(calls.length, 2);
    assert.equal(calls[1]!.tool, 'messaging.channel_send');
    assert.equal(m.keyCount, 1);
    const other = await m.execute({ tool: 'other', parameters: {} });
    assert.equal(other.ok, true);
    assert.equal(calls[2]!.tool, 'other', 'other tools pass through');
  });
});

describe('config: tool runtime limits', () => {
  test('defaults and validation', () => {
    const c = new ServerStateConfig();
    assert.equal(c.toolCacheMaxEntries, 1024);
    assert.equal(c.toolCacheMaxBytes, 16 * 1024 * 1024);
    assert.equal(c.messagingMaxIdempotencyKeys, 4096);
    for (const key of ['toolCacheMaxEntries', 'toolCacheMaxBytes', 'messagingMaxIdempotencyKeys'] as const) {
      assert.throws(() => new ServerStateConfig({ [key]: 0 }), new RegExp(`${key} must be a positive integer`));
    }
  });
});
