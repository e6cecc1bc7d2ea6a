import assert from 'node:assert/strict';
import { join } from 'node:path';
import test, { describe } from 'node:test';
import { FACTS_LOCK_FILE, SharedFactFile } from '../../src/mcp/fact-file.js';
import { openStdioHost } from '../../src/mcp/stdio.js';
import { silentLogger } from '../../src/util/logger.js';
import { PidLock } from '../../src/util/pid-lock.js';
import { tempDir } from '../helpers/temp.js';

const LIMITS = { maxVerifyActions: 100, resourcePageSize: 100, policyFileMaxBytes: 65_536 };

function host(dir: string): ReturnType<typeof openStdioHost> {
  return openStdioHost({ version: 't', memoryDir: dir, policyDirs: [], limits: LIMITS, logger: silentLogger });
}

async function subjects(dir: string): Promise<string[]> {
  const data = await new SharedFactFile(dir, silentLogger).read();
  return data.facts.map((f) => f.subject).sort();
}

describe('car-mcp facts file shared by several processes', () => {
  test('two hosts on one directory, writing in turn and at once, lose none of each other’s facts', async (t) => {
    const dir = join(tempDir(t, 'car-mcp-facts-'), 'mcp');
    const a = await host(dir);
    const b = await host(dir);
    await a.factAdded!({ subject: 'from_a_1', body: 'first fact of a' });
    await b.factAdded!({ subject: 'from_b_1', body: 'first fact of b' });
    await a.factAdded!({ subject: 'from_a_2', body: 'second fact of a' });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).factAdded!({ subject: `burst_${i}`, body: `burst fact number ${i}` })),
    );
    await a.close();
    await b.close();
    const expected = ['from_a_1', 'from_a_2', 'from_b_1', ...Array.from({ length: 20 }, (_, i) => `burst_${i}`)].sort();
    assert.deepEqual(await subjects(dir), expected);
    // A host started now is seeded with all of them.
    const c = await host(dir);
    const graph = await c.memory();
    assert.equal(graph.engine.factCount, expected.length);
  });

  test('a write waits for another holder of the lock, and says so when the wait runs out', async (t) => {
    const dir = join(tempDir(t, 'car-mcp-facts-'), 'mcp');
    const file = new SharedFactFile(dir, silentLogger, 50);
    await file.add({ subject: 'before', body: 'written freely' });
    const held = PidLock.acquire(join(dir, FACTS_LOCK_FILE));
    assert.ok(held instanceof PidLock);
    await assert.rejects(file.add({ subject: 'blocked', body: 'never written' }), /memory file is busy: process \d+ has held mcp-stdio\.lock for over 50 ms/);
    const waiting = new SharedFactFile(dir, silentLogger, 10_000).add({ subject: 'after', body: 'written once the lock is free' });
    held.release();
    await waiting;
    assert.deepEqual(await subjects(dir), ['after', 'before']);
  });
});
