import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { authTokenPath, RawClient, runToExit, startDaemon, tempDir } from './helpers.js';
import { callTool } from '../helpers/mcp.js';

test('88 against the binary: --mcp-bind serves /mcp and /mcp/health, sharing the daemon memory with WS', async (t) => {
  const carHome = tempDir(t);
  const daemon = await startDaemon(t, { carHome, args: ['--mcp-bind', '127.0.0.1:0', '--dream-interval', '0'] });
  const url = daemon.listening.mcp as string;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
  const health = await fetch(`${url}/health`);
  assert.equal(health.status, 200);

  const ws = await RawClient.connect(t, daemon.url);
  await ws.result('session.auth', { token: readFileSync(authTokenPath(carHome), 'utf8') });
  await ws.result('memory.add_fact', { subject: 'binary_ws_fact', body: 'added over the WebSocket' });

  const client = new Client({ name: 'e2e', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  t.after(() => client.close());
  const found = await callTool(client, 'memory_query', { query: 'binary ws fact' });
  assert.equal((found.nodes as { subject: string }[])[0]!.subject, 'binary_ws_fact');
  await callTool(client, 'memory_add_fact', { subject: 'binary_mcp_fact', body: 'added over MCP' });
  const rows = (await ws.result('memory.query', { query: 'binary mcp fact' })) as { subject: string }[];
  assert.equal(rows[0]!.subject, 'binary_mcp_fact');
});

test('--mcp-bind disabled serves no MCP endpoint; a malformed value is a usage error', async (t) => {
  const carHome = tempDir(t);
  const daemon = await startDaemon(t, { carHome, args: ['--mcp-bind', 'disabled'] });
  assert.equal(daemon.listening.mcp, null);
  const bad = await runToExit(t, { carHome, args: ['--mcp-bind', 'nowhere'] });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--mcp-bind must be host:port/);
});
