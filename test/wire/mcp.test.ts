import assert from 'node:assert/strict';
import { once } from 'node:events';
import test, { after, before, describe } from 'node:test';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { assertRefusals, callTool, INITIALIZE, rawHttp, rawSession, REFUSED_ARGUMENTS, startMcp, type McpFixture } from '../helpers/mcp.js';

const TOOLS = [
  'assistant_cancel',
  'assistant_poll',
  'assistant_start',
  'equivalent',
  'memory_add_fact',
  'memory_delete',
  'memory_evaluate',
  'memory_intervene',
  'memory_query',
  'memory_save_knowledge',
  'memory_save_procedural',
  'memory_update_status',
  'optimize',
  'policy_check',
  'simulate',
  'skill_find',
  'skill_ingest',
  'skill_list',
  'verify',
];

const ACCEPT = { accept: 'application/json, text/event-stream' };
const proposal = (actions: unknown[]) => ({ id: 'p', actions });

describe('MCP endpoint over streamable HTTP', () => {
  let server: TestServer;
  let mcp: McpFixture;
  let client: Client;
  before(async () => {
    server = await startServer({ mcpResourcePageSize: 3 });
    mcp = await startMcp(server.state);
    client = await mcp.client();
  });
  after(async () => {
    await mcp.close();
    await server.close();
  });

  test('tools/list: the 16 tools and the 3 daemon-only ones, each with schemas and the four hints (openWorldHint never set)', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), TOOLS);
    for (const t of tools) {
      assert.equal(t.inputSchema.type, 'object', t.name);
      assert.equal(t.outputSchema?.type, 'object', t.name);
      assert.ok(t.description, t.name);
      const a = t.annotations!;
      for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint'] as const) assert.equal(typeof a[hint], 'boolean', `${t.name}.${hint}`);
      assert.equal(a.openWorldHint, undefined, t.name);
    }
    const byName = new Map(tools.map((t) => [t.name, t]));
    assert.equal(byName.get('memory_query')!.annotations!.readOnlyHint, true);
    assert.equal(byName.get('skill_ingest')!.annotations!.destructiveHint, true);
    assert.deepEqual(byName.get('memory_add_fact')!.inputSchema.required, ['subject', 'body']);
  });

  test('88: a fact added over MCP is found over WS, and one added over WS is found over MCP', async () => {
    const ws = await server.authed();
    const added = await callTool(client, 'memory_add_fact', { subject: 'mcp_deploy_target', body: 'Fly.io machines in ams' });
    assert.equal(typeof added.id, 'string');
    const rows = await ws.result('memory.query', { query: 'where do mcp deploys go?' });
    assert.equal(rows[0].subject, 'mcp_deploy_target');
    assert.equal(rows[0].body, 'Fly.io machines in ams');

    await ws.result('memory.add_fact', { subject: 'ws_release_day', body: 'releases ship on Thursdays' });
    const found = await callTool(client, 'memory_query', { query: 'which day do releases ship?', k: 3 });
    const nodes = found.nodes as { subject: string; activation: number }[];
    assert.equal(nodes[0]!.subject, 'ws_release_day');
    assert.equal(typeof nodes[0]!.activation, 'number');
  });

  test('tool failures and argument-schema failures are isError results, never protocol errors', async () => {
    const missing = await client.callTool({ name: 'memory_query', arguments: {} });
    assert.equal(missing.isError, true);
    assert.match(JSON.stringify(missing.content), /query/);
    const outOfRange = await client.callTool({ name: 'memory_query', arguments: { query: 'x', k: 51 } });
    assert.equal(outOfRange.isError, true);
    const bad = await client.callTool({ name: 'verify', arguments: { proposal: { actions: [{ id: 'a' }] } } });
    assert.equal(bad.isError, true);
    assert.match(JSON.stringify(bad.content), /actions\[0\]/);
    const unknown = await client.callTool({ name: 'no_such_tool', arguments: {} });
    assert.equal(unknown.isError, true);
    const noRun = await client.callTool({ name: 'assistant_poll', arguments: { run_id: 'mcp-run-nope' } });
    assert.equal(noRun.isError, true);
    assert.match(JSON.stringify(noRun.content), /unknown assistant run/);
  });

  test('the proactive bank and skills: save, intervene, evaluate, status, delete, ingest, list, find', async () => {
    const saved = await callTool(client, 'memory_save_procedural', {
      id: 'proc-deploy',
      subject: 'deploy failure',
      body: 'the deploy fails when the migration lock is held; release the lock first',
      confidence: '0.9',
      tags: ['deploy'],
    });
    assert.deepEqual([saved.id, saved.kind], ['proc-deploy', 'procedural']);
    const k = await callTool(client, 'memory_save_knowledge', { subject: 'staging url', body: 'staging lives at staging.internal' });
    assert.equal(k.kind, 'knowledge');
    const badConfidence = await client.callTool({ name: 'memory_save_knowledge', arguments: { subject: 's', body: 'b', confidence: 'high' } });
    assert.equal(badConfidence.isError, true);

    const inject = await callTool(client, 'memory_intervene', { query: 'the deploy fails, migration lock held', trigger: { repeated_failures: 2 } });
    assert.equal(inject.decision, 'inject');
    assert.equal((inject.selected as { id: string }).id, 'proc-deploy');
    const silent = await callTool(client, 'memory_intervene', { query: 'unrelated chatter about lunch' });
    assert.equal(silent.decision, 'silent');

    const evaluation = await callTool(client, 'memory_evaluate', {
      cases: [
        { id: 1, request: 'deploy fails, migration lock', relevant_fact_ids: ['proc-deploy'] },
        { id: 'x', request: { query: 'lunch', trigger: { context_shift: true } } },
      ],
    });
    assert.ok('selective' in evaluation || 'modes' in evaluation, JSON.stringify(evaluation).slice(0, 200));

    const status = await callTool(client, 'memory_update_status', { body: 'migrating the db' });
    assert.equal(status.id, 'proactive-status:global');
    assert.deepEqual(await callTool(client, 'memory_delete', { id: 'proactive-status:global' }), {
      id: 'proactive-status:global',
      deleted: true,
      kind: 'status',
      fact_count: (await callTool(client, 'memory_delete', { id: 'no-such-fact' })).fact_count,
    });
    const del = await callTool(client, 'memory_delete', { id: 'proc-deploy' });
    assert.deepEqual([del.deleted, del.kind], [true, 'procedural']);

    const ingested = await callTool(client, 'skill_ingest', {
      name: 'login_flow',
      code: 'await page.fill("#user", u)',
      persona: 'tester',
      url_pattern: 'example.com/login',
      task_keywords: ['login', 'sign in'],
    });
    assert.equal(ingested.name, 'login_flow');
    const listed = await callTool(client, 'skill_list');
    assert.deepEqual((listed.skills as { name: string }[]).map((x) => x.name), ['login_flow']);
    const found = await callTool(client, 'skill_find', { task: 'sign in to the site', url: 'https://example.com/login' });
    assert.equal((found.matches as { name: string }[])[0]!.name, 'login_flow');
    const none = await callTool(client, 'skill_find', { task: 'bake bread' });
    assert.equal(none.count, 0);
    assert.equal((await client.callTool({ name: 'skill_find', arguments: { task: 'x', k: 21 } })).isError, true);
  });

  test('every shared tool answers arguments its schema refuses with an isError result', async () => {
    assert.deepEqual(Object.keys(REFUSED_ARGUMENTS).sort(), TOOLS.filter((t) => !t.startsWith('assistant_')));
    await assertRefusals(client);
  });

  test('verify, simulate, equivalent, optimize', async () => {
    const p = proposal([
      { id: 'a', type: 'state_write', parameters: { key: 'x', value: 1 }, state_dependencies: ['never_written'] },
      { id: 'b', type: 'state_write', parameters: { key: 'y', value: 2 } },
    ]);
    const v = await callTool(client, 'verify', { proposal: p });
    assert.equal(v.valid, false);
    assert.match(JSON.stringify(v.issues), /never_written/);
    assert.deepEqual(v.simulated_state, { x: 1, y: 2 });
    const s = await callTool(client, 'simulate', { proposal: p, initial_state: { z: 0, never_written: true } });
    assert.deepEqual(s.final_state, { z: 0, never_written: true, x: 1, y: 2 });
    const e = await callTool(client, 'equivalent', { proposal_a: p, proposal_b: proposal([{ id: 'c', type: 'state_write', parameters: { key: 'y', value: 3 } }]) });
    assert.equal(e.equivalent, false);
    const o = await callTool(client, 'optimize', { proposal: p });
    assert.deepEqual(o.pruned, { a: ['never_written'] });
    const limited = await callTool(client, 'verify', { proposal: proposal([{ id: 'b', type: 'state_write', parameters: { key: 'y', value: 2 } }, { id: 'c', type: 'state_write', parameters: { key: 'z', value: 3 } }]), max_actions: 1 });
    assert.equal(limited.valid, false);
    assert.match(JSON.stringify(limited.issues), /1/);
  });

  test('GET /mcp/health answers 200', async () => {
    const r = await rawHttp(mcp.url + '/health', 'GET', {});
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).status, 'ok');
  });

  test('Origin: absent or loopback passes, anything else (null included) is 403', async () => {
    for (const origin of ['http://evil.example', 'null', 'http://127.0.0.1.evil.example']) {
      const r = await rawHttp(mcp.url, 'POST', { ...ACCEPT, origin }, INITIALIZE);
      assert.equal(r.status, 403, origin);
    }
    const ok = await rawHttp(mcp.url, 'POST', { ...ACCEPT, origin: 'http://localhost:5173' }, INITIALIZE);
    assert.equal(ok.status, 200);
    assert.equal((await rawHttp(mcp.url + '/health', 'GET', { origin: 'https://evil.example' })).status, 403);
  });

  test('Host: a non-loopback name (DNS rebinding) is 403', async () => {
    const r = await rawHttp(mcp.url, 'POST', { ...ACCEPT, host: 'evil.example:9102' }, INITIALIZE);
    assert.equal(r.status, 403);
    assert.match(r.body, /Host/);
    const ok = await rawHttp(mcp.url, 'POST', { ...ACCEPT, host: `localhost:${mcp.listener.port}` }, INITIALIZE);
    assert.equal(ok.status, 200);
  });

  test('MCP-Protocol-Version: an unsupported version is refused with 400', async () => {
    const id = await rawSession(mcp.url);
    const list = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
    const bad = await rawHttp(mcp.url, 'POST', { ...ACCEPT, 'mcp-session-id': id, 'mcp-protocol-version': '1999-01-01' }, list);
    assert.equal(bad.status, 400);
    assert.match(bad.body, /protocol version/i);
    const good = await rawHttp(mcp.url, 'POST', { ...ACCEPT, 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' }, list);
    assert.equal(good.status, 200);
    assert.equal(JSON.parse(good.body).result.tools.length, 19);
  });

  test('JSON responses; a notification gets 202; DELETE ends the session and its id then gets 404', async () => {
    const id = await rawSession(mcp.url);
    const h = { ...ACCEPT, 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' };
    const ping = await rawHttp(mcp.url, 'POST', h, { jsonrpc: '2.0', id: 7, method: 'ping' });
    assert.equal(ping.status, 200);
    assert.match(String(ping.headers['content-type']), /application\/json/);
    assert.deepEqual(JSON.parse(ping.body), { jsonrpc: '2.0', id: 7, result: {} });
    const note = await rawHttp(mcp.url, 'POST', h, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 99 } });
    assert.equal(note.status, 202);
    const closed = once(mcp.endpoint, 'sessionClosed');
    assert.equal((await rawHttp(mcp.url, 'DELETE', h)).status, 200);
    assert.equal((await closed)[0], id);
    assert.equal((await rawHttp(mcp.url, 'POST', h, { jsonrpc: '2.0', id: 8, method: 'ping' })).status, 404);
  });

  test('a request without a session that is not initialize is 400', async () => {
    const r = await rawHttp(mcp.url, 'POST', ACCEPT, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(r.status, 400);
  });

  test('resources: paged list, read, and a subscription notified when a WS client changes the fact', async () => {
    const ws = await server.authed();
    for (let i = 0; i < 4; i++) await ws.result('memory.add_fact', { subject: `page_${i}`, body: `paged fact ${i}`, fact_id: `page-${i}` });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await client.listResources(cursor === undefined ? {} : { cursor });
      assert.ok(page.resources.length <= 3);
      seen.push(...page.resources.map((r) => r.uri));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined);
    assert.ok(pages >= 3);
    assert.equal(new Set(seen).size, seen.length);
    assert.ok(seen.includes('car://memory/graph'));
    assert.ok(seen.includes('car://memory/facts/page-2'));

    const read = await client.readResource({ uri: 'car://memory/facts/page-2' });
    assert.equal(JSON.parse((read.contents[0] as { text: string }).text).body, 'paged fact 2');
    await assert.rejects(client.readResource({ uri: 'car://memory/facts/none' }), /not found/);
    await assert.rejects(client.listResources({ cursor: 'garbage' }), /cursor/);

    const updated = new Promise<string>((resolve) =>
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri)),
    );
    await client.subscribeResource({ uri: 'car://memory/graph' });
    await ws.result('memory.add_fact', { subject: 'late', body: 'a fact after the subscription' });
    assert.equal(await updated, 'car://memory/graph');
  });

  test('car_context prompt and completion of its mode and of resource URIs', async () => {
    const { prompts } = await client.listPrompts();
    assert.deepEqual(prompts.map((p) => p.name), ['car_context']);
    const got = await client.getPrompt({ name: 'car_context', arguments: { query: 'deploy target', mode: 'fast' } });
    assert.match((got.messages[0]!.content as { text: string }).text, /mcp_deploy_target|Fly\.io/);
    const modes = await client.complete({ ref: { type: 'ref/prompt', name: 'car_context' }, argument: { name: 'mode', value: 'f' } });
    assert.deepEqual(modes.completion.values.sort(), ['fast', 'full']);
    const fa = await client.complete({ ref: { type: 'ref/prompt', name: 'car_context' }, argument: { name: 'mode', value: 'fa' } });
    assert.deepEqual(fa.completion.values, ['fast']);
    const ids = await client.complete({ ref: { type: 'ref/resource', uri: 'car://memory/facts/{id}' }, argument: { name: 'id', value: 'page-' } });
    assert.ok(ids.completion.values.includes('page-1'));
    const uris = await client.complete({ ref: { type: 'ref/resource', uri: 'car://memory/graph' }, argument: { name: 'uri', value: 'car://memory/g' } });
    assert.deepEqual(uris.completion.values, ['car://memory/graph']);
  });
});

describe('MCP session limits', () => {
  test('mcpMaxSessions: the session past the bound is refused with 503, and fits again once one ends', async (t) => {
    const server = await startServer({ mcpMaxSessions: 2 });
    const mcp = await startMcp(server.state);
    t.after(async () => {
      await mcp.close();
      await server.close();
    });
    const first = await rawSession(mcp.url);
    await rawSession(mcp.url);
    const refused = await rawHttp(mcp.url, 'POST', ACCEPT, INITIALIZE);
    assert.equal(refused.status, 503);
    assert.match(refused.body, /too many MCP sessions \(limit 2\)/);
    const h = { ...ACCEPT, 'mcp-session-id': first, 'mcp-protocol-version': '2025-06-18' };
    assert.equal((await rawHttp(mcp.url, 'DELETE', h)).status, 200);
    assert.equal((await rawHttp(mcp.url, 'POST', ACCEPT, INITIALIZE)).status, 200);
  });

  test('mcpMaxBodyBytes: a body of exactly the bound is read, one byte more is 413', async (t) => {
    const server = await startServer({ mcpMaxBodyBytes: 600 });
    const mcp = await startMcp(server.state);
    t.after(async () => {
      await mcp.close();
      await server.close();
    });
    const padded = (size: number): string => {
      const base = JSON.stringify({ ...INITIALIZE, params: { ...INITIALIZE.params, pad: '' } });
      return base.replace('"pad":""', `"pad":"${'x'.repeat(size - base.length)}"`);
    };
    assert.equal(Buffer.byteLength(padded(600)), 600);
    assert.equal((await rawHttp(mcp.url, 'POST', ACCEPT, padded(600))).status, 200);
    const over = await rawHttp(mcp.url, 'POST', ACCEPT, padded(601));
    assert.equal(over.status, 413);
    assert.match(over.body, /600 bytes/);
  });

  test('mcpSessionIdleMs: a session idle past the bound is closed, and its id then gets 404', async (t) => {
    const server = await startServer({ mcpSessionIdleMs: 50 });
    const mcp = await startMcp(server.state);
    t.after(async () => {
      await mcp.close();
      await server.close();
    });
    const closed = new Map<string, string>();
    mcp.endpoint.on('sessionClosed', (id: string, reason: string) => closed.set(id, reason));
    const id = await rawSession(mcp.url);
    while (!closed.has(id)) await once(mcp.endpoint, 'sessionClosed');
    assert.equal(closed.get(id), 'idle');
    const h = { ...ACCEPT, 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' };
    assert.equal((await rawHttp(mcp.url, 'POST', h, { jsonrpc: '2.0', id: 1, method: 'ping' })).status, 404);
  });
});
