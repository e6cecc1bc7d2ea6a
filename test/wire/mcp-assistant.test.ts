import assert from 'node:assert/strict';
import { once } from 'node:events';
import test, { after, before, describe } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { AimockServer } from '../helpers/aimock.js';
import { modelsFile, openaiRow } from '../helpers/inference.js';
import { callTool, startMcp, type McpFixture } from '../helpers/mcp.js';
import { startServer, type TestServer } from '../helpers/server.js';
import type { ServerStateOptions } from '../../src/index.js';

const fixtures = [
  { match: { toolCallId: 'call_bad' }, response: { content: 'The tool refused my arguments.' } },
  { match: { toolCallId: 'call_save' }, response: { content: 'Saved the deploy target.' } },
  {
    match: { userMessage: 'remember the deploy target' },
    response: { toolCalls: [{ id: 'call_save', name: 'memory_add_fact', arguments: JSON.stringify({ subject: 'assistant_deploy', body: 'deploys go to Fly.io' }) }] },
  },
  {
    match: { userMessage: 'keep looking' },
    response: { toolCalls: [{ id: 'call_look', name: 'memory_query', arguments: JSON.stringify({ query: 'anything' }) }] },
    latency: 30,
  },
  { match: { userMessage: 'bad arguments' }, response: { toolCalls: [{ id: 'call_bad', name: 'memory_query', arguments: '{}' }] } },
];

interface Setup {
  server: TestServer;
  mcp: McpFixture;
  client: Client;
}

async function setup(mock: AimockServer, path: string, overrides: Partial<ServerStateOptions> = {}): Promise<Setup> {
  const server = await startServer({ modelsPath: path, ...overrides });
  const mcp = await startMcp(server.state);
  return { server, mcp, client: await mcp.client() };
}

async function teardown(s: Setup): Promise<void> {
  await s.mcp.close();
  await s.server.close();
}

/** Wait for the run to end (event from the registry, listened for before polling), then poll it once. */
async function finished(s: Setup, runId: string): Promise<Record<string, unknown>> {
  const runs = s.mcp.endpoint.assistant!;
  let stop = (): void => {};
  const ended = new Promise<void>((resolve) => {
    const on = (id: string): void => {
      if (id === runId) resolve();
    };
    runs.on('finished', on);
    stop = () => runs.off('finished', on);
  });
  try {
    if ((await callTool(s.client, 'assistant_poll', { run_id: runId })).status === 'running') await ended;
  } finally {
    stop();
  }
  return callTool(s.client, 'assistant_poll', { run_id: runId, since_seq: 0 });
}

describe('assistant_* over MCP: tool-using runs on the daemon model (aimock)', () => {
  let mock: AimockServer;
  let files: ReturnType<typeof modelsFile>;
  before(async () => {
    mock = await AimockServer.start(fixtures);
    files = modelsFile([openaiRow('local-coder', mock.v1)]);
  });
  after(async () => {
    await mock.stop();
    files.cleanup();
  });

  test('a run calls the daemon tools on the shared graph and ends ok with a car.do/1 result', async (t) => {
    const s = await setup(mock, files.path);
    t.after(() => teardown(s));
    const started = await callTool(s.client, 'assistant_start', { task: 'remember the deploy target', cwd: '/work', invoked_by: 'test' });
    assert.match(started.run_id as string, /^mcp-run-/);
    assert.equal(started.status, 'running');
    assert.equal(started.poll_after_ms, 2000);
    assert.equal((started.sandbox as { cwd: string }).cwd, '/work');
    const done = await finished(s, started.run_id as string);
    assert.equal(done.status, 'ok', JSON.stringify(done));
    assert.deepEqual(done.result, { schema: 'car.do/1', answer: 'Saved the deploy target.', turns: 2, tool_calls: 1, model: 'local-coder' });
    const types = (done.events as { seq: number; type: string }[]).map((e) => e.type);
    assert.deepEqual(types, ['started', 'model_turn', 'tool_result', 'model_turn', 'done']);
    assert.deepEqual((done.events as { seq: number }[]).map((e) => e.seq), [0, 1, 2, 3, 4]);
    assert.equal(done.next_seq, 5);
    const later = await callTool(s.client, 'assistant_poll', { run_id: started.run_id, since_seq: 3 });
    assert.deepEqual((later.events as { seq: number }[]).map((e) => e.seq), [3, 4]);
    assert.equal(later.events_skipped, 0);

    const ws = await s.server.authed();
    const rows = await ws.result('memory.query', { query: 'where do deploys go' });
    assert.equal(rows[0].subject, 'assistant_deploy');
  });

  test('a tool call with arguments the schema refuses is given back to the model as an error, and the run goes on', async (t) => {
    const s = await setup(mock, files.path);
    t.after(() => teardown(s));
    const { run_id } = await callTool(s.client, 'assistant_start', { task: 'bad arguments', cwd: '/' });
    const done = await finished(s, run_id as string);
    assert.equal(done.status, 'ok', JSON.stringify(done));
    const result = (done.events as { type: string; is_error?: boolean }[]).find((e) => e.type === 'tool_result');
    assert.equal(result!.is_error, true);
  });

  test('assistant_cancel lands at the next turn boundary', async (t) => {
    const s = await setup(mock, files.path);
    t.after(() => teardown(s));
    const { run_id } = await callTool(s.client, 'assistant_start', { task: 'keep looking', cwd: '/' });
    const ack = await callTool(s.client, 'assistant_cancel', { run_id });
    assert.deepEqual([ack.cancel_requested, ack.status], [true, 'running']);
    const done = await finished(s, run_id as string);
    assert.equal(done.status, 'cancelled');
    assert.equal((done.events as { type: string }[]).at(-1)!.type, 'cancelled');
    assert.equal(done.result, undefined);
  });

  test('mcpAssistantMaxTurns: a run still calling tools after the last turn fails; mcpAssistantMaxEvents keeps only the newest events', async (t) => {
    const s = await setup(mock, files.path, { mcpAssistantMaxTurns: 2, mcpAssistantMaxEvents: 3 });
    t.after(() => teardown(s));
    const { run_id } = await callTool(s.client, 'assistant_start', { task: 'keep looking', cwd: '/' });
    const done = await finished(s, run_id as string);
    assert.equal(done.status, 'error');
    assert.match(done.error as string, /turn limit \(2\)/);
    // started, model_turn, tool_result, model_turn, tool_result, error: the 3 newest are kept.
    assert.deepEqual((done.events as { seq: number; type: string }[]).map((e) => [e.seq, e.type]), [
      [3, 'model_turn'],
      [4, 'tool_result'],
      [5, 'error'],
    ]);
    assert.equal(done.events_skipped, 3);
    assert.equal(done.next_seq, 6);
  });

  test('mcpAssistantMaxRuns: one run past the bound is an isError result', async (t) => {
    const s = await setup(mock, files.path, { mcpAssistantMaxRuns: 1 });
    t.after(() => teardown(s));
    const { run_id } = await callTool(s.client, 'assistant_start', { task: 'keep looking', cwd: '/' });
    const refused = await s.client.callTool({ name: 'assistant_start', arguments: { task: 'keep looking', cwd: '/' } });
    assert.equal(refused.isError, true);
    assert.match(JSON.stringify(refused.content), /too many assistant runs in progress \(limit 1\)/);
    await callTool(s.client, 'assistant_cancel', { run_id });
    await finished(s, run_id as string);
    const again = await callTool(s.client, 'assistant_start', { task: 'remember the deploy target', cwd: '/' });
    assert.equal((await finished(s, again.run_id as string)).status, 'ok');
  });

  test('mcpAssistantIdleMs: a run nobody polls is cancelled', async (t) => {
    const s = await setup(mock, files.path, { mcpAssistantIdleMs: 50 });
    t.after(() => teardown(s));
    const runs = s.mcp.endpoint.assistant!;
    const ended = once(runs, 'finished');
    const { run_id } = await callTool(s.client, 'assistant_start', { task: 'keep looking', cwd: '/' });
    assert.deepEqual(await ended, [run_id, 'cancelled']);
  });

  test('with no model available the run ends in error, naming the cause', async (t) => {
    const s = await setup(mock, files.path, { modelsPath: null });
    t.after(() => teardown(s));
    const { run_id } = await callTool(s.client, 'assistant_start', { task: 'remember the deploy target', cwd: '/' });
    const done = await finished(s, run_id as string);
    assert.equal(done.status, 'error');
    assert.ok((done.error as string).length > 0);
  });
});
