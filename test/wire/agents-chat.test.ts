import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CarClient, serveChat } from '../../src/client/index.js';
import { AimockServer } from '../helpers/aimock.js';
import { modelsFile, openaiRow } from '../helpers/inference.js';
import { waitFor, type Frame, type RawClient } from '../helpers/raw-client.js';
import { HOST_TOKEN, startServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/temp.js';
import { scaled } from '../helpers/timing.js';
import { scriptedAgent } from '../fixtures/chat-agent.js';

const AGENT = fileURLToPath(new URL('../fixtures/agent.js', import.meta.url));
const WAIT = scaled(20_000);
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]).toString('base64');

const fixtures = [
  { match: { userMessage: 'the impossible holds' }, response: { content: 'NOT MET: still impossible' } },
  { match: { userMessage: 'attempt 1' }, response: { content: 'NOT MET: only one attempt so far' } },
  { match: { userMessage: 'attempt 2' }, response: { content: 'MET: two attempts made' } },
];

/** Every agents.chat.event for `sessionId` up to and including the terminal one. */
async function events(c: RawClient, sessionId: string): Promise<{ kind: string; delta?: any }[]> {
  const out: { kind: string; delta?: any }[] = [];
  for (;;) {
    const f: Frame = await c.next();
    if (f.method !== 'agents.chat.event' || f.params.session_id !== sessionId) continue;
    out.push({ kind: f.params.kind, ...(f.params.delta !== undefined && { delta: f.params.delta }) });
    if (f.params.kind === 'done' || f.params.kind === 'error') return out;
  }
}

describe('agents.chat: relay, sessions, approvals, goals', () => {
  let server: TestServer;
  let mock: AimockServer;
  let models: ReturnType<typeof modelsFile>;
  let home: string;
  const cancelled: string[] = [];
  const agents: CarClient[] = [];

  /** An in-process agent attached with its own token, serving the scripted agent. */
  async function agent(id: string): Promise<CarClient> {
    const client = await CarClient.connect({ url: server.url, token: await server.agentToken(id), agentId: id });
    serveChat(client, scriptedAgent(cancelled));
    agents.push(client);
    return client;
  }

  before(async () => {
    mock = await AimockServer.start(fixtures);
    models = modelsFile([openaiRow('judge', mock.v1)]);
    home = tempDir('car-chat-');
    server = await startServer({
      modelsPath: models.path,
      chatGoalsPath: join(home, 'chat-goals.json'),
      agentsManifestPath: join(home, 'agents.json'),
      agentsLogDir: join(home, 'logs'),
      agentEnv: { PATH: process.env.PATH },
    });
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await server.close();
    await mock.stop();
    models.cleanup();
  });

  test('a turn streams token events then done, to the starting connection only; the session is gone after done', async () => {
    await agent('echoer');
    const host = await server.authed();
    const other = await server.authed();
    const ack = await host.result('agents.chat', { agent_id: 'echoer', prompt: 'echo hello wide world', session_id: 's-echo' });
    assert.deepEqual(ack, { accepted: true, session_id: 's-echo' });
    const got = await events(host, 's-echo');
    assert.deepEqual(got.map((e) => e.kind), ['token', 'token', 'token', 'done']);
    assert.deepEqual(got.map((e) => e.delta?.text), ['hello ', 'wide ', 'world ', 'hello wide world']);
    assert.equal(server.state.chat.get('s-echo'), undefined);
    assert.equal(other.pendingFrames, 0, 'nothing for other connections');
    const generated = (await host.result('agents.chat', { agent_id: 'echoer', prompt: 'tool find it' })) as { session_id: string };
    assert.match(generated.session_id, /^chat-[0-9a-f-]{36}$/);
    assert.deepEqual((await events(host, generated.session_id)).map((e) => e.kind), ['tool_call', 'done']);
  });

  test('agents.chat.list shows sessions in flight; opening and closing are host events (the dashboard\'s chat list)', async () => {
    await agent('listed');
    const host = await server.authed();
    const watcher = await server.connect();
    await watcher.result('session.auth', { host_token: HOST_TOKEN });
    await watcher.result('server.handshake', { protocol_version: 2 });
    await watcher.result('host.subscribe', {});
    await host.result('agents.chat', { agent_id: 'listed', prompt: 'hang', session_id: 's-listed' });
    const rows = (await host.result('agents.chat.list', {})) as { session_id: string; agent_id: string; host_session: string; created_at: number }[];
    const row = rows.find((r) => r.session_id === 's-listed')!;
    assert.equal(row.agent_id, 'listed');
    assert.equal(typeof row.created_at, 'number');
    await host.result('agents.chat.cancel', { session_id: 's-listed' });
    const kinds: string[] = [];
    while (!kinds.includes('chat.session_closed')) {
      const f = await watcher.next();
      if (f.method === 'host.event' && f.params.payload?.session_id === 's-listed') kinds.push(f.params.kind);
    }
    assert.deepEqual(kinds, ['chat.session_opened', 'chat.session_closed']);
    assert.ok(!((await host.result('agents.chat.list', {})) as { session_id: string }[]).some((r) => r.session_id === 's-listed'));
  });

  test('stream: false holds the tokens back and delivers the text with done; an agent error ends the session', async () => {
    await agent('quiet');
    const host = await server.authed();
    await host.result('agents.chat', { agent_id: 'quiet', prompt: 'echo a b', session_id: 's-quiet', stream: false });
    assert.deepEqual(await events(host, 's-quiet'), [{ kind: 'done', delta: { text: 'a b' } }]);
    await host.result('agents.chat', { agent_id: 'quiet', prompt: 'fail', session_id: 's-fail' });
    assert.deepEqual(await events(host, 's-fail'), [{ kind: 'error', delta: { message: 'the agent failed on purpose' } }]);
    assert.equal(server.state.chat.size, 0);
  });

  test('refusals: an unattached agent, a session id in flight, bad attachments, goal with attachments', async () => {
    await agent('picky');
    const host = await server.authed();
    const absent = await host.error('agents.chat', { agent_id: 'nobody-home', prompt: 'hi' });
    assert.match(absent.message, /not attached/);
    await host.result('agents.chat', { agent_id: 'picky', prompt: 'hang', session_id: 's-busy' });
    assert.match((await host.error('agents.chat', { agent_id: 'picky', prompt: 'hi', session_id: 's-busy' })).message, /already in flight/);
    await host.result('agents.chat.cancel', { session_id: 's-busy' });
    const gif = await host.error('agents.chat', { agent_id: 'picky', prompt: 'x', attachments: [{ type: 'image_base64', media_type: 'image/bmp', data: PNG }] });
    assert.equal(gif.code, -32602);
    assert.match(gif.message, /attachments\.0/);
    const notImage = await host.error('agents.chat', { agent_id: 'picky', prompt: 'x', attachments: [{ type: 'image_base64', data: Buffer.from('plain text').toString('base64') }] });
    assert.match(notImage.message, /not PNG, JPEG, GIF or WebP/);
    const ftp = await host.error('agents.chat', { agent_id: 'picky', prompt: 'x', attachments: [{ type: 'image_url', url: 'ftp://example.com/a.png' }] });
    assert.equal(ftp.code, -32602);
    const both = await host.error('agents.chat', { agent_id: 'picky', prompt: 'x', goal: { check: 'c' }, attachments: [{ type: 'image_url', url: 'https://example.com/a.png' }] });
    assert.match(both.message, /goal and attachments/);
    const ok = await host.result('agents.chat', {
      agent_id: 'picky',
      prompt: 'echo seen',
      session_id: 's-att',
      attachments: [{ type: 'image_base64', media_type: 'image/png', data: PNG }, { type: 'image_url', url: 'https://example.com/a.png' }],
    });
    assert.equal(ok.accepted, true);
    await events(host, 's-att');
  });

  test('cancel forwards agent.chat.cancel and ends the session; cancelling again answers cancelled: false', async () => {
    await agent('hanger');
    const host = await server.authed();
    await host.result('agents.chat', { agent_id: 'hanger', prompt: 'hang', session_id: 's-cancel' });
    assert.ok(server.state.chat.get('s-cancel'));
    assert.deepEqual(await host.result('agents.chat.cancel', { session_id: 's-cancel' }), { cancelled: true, session_id: 's-cancel' });
    assert.equal(server.state.chat.get('s-cancel'), undefined);
    await waitFor(() => cancelled.includes('s-cancel'), WAIT, 'the agent to see the cancel');
    assert.deepEqual(await host.result('agents.chat.cancel', { session_id: 's-cancel' }), { cancelled: false, session_id: 's-cancel' });
  });

  test('the host disconnecting ends its sessions and cancels them at the agent', async () => {
    await agent('orphaned');
    const host = await server.authed();
    await host.result('agents.chat', { agent_id: 'orphaned', prompt: 'hang', session_id: 's-host-gone' });
    await host.close();
    await waitFor(() => server.state.chat.get('s-host-gone') === undefined, WAIT, 'the session to end');
    await waitFor(() => cancelled.includes('s-host-gone'), WAIT, 'the agent to be told');
  });

  test('the agent disconnecting ends its sessions with an error event to the host', async () => {
    const a = await agent('leaver');
    const host = await server.authed();
    await host.result('agents.chat', { agent_id: 'leaver', prompt: 'hang', session_id: 's-agent-gone' });
    await a.close();
    assert.deepEqual(await events(host, 's-agent-gone'), [{ kind: 'error', delta: { message: "agent 'leaver' disconnected" } }]);
    assert.equal(server.state.chat.get('s-agent-gone'), undefined);
  });

  test('only the session\'s agent may send its events; an unknown session is refused', async () => {
    await agent('owner-agent');
    const intruder = await agent('intruder');
    const host = await server.authed();
    await host.result('agents.chat', { agent_id: 'owner-agent', prompt: 'hang', session_id: 's-guarded' });
    await assert.rejects(intruder.call('agent.chat.event', { session_id: 's-guarded', kind: 'done', delta: { text: 'forged' } }), /belongs to another connection/);
    await assert.rejects(intruder.call('agent.chat.event', { session_id: 's-nope', kind: 'token' }), /no chat session/);
    await assert.rejects(intruder.call('agent.chat.event', { session_id: 's-guarded', kind: 'shout' }), /kind/);
    assert.ok(server.state.chat.get('s-guarded'), 'still in flight');
    await host.result('agents.chat.cancel', { session_id: 's-guarded' });
  });

  test('approve: approval_pending reaches the host; only the starter or a host-role session may answer, not the agent', async () => {
    const a = await agent('asker');
    const host = await server.authed();
    const bystander = await server.authed();
    await host.result('agents.chat', { agent_id: 'asker', prompt: 'approve', session_id: 's-ap' });
    const [pending] = [await nextEvent(host, 's-ap')];
    assert.deepEqual(pending, { kind: 'approval_pending', delta: { approval_id: 'ap-1', tool: 'shell' } });
    assert.match((await bystander.error('agents.chat.approve', { session_id: 's-ap', approval_id: 'ap-1', decision: true })).message, /only the session that started/);
    await assert.rejects(a.call('agents.chat.approve', { session_id: 's-ap', approval_id: 'ap-1', decision: true }), /may not steer/);
    assert.deepEqual(await host.result('agents.chat.approve', { session_id: 's-ap', approval_id: 'ap-1', decision: 'approve' }), { resolved: true, session_id: 's-ap' });
    assert.deepEqual(await nextEvent(host, 's-ap'), { kind: 'done', delta: { text: 'approved' } });

    await host.result('agents.chat', { agent_id: 'asker', prompt: 'approve', session_id: 's-ap2' });
    await nextEvent(host, 's-ap2');
    const hostRole = await server.connect();
    await hostRole.result('session.auth', { host_token: HOST_TOKEN });
    assert.deepEqual(await hostRole.result('agents.chat.approve', { session_id: 's-ap2', approval_id: 'ap-1' }), { resolved: true, session_id: 's-ap2' });
    assert.deepEqual(await nextEvent(host, 's-ap2'), { kind: 'done', delta: { text: 'denied' } }, 'no decision denies');
  });

  test('goal: the reply is judged after each turn, the agent re-prompted until met, goal_evaluated each time', async () => {
    await agent('worker');
    const host = await server.authed();
    await host.result('agents.chat', { agent_id: 'worker', prompt: 'go', session_id: 's-goal', goal: { check: 'two attempts were made' } });
    const got = await events(host, 's-goal');
    assert.deepEqual(got.map((e) => e.kind), ['goal_evaluated', 'goal_evaluated', 'done']);
    assert.equal(got[0]!.delta.met, false);
    assert.equal(got[0]!.delta.iteration, 1);
    assert.equal(got[1]!.delta.met, true);
    assert.equal(got[1]!.delta.reason, 'two attempts made');
    assert.deepEqual(got[2]!.delta, { text: 'attempt 2', goal: { met: true, iterations: 2 } });
    const metered = (await host.result('events.query', { kinds: ['InferenceMetered'] })) as { count: number };
    assert.equal(metered.count, 2, 'each judgement is metered');
  });

  test('goal: max_iterations bounds the loop; a goal set with goal.set is used when the chat names none', async () => {
    await agent('stuck');
    const host = await server.authed();
    assert.deepEqual(await host.result('goal.set', { session_id: 's-stuck', check: '  the impossible holds  ', max_iterations: 2 }), {
      set: true,
      goal: { check: 'the impossible holds', max_iterations: 2 },
    });
    await host.result('agents.chat', { agent_id: 'stuck', prompt: 'go', session_id: 's-stuck' });
    const got = await events(host, 's-stuck');
    assert.deepEqual(got.map((e) => [e.kind, e.delta.met ?? e.delta.goal?.met]), [
      ['goal_evaluated', false],
      ['goal_evaluated', false],
      ['done', false],
    ]);
    assert.equal(got[2]!.delta.goal.iterations, 2);
  });

  test('goal.set/status/clear: clamped, persisted atomically to a 0600 chat-goals.json, all or one', async () => {
    const c = await server.authed();
    assert.deepEqual((await c.result('goal.set', { session_id: 'g1', goal: { check: 'tests pass', max_iterations: 500 } })).goal, { check: 'tests pass', max_iterations: 50 });
    assert.deepEqual((await c.result('goal.set', { session_id: 'g2', goal: { check: 'x', max_iterations: 0 } })).goal, { check: 'x', max_iterations: 1 });
    assert.equal((await c.error('goal.set', { session_id: 'g3', goal: { check: '   ' } })).code, -32602);
    assert.equal((await c.error('goal.set', { session_id: 'g3' })).code, -32602);
    const path = join(home, 'chat-goals.json');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')).goals.g1, { check: 'tests pass', max_iterations: 50 });
    assert.deepEqual(await c.result('goal.status', { session_id: 'g1' }), { session_id: 'g1', goal: { check: 'tests pass', max_iterations: 50 } });
    assert.deepEqual(await c.result('goal.status', { session_id: 'none' }), { session_id: 'none', goal: null });
    assert.ok('g2' in (await c.result('goal.status', {})).goals);
    assert.deepEqual(await c.result('goal.clear', { session_id: 'g1' }), { cleared: true, session_id: 'g1' });
    assert.deepEqual(await c.result('goal.clear', { session_id: 'g1' }), { cleared: false, session_id: 'g1' });
    const all = (await c.result('goal.clear', {})) as { cleared: number };
    assert.ok(all.cleared >= 1);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')).goals, {});
  });

  test('goal.suggest finds the project verifier, or says it found none; set stores it', async () => {
    const c = await server.authed();
    const project = tempDir('car-project-');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ scripts: { test: 'node --test' } }));
    const s = await c.result('goal.suggest', { prompt: 'fix the parser', working_dir: project, session_id: 'sg', set: true });
    assert.equal(s.suggested, true);
    assert.match(s.goal.check, /`npm test` passes/);
    assert.deepEqual(s.signals, ['package.json scripts.test']);
    assert.ok(s.confidence > 0.5);
    assert.equal((await c.result('goal.status', { session_id: 'sg' })).goal.check, s.goal.check);
    const empty = tempDir('car-empty-');
    mkdirSync(join(empty, 'src'));
    const none = await c.result('goal.suggest', { objective: 'anything', working_dir: empty });
    assert.equal(none.suggested, false);
    assert.equal(none.goal, null);
    assert.equal(none.confidence, 0);
    assert.equal((await c.error('goal.suggest', { working_dir: empty })).code, -32602);
  });

  test('a supervised child-process agent serves chat through CarClient.serveAgent with its own identity', async () => {
    const owner = await server.authed();
    await owner.result('agents.upsert', { id: 'child-chat', command: process.execPath, args: [AGENT, 'chat'] });
    await owner.result('agents.start', { id: 'child-chat' });
    await waitFor(() => server.state.attachedAgents.has('child-chat'), WAIT, 'the child agent to attach');
    await owner.result('agents.chat', { agent_id: 'child-chat', prompt: 'echo from a child', session_id: 's-child' });
    const got = await events(owner, 's-child');
    assert.equal(got.at(-1)!.delta.text, 'from a child');
    const [row] = ((await owner.result('agents.list', {})) as { spec: { id: string }; attached: boolean }[]).filter((a) => a.spec.id === 'child-chat');
    assert.equal(row!.attached, true);
    await owner.result('agents.stop', { id: 'child-chat' });
  });
});

async function nextEvent(c: RawClient, sessionId: string): Promise<{ kind: string; delta?: any }> {
  for (;;) {
    const f = await c.next();
    if (f.method === 'agents.chat.event' && f.params.session_id === sessionId) return { kind: f.params.kind, ...(f.params.delta !== undefined && { delta: f.params.delta }) };
  }
}
