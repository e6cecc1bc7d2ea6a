import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { ToolHandleStore, type ToolChunk } from '../../src/engine/tool-handles.js';

describe('ToolHandleStore', () => {
  test('poll drains the buffer: a second immediate poll returns no chunks', () => {
    const store = new ToolHandleStore();
    const h = store.open('tail_log', 'a1');
    assert.match(h, /^[0-9a-f]{12}$/);
    store.push(h, { kind: 'text', text: 'line 1\n' });
    store.push(h, { kind: 'progress', fraction: 0.5, message: 'halfway' });
    const first = store.poll(h);
    assert.deepEqual(first, {
      handle: h,
      tool: 'tail_log',
      action_id: 'a1',
      status: 'running',
      chunks: [
        { kind: 'text', text: 'line 1\n' },
        { kind: 'progress', fraction: 0.5, message: 'halfway' },
      ],
    });
    assert.deepEqual(store.poll(h)?.chunks, []);
  });

  test('a done chunk ends the handle; after the terminal poll the handle is consumed', () => {
    const store = new ToolHandleStore();
    const h = store.open('job');
    store.push(h, { kind: 'done', result: { exit: 0 } });
    assert.equal(store.push(h, { kind: 'text', text: 'late' }), false);
    const last = store.poll(h);
    assert.equal(last?.status, 'succeeded');
    assert.deepEqual(last?.result, { exit: 0 });
    assert.equal(store.poll(h), null);
    assert.equal(store.size, 0);
  });

  test('an error chunk fails the handle with its message', () => {
    const store = new ToolHandleStore();
    const h = store.open('job');
    store.push(h, { kind: 'error', error: 'exit 2' });
    const out = store.poll(h);
    assert.equal(out?.status, 'failed');
    assert.equal(out?.error, 'exit 2');
  });

  test('the buffer keeps the newest maxChunks and reports how many were dropped', () => {
    const store = new ToolHandleStore({ maxChunks: 3 });
    const h = store.open('chatty');
    for (let i = 0; i < 5; i++) store.push(h, { kind: 'text', text: String(i) });
    const out = store.poll(h);
    assert.deepEqual(
      out?.chunks.map((c) => (c as { text: string }).text),
      ['2', '3', '4'],
    );
    assert.equal(out?.dropped_chunks, 2);
    assert.equal(store.poll(h)?.dropped_chunks, undefined);
  });

  test('cancel seals a running handle; false for unknown or finished handles', () => {
    const store = new ToolHandleStore();
    assert.equal(store.cancel('nope'), false);
    const h = store.open('job');
    assert.equal(store.cancel(h), true);
    assert.equal(store.cancel(h), false);
    assert.equal(store.poll(h)?.status, 'cancelled');
    assert.equal(store.poll('nope'), null);
  });

  test('terminal handles nobody polled are reaped after reapAfterMs, without a timer', () => {
    let now = 1000;
    const store = new ToolHandleStore({ reapAfterMs: 100, now: () => now });
    const done = store.open('a');
    store.push(done, { kind: 'done' });
    const running = store.open('b');
    now += 101;
    assert.equal(store.poll(done), null);
    assert.equal(store.poll(running)?.status, 'running');
  });

  test('every pushed chunk reaches onChunk', () => {
    const seen: [string, ToolChunk][] = [];
    const store = new ToolHandleStore({ onChunk: (h, c) => seen.push([h, c]) });
    const h = store.open('a');
    store.push(h, { kind: 'data', data: [1] });
    assert.deepEqual(seen, [[h, { kind: 'data', data: [1] }]]);
  });
});
