import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AUTH_TOKEN, useServer } from '../helpers/server.js';
import { waitFor } from '../helpers/raw-client.js';
import { scaled } from '../helpers/timing.js';
import { tempDir } from '../helpers/temp.js';

const AGENT = fileURLToPath(new URL('../fixtures/agent.js', import.meta.url));
const WAIT = scaled(20_000);

interface Managed {
  spec: { id: string };
  status: string;
  pid?: number;
  attached: boolean;
  session_id?: string;
  restart_count: number;
  last_exit_code?: number;
}

describe('agents.* over the wire', () => {
  const home = tempDir('car-agents-wire-');
  const server = useServer({
    agentsManifestPath: join(home, 'agents.json'),
    agentsLogDir: join(home, 'logs'),
    agentEnv: { PATH: process.env.PATH },
    agentStopGraceMs: scaled(5000),
  });

  test('a supervised agent starts with its identity, attaches with its own token, and shows attached with its session', async () => {
    const owner = await server.authed({ handshake: true });
    const row = (await owner.result('agents.upsert', { id: 'wired', command: process.execPath, args: [AGENT, 'attach'] })) as Managed;
    assert.equal(row.status, 'stopped');
    assert.equal(Object.hasOwn(row, 'token'), false, 'the token is never on the wire');
    await owner.result('agents.start', { id: 'wired' });
    const running = (await owner.result('agents.wait', { id: 'wired', targets: ['running'], timeout_secs: WAIT / 1000 })) as Managed;
    assert.equal(typeof running.pid, 'number');
    await waitFor(() => server.state.attachedAgents.has('wired'), WAIT, 'the agent to attach');
    const [listed] = (await owner.result('agents.list', {})) as Managed[];
    assert.equal(listed!.attached, true);
    assert.equal(listed!.session_id, server.state.attachedAgents.get('wired'));
    let tail: string[] = [];
    while (!tail.some((l) => l.startsWith('attached'))) {
      tail = ((await owner.result('agents.tail_log', { id: 'wired', lines: 10, stream: 'stdout' })) as { lines: string[] }).lines;
    }
    assert.ok(tail.some((l) => l.includes('"agent_id":"wired"')), tail.join('\n'));
    const stopped = (await owner.result('agents.stop', { id: 'wired' })) as Managed;
    assert.equal(stopped.status, 'stopped');
    await waitFor(() => !server.state.attachedAgents.has('wired'), WAIT, 'the agent to detach');
    assert.deepEqual(await owner.result('agents.remove', { id: 'wired' }), { removed: true });
    assert.deepEqual(await owner.result('agents.remove', { id: 'wired' }), { removed: false });
  });

  test('what the dashboard shows: supervisor status changes are host events; the snapshot names the manifest and this daemon\'s role', async () => {
    const host = await server.connect();
    await host.result('session.auth', { host_token: 'host' });
    await host.result('server.handshake', { protocol_version: 2 });
    const snap = (await host.result('host.subscribe', {})) as { identity: { manifest_path: string; manifest_role: string } };
    assert.equal(snap.identity.manifest_path, join(home, 'agents.json'));
    assert.equal(snap.identity.manifest_role, 'owner');
    const owner = await server.authed();
    await owner.result('agents.upsert', { id: 'shown', command: process.execPath, args: [AGENT, 'exit=0'] });
    await owner.result('agents.start', { id: 'shown' });
    const statuses: string[] = [];
    while (!statuses.includes('stopped')) {
      const f = await host.next();
      if (f.method === 'host.event' && f.params.kind === 'supervisor.agent_status' && f.params.agent_id === 'shown') statuses.push(f.params.payload.status);
    }
    assert.deepEqual(statuses, ['starting', 'running', 'stopped']);
  });

  test('an agent session cannot manage agents; list, health and wait stay open to it', async () => {
    const agent = await server.authed({ params: { agent_id: 'limited' } });
    const err = await agent.error('agents.upsert', { id: 'evil', command: '/bin/sh' });
    assert.equal(err.code, -32603);
    assert.match(err.message, /requires the owner role/);
    assert.ok(Array.isArray(await agent.result('agents.list', {})));
    assert.ok(Array.isArray(await agent.result('agents.health', {})));
  });

  test('bad params name the field; unknown ids are NotFound; wait times out as WaitTimeout', async () => {
    const owner = await server.authed();
    const bad = await owner.error('agents.upsert', { id: 'no spaces', command: 'x' });
    assert.equal(bad.code, -32602);
    assert.match(bad.message, /id/);
    assert.equal((await owner.error('agents.wait', { id: 'x', poll_ms: 5 })).code, -32602);
    const missing = await owner.error('agents.start', { id: 'ghost' });
    assert.equal(missing.code, -32603);
    assert.match(missing.message, /^NotFound/);
    await owner.result('agents.upsert', { id: 'sleeper', command: process.execPath, args: [AGENT] });
    const timeout = await owner.error('agents.wait', { id: 'sleeper', timeout_secs: 0.05 });
    assert.match(timeout.message, /^WaitTimeout/);
    assert.equal((timeout.data as { kind: string }).kind, 'timeout');
  });

  test('install: a missing required capability fails closed, missing optional ones are reported', async () => {
    const owner = await server.authed();
    const refused = await owner.error('agents.install', {
      id: 'needy',
      command: process.execPath,
      capabilities: { required: ['memory', 'teleport'] },
    });
    assert.match(refused.message, /teleport/);
    const ids = ((await owner.result('agents.list', {})) as Managed[]).map((a) => a.spec.id);
    assert.ok(!ids.includes('needy'), 'nothing installed');
    const ok = (await owner.result('agents.install', {
      manifest: { id: 'needy', command: process.execPath, capabilities: { required: ['memory', 'agents.list'], optional: ['hologram', 'infer'] } },
    })) as { report: { missingOptional: string[] }; agent: Managed };
    assert.deepEqual(ok.report.missingOptional, ['hologram']);
    assert.equal(ok.agent.spec.id, 'needy');
  });

  test('register_basics registers the agent tools on the caller and answers null', async () => {
    const owner = await server.authed();
    assert.equal(await owner.result('agents.register_basics', {}), null);
    const tools = (await owner.result('tools.list', {})) as { name: string }[] | { tools: { name: string }[] };
    const names = (Array.isArray(tools) ? tools : tools.tools).map((t) => t.name);
    for (const n of ['agents_list', 'agents_start', 'agents_stop', 'agents_chat']) assert.ok(names.includes(n), n);
  });

  test('a stolen agent id cannot be bound with the daemon token, and its runs stay unreadable', async () => {
    const agent = await server.authed({ params: { agent_id: 'victim' } });
    const { run_id } = (await agent.result('runs.start', { intent: 'secret work' })) as { run_id: string };
    await agent.result('runs.record_turns', { run_id, turns: [{ prompt: 'the secret prompt' }] });
    await agent.close();
    await waitFor(() => !server.state.attachedAgents.has('victim'), WAIT, 'victim to detach');
    const thief = await server.connect();
    const err = await thief.error('session.auth', { token: AUTH_TOKEN, agent_id: 'victim' });
    assert.equal(err.message, 'auth failed: token mismatch');
    const other = await server.authed({ params: { agent_id: 'thief' } });
    const denied = await other.error('runs.get_trace', { run_id });
    assert.equal(denied.code, -32603);
    assert.doesNotMatch(JSON.stringify(denied), /the secret prompt/);
  });
});

describe('agents.* observe-only on a second daemon', () => {
  const home = tempDir('car-agents-observe-');
  const first = useServer({ agentsManifestPath: join(home, 'agents.json') });
  const second = useServer({ agentsManifestPath: join(home, 'agents.json') });

  test('the second daemon lists from the manifest file and refuses the rest with the manifest path', async () => {
    const owner = await first.authed();
    await owner.result('agents.upsert', { id: 'shared', command: process.execPath });
    const observer = await second.authed();
    const listed = (await observer.result('agents.list', {})) as Managed[];
    assert.deepEqual(listed.map((a) => a.spec.id), ['shared']);
    assert.equal(((await observer.result('agents.health', {})) as { ok: boolean }[])[0]!.ok, true);
    for (const [method, params] of [
      ['agents.start', { id: 'shared' }],
      ['agents.upsert', { id: 'x', command: process.execPath }],
      ['agents.tail_log', { id: 'shared' }],
    ] as const) {
      const err = await observer.error(method, params);
      assert.match(err.message, /observe-only/);
      assert.ok(err.message.includes(join(home, 'agents.json')), err.message);
    }
  });
});
