import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { describe } from 'node:test';
import { startServer } from '../helpers/server.js';
import { tempDir } from '../helpers/temp.js';
import { textImagePgm } from '../helpers/text-image.js';

const NO_GATE = { approvalGate: { enabled: false, methods: [], timeoutMs: 1000 } };
const HAS_TESSERACT = spawnSync('tesseract', ['--version']).status === 0;

describe('macOS/Windows integrations answer in the reference shape', () => {
  test('messages.send (reference params) is {available: false, backend, reason, sent: false}', async (t) => {
    const server = await startServer(NO_GATE);
    t.after(() => server.close());
    const c = await server.authed();
    const r = await c.result('messages.send', { recipient: '+15555550123', body: 'hello from CAR' });
    assert.deepEqual([r.available, r.backend, r.sent], [false, null, false]);
    assert.match(r.reason, /no Messages backend/);
  });

  test('vision.ocr with no backend is {available: false, observations: []}, not an error', async (t) => {
    const server = await startServer({ ...NO_GATE, ocrProgram: 'car-test-no-such-ocr-program' });
    t.after(() => server.close());
    const c = await server.authed();
    const r = await c.result('vision.ocr', { image_path: '/tmp/screenshot.png', fast_path: false, languages: ['en-US'] });
    assert.deepEqual([r.available, r.observations], [false, []]);
    assert.equal((await c.error('vision.ocr', {})).code, -32602);
  });

  test('vision.ocr reads lines with Tesseract, boxes normalised from the bottom left', { skip: HAS_TESSERACT ? false : 'tesseract is not installed (Debian tesseract-ocr)' }, async (t) => {
    const server = await startServer(NO_GATE);
    t.after(() => server.close());
    const image = join(tempDir(t, 'car-ocr-'), 'text.pgm');
    writeFileSync(image, textImagePgm(['HELLO WORLD', 'OLD RED HOLE']));
    const c = await server.authed();
    const r = await c.result('vision.ocr', { image_path: image, languages: ['en-US'] });
    assert.equal(r.available, true);
    assert.deepEqual(r.observations.map((o: { text: string }) => o.text), ['HELLO WORLD', 'OLD RED HOLE']);
    for (const o of r.observations) {
      assert.deepEqual(Object.keys(o).sort(), ['confidence', 'h', 'text', 'w', 'x', 'y']);
      for (const v of [o.confidence, o.x, o.y, o.w, o.h]) assert.ok(v >= 0 && v <= 1, JSON.stringify(o));
    }
    assert.ok(r.observations[0].y > r.observations[1].y, 'the first line is higher up, so further from the bottom');
    const missing = await c.error('vision.ocr', { image_path: join(image, '..', 'absent.png') });
    assert.equal(missing.code, -32602);
  });

  test('ocrMaxOutputBytes: recognition output of exactly the limit is read, one byte more fails', async (t) => {
    const dir = tempDir(t, 'car-ocr-fake-');
    const program = (bytes: number): string => {
      const path = join(dir, `ocr-${bytes}`);
      writeFileSync(path, `#!/bin/sh\nhead -c ${bytes} /dev/zero | tr '\\000' 'a'\n`);
      chmodSync(path, 0o700);
      return path;
    };
    const limit = 1000;
    for (const [bytes, ok] of [[limit, true], [limit + 1, false]] as const) {
      const server = await startServer({ ...NO_GATE, ocrProgram: program(bytes), ocrMaxOutputBytes: limit });
      try {
        const c = await server.authed();
        if (ok) assert.deepEqual(await c.result('vision.ocr', { image_path: '/x.png' }), { available: true, observations: [], backend: 'tesseract' });
        else assert.match((await c.error('vision.ocr', { image_path: '/x.png' })).message, /exceeds 1000 bytes/);
      } finally {
        await server.close();
      }
    }
  });
});
