import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { startServer } from '../helpers/server.js';
import { startMcp } from '../helpers/mcp.js';
import { tempDir } from '../helpers/temp.js';
import { withTimeout } from '../helpers/raw-client.js';
import { scaled } from '../helpers/timing.js';

const BASELINE = fileURLToPath(new URL('../../../test/conformance/mcp-baseline.yml', import.meta.url));
const require = createRequire(import.meta.url);
const CLI = join(dirname(require.resolve('@modelcontextprotocol/conformance/package.json')), 'dist', 'index.js');

/**
 * The official MCP conformance suite (active scenarios) against the daemon's endpoint. The run
 * exits non-zero when a scenario outside the baseline fails or a baseline entry passes.
 */
test('the MCP conformance suite passes every scenario outside the fixture baseline', async (t) => {
  const server = await startServer();
  const mcp = await startMcp(server.state);
  t.after(async () => {
    await mcp.close();
    await server.close();
  });
  const out = tempDir(t, 'car-mcp-conformance-');
  const child = spawn(process.execPath, [CLI, 'server', '--url', mcp.url, '--expected-failures', BASELINE, '-o', out], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
  const code = await withTimeout(new Promise<number | null>((resolve) => child.once('exit', resolve)), scaled(300_000), 'conformance run');
  const summary = /Total: (\d+) passed, (\d+) failed/.exec(output);
  assert.ok(summary, `no summary line in:\n${output.slice(-2000)}`);
  t.diagnostic(summary[0]);
  const baseline = readFileSync(BASELINE, 'utf8').split('\n').filter((l) => /^\s+- /.test(l));
  assert.equal(Number(summary[2]), baseline.length, 'every failure is a baseline entry');
  for (const entry of baseline) assert.match(entry, /# .+/, `baseline entry without a reason: ${entry}`);
  assert.equal(code, 0, output.slice(-3000));
  assert.match(output, /✓ dns-rebinding-protection/);
  assert.match(output, /✓ resources-subscribe/);
});
