import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import test, { describe } from 'node:test';
import type { InboundContext, InboundHandler } from '../../src/rpc/peer.js';
import { callThrough } from '../../src/server/local-call.js';

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

describe('callThrough', () => {
  test("a call leaves no listener on the caller's long-lived signal, however it ends", async () => {
    const owner = new AbortController();
    const pipeline: InboundHandler = (method) => {
      switch (method) {
        case 'sync':
          return 1;
        case 'async':
          return Promise.resolve(2);
        case 'rejects':
          return Promise.reject(new Error('no'));
        default:
          throw new Error('thrown');
      }
    };
    for (let i = 0; i < 50; i++) {
      assert.equal(await callThrough(pipeline, 'sync', {}, owner.signal), 1);
      assert.equal(await callThrough(pipeline, 'async', {}, owner.signal), 2);
      await assert.rejects(callThrough(pipeline, 'rejects', {}, owner.signal), /no/);
      await assert.rejects(callThrough(pipeline, 'throws', {}, owner.signal), /thrown/);
    }
    assert.equal(listeners(owner.signal), 0);
  });

  test("aborting the caller's signal aborts a call in flight, and then nothing listens", async () => {
    const owner = new AbortController();
    let seen: AbortSignal | undefined;
    const pipeline: InboundHandler = (_method, _params, ctx: InboundContext) => {
      seen = ctx.signal;
      return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true }));
    };
    const pending = callThrough(pipeline, 'slow', {}, owner.signal);
    assert.equal(listeners(owner.signal), 1);
    owner.abort(new Error('listener stopped'));
    await assert.rejects(pending, /listener stopped/);
    assert.equal(seen?.aborted, true);
    assert.equal(listeners(owner.signal), 0);
  });
});
