import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { assertRefusals, callTool } from '../helpers/mcp.js';
import { cleanEnv, tempDir } from './helpers.js';

const MCP_BIN = fileURLToPath(new URL('../../../dist/cli/mcp-main.js', import.meta.url));

async function subjects(c: Client, q: string): Promise<string[]> {
  return ((await callTool(c, 'memory_query', { query: q })).nodes as { subject: string }[]).map((n) => n.subject);
}

async function connect(t: test.TestContext, carHome: string): Promise<Client> {
  const env = Object.fromEntries(Object.entries(cleanEnv(carHome)).filter((e): e is [string, string] => e[1] !== undefined));
  const client = new Client({ name: 'stdio-e2e', version: '1' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [MCP_BIN], env, stderr: 'pipe' }));
  t.after(() => client.close());
  return client;
}

test('car-mcp over stdio: the 16 tools, no daemon-only ones, and only memory_add_fact survives a restart', async (t) => {
  const carHome = tempDir(t);
  const first = await connect(t, carHome);
  const { tools } = await first.listTools();
  assert.equal(tools.length, 16);
  assert.ok(!tools.some((x) => x.name.startsWith('assistant_')));
  const unknown = await first.callTool({ name: 'assistant_start', arguments: { task: 'x', cwd: carHome } });
  assert.equal(unknown.isError, true);
  assert.match(JSON.stringify(unknown.content), /not found/);

  const added = await callTool(first, 'memory_add_fact', { subject: 'stdio_durable', body: 'kept across restarts' });
  await callTool(first, 'memory_save_knowledge', { subject: 'stdio_volatile', body: 'gone after a restart' });
  await callTool(first, 'skill_ingest', { name: 'volatile_skill', code: 'x()' });
  await assertRefusals(first);
  assert.ok((await subjects(first, 'volatile restart')).includes('stdio_volatile'));
  await first.close();

  const second = await connect(t, carHome);
  const durable = await callTool(second, 'memory_query', { query: 'stdio durable' });
  assert.deepEqual((durable.nodes as { fact_id: string; subject: string }[]).map((n) => [n.fact_id, n.subject]), [[added.id, 'stdio_durable']]);
  assert.equal((await callTool(second, 'memory_query', { query: 'kept across restarts' })).count, 1);
  assert.ok(!(await subjects(second, 'volatile restart')).includes('stdio_volatile'));
  assert.equal((await callTool(second, 'skill_list')).count, 0);
  assert.ok(readdirSync(join(carHome, 'mcp'), { recursive: true }).length > 0);
});

test('two car-mcp processes on one CAR_HOME (two MCP clients) keep every fact either of them added', async (t) => {
  const carHome = tempDir(t);
  const a = await connect(t, carHome);
  const b = await connect(t, carHome);
  await callTool(a, 'memory_add_fact', { subject: 'first_client_fact', body: 'written by the first client' });
  await callTool(b, 'memory_add_fact', { subject: 'second_client_fact', body: 'written by the second client' });
  await callTool(a, 'memory_add_fact', { subject: 'first_client_again', body: 'written by the first client later' });
  await a.close();
  await b.close();
  const c = await connect(t, carHome);
  for (const [query, subject] of [
    ['written by the first client', 'first_client_fact'],
    ['written by the second client', 'second_client_fact'],
    ['first client later', 'first_client_again'],
  ] as const) {
    assert.ok((await subjects(c, query)).includes(subject), `${subject} survived`);
  }
});

test('car-mcp --help says the daemon endpoint shares memory and stdio does not', () => {
  const r = spawnSync(process.execPath, [MCP_BIN, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /does not share memory with a running car-server/);
  assert.match(r.stdout, /http:\/\/127\.0\.0\.1:9102\/mcp/);
  const bad = spawnSync(process.execPath, [MCP_BIN, '--nope'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
});
