import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { z } from 'zod';
import {
  createMemoryPair,
  defineMethod,
  MethodTable,
  Peer,
  RemoteError,
  runDispatch,
  ServerState,
  ServerStateConfig,
  type CloseInfo,
  type MemoryTransport,
} from '../../src/index.js';
import { formatParamsError } from '../../src/server/params.js';
import { buildOpenRpcDocument } from '../../src/contract/openrpc.js';
import { isHandshakeGated } from '../../src/server/pipeline.js';
import { sleep } from '../helpers/server.js';

/** A daemon connection over an in-memory pair: runDispatch on one end, a client Peer on the other. */
function connect(state: ServerState): { client: Peer; done: Promise<CloseInfo>; clientEnd: MemoryTransport } {
  const [serverEnd, clientEnd] = createMemoryPair();
  const done = runDispatch(serverEnd, state);
  const client = new Peer(clientEnd, () => 'client-answer', { maxBatchItems: 10, maxInFlight: 10, maxJsonDepth: 64 });
  return { client, done, clientEnd };
}

describe('runDispatch over an in-memory transport', () => {
  test('the auth-required reply arrives before the connection closes', async () => {
    const state = ServerState.embedded(new ServerStateConfig({ authToken: 'tok' }));
    const { client, done } = connect(state);
    assert.equal(state.sessions.size, 1);
    await assert.rejects(client.request('state.get', { key: 'k' }), (err: unknown) => {
      assert.ok(err instanceof RemoteError, String(err));
      assert.equal(err.code, -32001);
      assert.match(err.message, /^auth required:/);
      return true;
    });
    const info = await done;
    assert.equal(info.code, 1008);
    assert.equal(state.sessions.size, 0);
  });

  test('auth, state and a callback through the full pipeline', async () => {
    const state = ServerState.embedded(
      new ServerStateConfig({ authToken: 'tok' }).withMethods(
        defineMethod({
          name: 'x.call-back',
          summary: '',
          params: z.object({}),
          handler: (_p, ctx) => ctx.session.toolExecutor.execute({ tool: 'echo', parameters: { a: 1 }, timeoutMs: 1000 }),
        }),
      ),
    );
    const { client, done } = connect(state);
    assert.deepEqual(await client.request('session.auth', { token: 'tok' }), { ok: true, auth_enabled: true });
    assert.equal(await client.request('state.set', { key: 'k', value: 1 }), 'ok');
    const outcome = (await client.request('x.call-back', {})) as { ok: boolean; output: unknown };
    assert.equal(outcome.ok, true);
    assert.equal(outcome.output, 'client-answer');
    client.close();
    await done;
    assert.equal(state.sessions.size, 0);
  });

  test('state.close() closes every session with 1001 and resolves once they are gone', async () => {
    const state = ServerState.embedded();
    const conns = [connect(state), connect(state)];
    assert.equal(state.sessions.size, 2);
    await state.close();
    assert.equal(state.sessions.size, 0);
    for (const c of conns) assert.equal((await c.done).code, 1001);
    await state.close(); // idempotent with no sessions
  });

  test('a closed connection aborts the signal of a slow handler and its deadline timer does not linger', async () => {
    let entered!: () => void;
    const running = new Promise<void>((resolve) => (entered = resolve));
    let abortedWith!: (reason: unknown) => void;
    const aborted = new Promise<unknown>((resolve) => (abortedWith = resolve));
    const state = ServerState.embedded(
      new ServerStateConfig().withMethods(
        defineMethod({
          name: 'x.slow',
          summary: '',
          params: z.object({}),
          handler: async (_p, ctx) => {
            ctx.signal.addEventListener('abort', () => abortedWith(ctx.signal.reason));
            entered();
            await sleep(60_000, ctx.signal);
          },
        }),
      ),
    );
    const { client, done } = connect(state);
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    void client.request('x.slow', {}).catch(() => undefined);
    await running;
    client.close();
    await done;
    assert.ok((await aborted) !== undefined, 'the handler signal fired');
    const afterCount = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    assert.ok(afterCount <= before, `timers left behind: ${before} before, ${afterCount} after`);
  });

  test('role gate: a host-only method is refused to a non-host when a host token is configured', async () => {
    const state = ServerState.embedded(
      new ServerStateConfig({ hostToken: 'h' }).withMethods(
        defineMethod({ name: 'x.host', summary: '', role: 'host', params: z.object({}), handler: () => 'yes' }),
      ),
    );
    const { client, done } = connect(state);
    await assert.rejects(client.request('x.host', {}), { code: -32603, message: /requires the host role; this connection is 'owner'/ });
    await client.request('session.auth', { host_token: 'h' });
    assert.equal(await client.request('x.host', {}), 'yes');
    client.close();
    await done;
  });

  test('with no host token configured, host-only methods are open to everyone', async () => {
    const state = ServerState.embedded(
      new ServerStateConfig().withMethods(defineMethod({ name: 'x.host', summary: '', role: 'host', params: z.object({}), handler: () => 'open' })),
    );
    const { client, done } = connect(state);
    assert.equal(await client.request('x.host', {}), 'open');
    client.close();
    await done;
  });

  test('needsHandshake on an embedder method gates it with -32005', async () => {
    const state = ServerState.embedded(
      new ServerStateConfig().withMethods(
        defineMethod({ name: 'x.gated', summary: '', needsHandshake: true, params: z.object({}), handler: () => 'through' }),
      ),
    );
    const { client, done } = connect(state);
    await assert.rejects(client.request('x.gated', {}), { code: -32005 });
    await client.request('server.handshake', { protocol_version: 2 });
    assert.equal(await client.request('x.gated', {}), 'through');
    client.close();
    await done;
  });
});

describe('MethodTable, params formatting, OpenRPC, gating helpers', () => {
  test('MethodTable lists sorted, replaces by name and refuses nameless specs', () => {
    const t = new MethodTable();
    t.add(defineMethod({ name: 'b', summary: '1', params: z.object({}), handler: () => 1 }));
    t.add(defineMethod({ name: 'a', summary: '', params: z.object({}), handler: () => 1 }));
    t.add(defineMethod({ name: 'b', summary: '2', params: z.object({}), handler: () => 2 }));
    assert.deepEqual(
      t.list().map((m) => m.name),
      ['a', 'b'],
    );
    assert.equal(t.get('b')?.summary, '2');
    assert.equal(t.size, 2);
    assert.throws(() => t.add({ name: '', summary: '', params: z.object({}), handler: () => 1 }), TypeError);
  });

  test('formatParamsError names the first bad field', () => {
    const schema = z.object({ key: z.string(), nested: z.object({ n: z.number() }).optional() });
    const missing = schema.safeParse({});
    assert.ok(!missing.success);
    assert.equal(formatParamsError(missing.error), 'key is required');
    const wrong = schema.safeParse({ key: 'k', nested: { n: 'x' } });
    assert.ok(!wrong.success);
    assert.match(formatParamsError(wrong.error), /^nested\.n: expected number/);
    const top = z.array(z.string()).safeParse({});
    assert.ok(!top.success);
    assert.match(formatParamsError(top.error), /^params: expected array/);
  });

  test('buildOpenRpcDocument describes by-name, by-position and free-form params', () => {
    const doc = buildOpenRpcDocument(
      [
        defineMethod({ name: 'named', summary: 's', params: z.object({ a: z.string(), b: z.number().optional() }), handler: () => 1 }),
        defineMethod({ name: 'listy', summary: 's', role: 'host', params: z.array(z.string()), result: z.number(), handler: () => 1 }),
        defineMethod({ name: 'free', summary: 's', params: z.unknown(), handler: () => 1 }),
      ],
      { title: 't', version: '1.2.3' },
    ) as { openrpc: string; info: unknown; methods: Record<string, any>[] };
    assert.equal(doc.openrpc, '1.3.2');
    assert.deepEqual(doc.info, { title: 't', version: '1.2.3' });
    const [named, listy, free] = doc.methods;
    assert.equal(named!.paramStructure, 'by-name');
    assert.deepEqual(
      named!.params.map((p: { name: string; required: boolean }) => [p.name, p.required]),
      [
        ['a', true],
        ['b', false],
      ],
    );
    assert.equal(named!['x-role'], 'agent');
    assert.equal(listy!.paramStructure, 'by-position');
    assert.equal(listy!['x-role'], 'host');
    assert.deepEqual(listy!.result, { name: 'result', schema: { type: 'number' } });
    assert.equal(free!.paramStructure, 'either');
  });

  test('isHandshakeGated: a trailing dot is a prefix, otherwise an exact name', () => {
    const gated = ['host.subscribe', 'auth.'];
    assert.equal(isHandshakeGated('host.subscribe', gated), true);
    assert.equal(isHandshakeGated('host.subscribed', gated), false);
    assert.equal(isHandshakeGated('auth.login', gated), true);
    assert.equal(isHandshakeGated('auth', gated), false);
    assert.equal(isHandshakeGated('state.get', gated), false);
  });
});
