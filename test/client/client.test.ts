import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { CarClient, RemoteError, discoverToken, discoverHostToken } from '../../src/client/index.js';
import { ServerState, ServerStateConfig, defineMethod, listenTcp, listenUnix, type Listener } from '../../src/index.js';
import type { ToolOutcome } from '../../src/index.js';
import { removeTempDir, tempDir } from '../helpers/temp.js';

const TOKEN = 'client-test-token';
const HOST = 'client-test-host-token';

const callTool = defineMethod({
  name: 'test.call_tool',
  summary: 'Calls a tool back on the client and returns the outcome.',
  params: z.object({ tool: z.string(), parameters: z.record(z.string(), z.unknown()), timeout_ms: z.number().optional() }),
  handler: (p, ctx): Promise<ToolOutcome> =>
    ctx.session.toolExecutor.execute({ tool: p.tool, parameters: p.parameters, actionId: 'a1', timeoutMs: p.timeout_ms }),
});

describe('CarClient', () => {
  let state: ServerState;
  let tcp: Listener;
  let unix: Listener;
  let dir: string;
  let url: string;

  before(async () => {
    dir = tempDir('car-client-');
    state = ServerState.embedded(
      new ServerStateConfig({ authToken: TOKEN, hostToken: HOST, toolCallbackGraceMs: 0 }).withMethods(callTool),
    );
    tcp = await listenTcp(state, { host: '127.0.0.1', port: 0 });
    unix = await listenUnix(state, join(dir, 'car.sock'));
    url = `ws://${tcp.address}/`;
  });

  after(async () => {
    await state.close();
    await tcp.close();
    await unix.close();
    removeTempDir(dir);
  });

  test('connect authenticates and negotiates protocol 2', async () => {
    const client = await CarClient.connect({ url, token: TOKEN });
    assert.deepEqual(client.authResult, { ok: true, auth_enabled: true });
    assert.equal(client.handshakeResult?.protocol_version, 2);
    assert.equal(client.handshakeResult?.client_protocol_version, 2);
    await client.close();
  });

  test('token comes from CAR_AUTH_TOKEN (trimmed) before the token file', async () => {
    const home = join(dir, 'home-env');
    mkdirSync(join(home, 'ai.parslee.car'), { recursive: true });
    writeFileSync(join(home, 'ai.parslee.car', 'auth-token'), 'wrong-token\n');
    const env = { CAR_HOME: home, CAR_AUTH_TOKEN: `  ${TOKEN}\n` };
    assert.equal(discoverToken({ env }), TOKEN);
    const client = await CarClient.connect({ url, env });
    assert.equal(client.authResult?.auth_enabled, true);
    await client.close();
  });

  test('a blank CAR_AUTH_TOKEN falls through to the token file under CAR_HOME', async () => {
    const home = join(dir, 'home-file');
    mkdirSync(join(home, 'ai.parslee.car'), { recursive: true });
    writeFileSync(join(home, 'ai.parslee.car', 'auth-token'), `${TOKEN}\n`);
    writeFileSync(join(home, 'ai.parslee.car', 'host-token'), `${HOST}\n`);
    const env = { CAR_HOME: home, CAR_AUTH_TOKEN: '   ' };
    assert.equal(discoverToken({ env }), TOKEN);
    assert.equal(discoverHostToken({ env }), HOST);
    const client = await CarClient.connect({ url, env });
    assert.equal(client.authResult?.ok, true);
    await client.close();
  });

  test('no token anywhere skips session.auth, and the daemon then closes on the first call', async () => {
    const env = { CAR_HOME: join(dir, 'nothing-here') };
    assert.equal(discoverToken({ env }), null);
    const client = await CarClient.connect({ url, env, handshake: false });
    assert.equal(client.authResult, null);
    await assert.rejects(client.state.get('k'), (err: unknown) => err instanceof RemoteError && err.code === -32001);
    const info = await client.closed;
    assert.equal(info.code, 1008);
  });

  test('a wrong token rejects connect with the daemon error code', async () => {
    await assert.rejects(
      CarClient.connect({ url, token: 'nope' }),
      (err: unknown) => err instanceof RemoteError && err.code === -32603 && /token mismatch/.test(err.message),
    );
  });

  test('host token gives the host role', async () => {
    const client = await CarClient.connect({ url, hostToken: HOST });
    assert.equal(client.authResult?.role, 'host');
    const caps = await client.capabilities();
    assert.equal(caps.caller_role, 'host');
    await client.close();
  });

  test('typed helpers cover state and tools', async () => {
    const client = await CarClient.connect({ url, token: TOKEN });
    assert.equal(await client.state.set('k', { n: 1 }), 'ok');
    assert.deepEqual(await client.state.get('k'), { n: 1 });
    assert.equal(await client.state.exists('k'), true);
    await client.state.set('k', 2, 't1');
    assert.deepEqual(await client.state.keys('t1'), ['k']);
    assert.deepEqual(await client.state.snapshot(), { k: { n: 1 } });
    assert.equal(await client.tools.register([{ name: 'zeta' }, { name: 'alpha', parameters: { type: 'object' } }]), 2);
    const list = await client.tools.list();
    assert.deepEqual(
      list.tools.map((t) => t.name),
      ['alpha', 'messaging.send', 'zeta'],
    );
    assert.deepEqual(list.tools[0]?.parameters, { type: 'object' });
    assert.deepEqual(await client.tools.unregister('zeta'), { unregistered: 'zeta', removed: 1 });
    const doc = await client.discover();
    assert.equal(typeof doc.openrpc, 'string');
    await client.close();
  });

  test('serveTools answers tools.execute callbacks; a throw is a tool error', async () => {
    const client = await CarClient.connect({ url, token: TOKEN });
    client.serveTools({
      add: (p) => ({ sum: Number(p.a) + Number(p.b) }),
      fail: () => {
        throw new Error('disk on fire');
      },
    });
    const ok = await client.call<ToolOutcome>('test.call_tool', { tool: 'add', parameters: { a: 2, b: 3 } });
    assert.equal(ok.ok, true);
    assert.deepEqual(ok.ok && ok.output, { sum: 5 });
    const bad = await client.call<ToolOutcome>('test.call_tool', { tool: 'fail', parameters: {} });
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.reason, 'tool_error');
    assert.match(!bad.ok ? bad.error : '', /disk on fire/);
    const unknown = await client.call<ToolOutcome>('test.call_tool', { tool: 'nope', parameters: {} });
    assert.match(!unknown.ok ? unknown.error : '', /^unknown tool: nope/);
    await client.close();
  });

  test('tools.cancel from the daemon aborts the tool handler signal', async () => {
    const client = await CarClient.connect({ url, token: TOKEN });
    let cancelReason: unknown;
    client.serveTools({
      slow: (_p, ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener('abort', () => {
            cancelReason = ctx.signal.reason;
            resolve('gave up');
          });
        }),
    });
    const outcome = await client.call<ToolOutcome>('test.call_tool', { tool: 'slow', parameters: {}, timeout_ms: 50 });
    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.reason, 'timeout');
    await new Promise((r) => setTimeout(r, 20));
    assert.match(String((cancelReason as { reason?: string }).reason), /timed out/);
    await client.close();
  });

  test('connects over the Unix socket', async () => {
    const client = await CarClient.connect({ socketPath: unix.address, token: TOKEN });
    assert.equal(await client.state.set('u', 1), 'ok');
    assert.equal(await client.state.get('u'), 1);
    await client.close();
  });

  test('call timeoutMs rejects a call that takes too long', async () => {
    const client = await CarClient.connect({ url, token: TOKEN });
    client.serveTools({ never: () => new Promise(() => undefined) });
    await assert.rejects(
      client.call('test.call_tool', { tool: 'never', parameters: {}, timeout_ms: 5000 }, { timeoutMs: 30 }),
      /got no answer within 30 ms/,
    );
    await client.close();
  });
});
