import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import test from 'node:test';
import { ServerStateConfig } from '../../src/index.js';
import { DEFAULT_JOURNAL_MAX_FILES } from '../../src/engine/events/journal-dir.js';
import { waitFor } from '../helpers/raw-client.js';
import { startServer } from '../helpers/server.js';
import { tempDir } from '../helpers/temp.js';

const WRITE = { id: 'j1', actions: [{ id: 'w1', type: 'state_write', parameters: { key: 'k', value: 1 } }] };

test('journalMaxFiles: connections past the bound keep their journals while open; closed ones are swept down to it', async (t) => {
  assert.equal(new ServerStateConfig().journalMaxFiles, DEFAULT_JOURNAL_MAX_FILES);
  assert.throws(() => new ServerStateConfig({ journalMaxFiles: 0 }), RangeError);
  const dir = tempDir(t);
  const server = await startServer({ journalDir: dir, journalMaxFiles: 2 });
  t.after(() => server.close());
  const clients = [];
  for (let i = 0; i < 3; i++) {
    const c = await server.authed();
    await c.result('proposal.submit', { proposal: { ...WRITE, id: `j${i}` } });
    clients.push(c);
  }
  assert.equal(readdirSync(dir).length, 3, 'all three are being written');
  clients[0]!.close();
  await waitFor(() => readdirSync(dir).length === 2, undefined, 'the closed connection\'s journal swept');
  const c = await server.authed();
  await c.result('proposal.submit', { proposal: WRITE });
  assert.equal(readdirSync(dir).length, 3, 'a fourth live one is kept');
  clients[1]!.close();
  clients[2]!.close();
  await waitFor(() => readdirSync(dir).length === 2, undefined, 'back to the bound');
});
