import assert from 'node:assert/strict';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { describe } from 'node:test';
import { startServer, useServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/temp.js';
import { sdkClient, sendRequest, serveTools, taskJson } from '../helpers/a2a.js';
import { waitFor, type RawClient } from '../helpers/raw-client.js';
import { scaled } from '../helpers/timing.js';

const filesRoot = tempDir('car-a2a-files-');
const outside = tempDir('car-a2a-outside-');

interface TaskView {
  id: string;
  status: { state: string; message?: { parts: { text?: string }[] } };
  artifacts?: { name: string; parts: { data: { status: string; output: any; error: string | null } }[] }[];
}

const view = (r: Parameters<typeof taskJson>[0]): TaskView => taskJson(r) as unknown as TaskView;
const replyText = (t: TaskView): string | undefined => t.status.message?.parts[0]?.text;

/** Answer `agent.chat` on `c` with `onChat(session_id, prompt)`; frames it sends are seen in `c.received`. */
function serveChat(c: RawClient, onChat: (sessionId: string, prompt: string, id: unknown) => void): void {
  c.ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString('utf8'));
    if (frame?.method === 'agent.chat') onChat(frame.params.session_id, frame.params.prompt, frame.id);
  });
}

describe('A2A runtimes: the listener\'s own filesystem tools, and the sharing session\'s gates and chat', () => {
  const server = useServer({ a2aFilesRoot: filesRoot, a2aMaxFileBytes: 64 });

  test('without share_session_runtime: read_file / write_file / list_dir under the served directory, nothing outside it', async (t) => {
    const c = await server.authed();
    const { bound } = await c.result('a2a.start', { bind: '127.0.0.1:0' });
    t.after(() => c.result('a2a.stop', {}));
    const card: any = await (await fetch(`http://${bound}/.well-known/agent-card.json`)).json();
    const skills = card.skills.map((s: { id: string }) => s.id);
    for (const name of ['read_file', 'write_file', 'list_dir']) assert.ok(skills.includes(name), name);
    const client = await sdkClient(`http://${bound}`);
    const call = async (tool: string, parameters: Record<string, unknown>): Promise<TaskView> =>
      view(await client.sendMessage(sendRequest([{ data: { tool, parameters } }])));

    const wrote = await call('write_file', { path: 'notes/a.txt', content: 'hello' });
    assert.equal(wrote.status.state, 'TASK_STATE_COMPLETED', JSON.stringify(wrote));
    assert.equal(readFileSync(join(filesRoot, 'notes', 'a.txt'), 'utf8'), 'hello');
    const read = await call('read_file', { path: 'notes/a.txt' });
    assert.equal(read.artifacts![0]!.parts[0]!.data.output.content, 'hello');
    const listed = await call('list_dir', { path: 'notes' });
    assert.deepEqual(listed.artifacts![0]!.parts[0]!.data.output.entries, [{ name: 'a.txt', kind: 'file' }]);

    writeFileSync(join(outside, 'secret.txt'), 'secret');
    symlinkSync(outside, join(filesRoot, 'escape'));
    for (const path of ['../x.txt', 'escape/secret.txt']) {
      const refused = await call('read_file', { path });
      assert.equal(refused.status.state, 'TASK_STATE_FAILED', path);
      assert.match(replyText(refused) ?? '', /outside|leaves/, path);
    }
    // The permission tier judges the listener's own runtime too: a secret-looking path needs full_access.
    const secret = await call('read_file', { path: '/etc/passwd' });
    assert.equal(secret.status.state, 'TASK_STATE_FAILED');
    assert.match(replyText(secret) ?? '', /permission denied/);
    assert.equal(secret.artifacts, undefined, 'nothing ran');
    const viaLink = await call('write_file', { path: 'escape/new.txt', content: 'x' });
    assert.equal(viaLink.status.state, 'TASK_STATE_FAILED');
  });

  test('a2aMaxFileBytes: content of exactly the bound is written, one byte more is refused', async (t) => {
    const c = await server.authed();
    const { bound } = await c.result('a2a.start', { bind: '127.0.0.1:0' });
    t.after(() => c.result('a2a.stop', {}));
    const client = await sdkClient(`http://${bound}`);
    const write = async (n: number): Promise<TaskView> =>
      view(await client.sendMessage(sendRequest([{ data: { tool: 'write_file', parameters: { path: 'b.txt', content: 'x'.repeat(n) } } }])));
    assert.equal((await write(64)).status.state, 'TASK_STATE_COMPLETED');
    const over = await write(65);
    assert.equal(over.status.state, 'TASK_STATE_FAILED');
    assert.match(over.artifacts![0]!.parts[0]!.data.error ?? '', /at most 64/);
  });

  test("shared: the sharing session's policies judge A2A tool calls as they judge its own proposals", async (t) => {
    const c = await server.authed();
    await c.result('tools.register', [{ name: 'shell' }, { name: 'echo' }]);
    let ran = 0;
    serveTools(c, (tool) => {
      ran++;
      return { tool };
    });
    await c.result('policy.register', { name: 'no_shell', rule: 'deny_tool', target: 'shell' });
    const { bound } = await c.result('a2a.start', { bind: '127.0.0.1:0', share_session_runtime: true });
    t.after(() => c.result('a2a.stop', {}));
    const client = await sdkClient(`http://${bound}`);
    const denied = view(await client.sendMessage(sendRequest([{ data: { tool: 'shell', parameters: { command: 'ls' } } }])));
    assert.equal(denied.status.state, 'TASK_STATE_FAILED');
    assert.equal(ran, 0, 'the denied tool never ran');
    const allowed = view(await client.sendMessage(sendRequest([{ data: { tool: 'echo', parameters: {} } }])));
    assert.equal(allowed.status.state, 'TASK_STATE_COMPLETED');
    assert.equal(ran, 1);
  });

  test('shared: free text goes to the host\'s agent.chat; tokens are joined into the reply', async (t) => {
    const c = await server.authed();
    serveChat(c, (sessionId, prompt, id) => {
      c.send({ jsonrpc: '2.0', id, result: { accepted: true } });
      c.notify('agent.chat.event', { session_id: sessionId, kind: 'token', delta: { text: 'You said: ' } });
      c.notify('agent.chat.event', { session_id: sessionId, kind: 'token', delta: { text: prompt } });
      c.notify('agent.chat.event', { session_id: sessionId, kind: 'done', delta: {} });
    });
    const { bound } = await c.result('a2a.start', { bind: '127.0.0.1:0', share_session_runtime: true });
    t.after(() => c.result('a2a.stop', {}));
    const client = await sdkClient(`http://${bound}`);
    const reply = view(await client.sendMessage(sendRequest([{ text: 'ping' }])));
    assert.equal(reply.status.state, 'TASK_STATE_COMPLETED');
    assert.equal(replyText(reply), 'You said: ping');
  });
});

describe('A2A chat bounds, each at its bound', () => {
  async function withChat(overrides: Parameters<typeof startServer>[0], fn: (c: RawClient, base: string) => Promise<void>): Promise<void> {
    const server: TestServer = await startServer(overrides);
    try {
      const c = await server.authed();
      const { bound } = await c.result('a2a.start', { bind: '127.0.0.1:0', share_session_runtime: true });
      await fn(c, `http://${bound}`);
    } finally {
      await server.close();
    }
  }

  test('a2aChatAckTimeoutMs: a host that never accepts is answered "Acknowledged."', async () => {
    await withChat({ a2aChatAckTimeoutMs: scaled(200) }, async (c, base) => {
      let asked = 0;
      serveChat(c, () => asked++);
      const reply = view(await (await sdkClient(base)).sendMessage(sendRequest([{ text: 'anyone?' }])));
      assert.equal(asked, 1);
      assert.equal(reply.status.state, 'TASK_STATE_COMPLETED');
      assert.equal(replyText(reply), 'Acknowledged.');
    });
  });

  test('a2aChatReplyTimeoutMs: past the cap the turn is cancelled at the host and what arrived is the reply', async () => {
    await withChat({ a2aChatReplyTimeoutMs: scaled(300) }, async (c, base) => {
      serveChat(c, (sessionId, _prompt, id) => {
        c.send({ jsonrpc: '2.0', id, result: { accepted: true } });
        c.notify('agent.chat.event', { session_id: sessionId, kind: 'token', delta: { text: 'partial' } });
      });
      const reply = view(await (await sdkClient(base)).sendMessage(sendRequest([{ text: 'long one' }])));
      assert.equal(replyText(reply), 'partial');
      await waitFor(() => c.received.some((f) => f.method === 'agent.chat.cancel'), undefined, 'agent.chat.cancel');
    });
  });
});
