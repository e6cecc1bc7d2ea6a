import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { ErrorCode } from '../../src/index.js';
import { waitFor } from '../helpers/raw-client.js';
import { AUTH_TOKEN, HOST_TOKEN, useServer } from '../helpers/server.js';

describe('session.auth', () => {
  const server = useServer();

  test('(1) the right token authenticates: {ok: true, auth_enabled: true}', async () => {
    const c = await server.connect();
    const reply = await c.call('session.auth', { token: AUTH_TOKEN });
    assert.deepEqual(reply, { jsonrpc: '2.0', id: reply.id, result: { ok: true, auth_enabled: true } });
    // Authenticated: an ordinary method now works.
    assert.equal(await c.result('state.set', { key: 'k', value: 1 }), 'ok');
  });

  test('(2) a non-auth method before auth gets -32001 "auth required:" and the socket closes', async () => {
    const c = await server.connect();
    const err = await c.error('state.get', { key: 'k' });
    assert.equal(err.code, ErrorCode.AuthRequired);
    assert.equal(err.code, -32001);
    assert.match(err.message, /^auth required:/);
    const closed = await c.waitClosed();
    assert.equal(closed.code, 1008);
  });

  test('(2) an unknown method before auth also gets -32001 and a close (not -32601)', async () => {
    const c = await server.connect();
    const err = await c.error('no.such.method', {});
    assert.equal(err.code, -32001);
    assert.match(err.message, /^auth required:/);
    await c.waitClosed();
  });

  test('(2) a notification before auth closes the socket without any reply', async () => {
    const c = await server.connect();
    c.notify('state.set', { key: 'k', value: 1 });
    const closed = await c.waitClosed();
    assert.equal(closed.code, 1008);
    assert.equal(c.received.length, 0, `expected no frames, got ${JSON.stringify(c.received)}`);
  });

  test('(3) a wrong token gets -32603 "auth failed: token mismatch" and the socket stays open', async () => {
    const c = await server.connect();
    const err = await c.error('session.auth', { token: 'wrong' });
    assert.equal(err.code, -32603);
    assert.equal(err.message, 'auth failed: token mismatch');
    assert.equal(c.isOpen, true);
    // Still open for a second attempt, which succeeds.
    assert.deepEqual(await c.result('session.auth', { token: AUTH_TOKEN }), { ok: true, auth_enabled: true });
    assert.equal(await c.result('state.exists', { key: 'x' }), false);
  });

  test('(4) after a failed auth the next non-auth call gets -32001 and the socket closes', async () => {
    const c = await server.connect();
    const failed = await c.error('session.auth', { token: 'wrong' });
    assert.equal(failed.code, -32603);
    const err = await c.error('state.keys', {});
    assert.equal(err.code, -32001);
    assert.match(err.message, /^auth required:/);
    await c.waitClosed();
  });

  test('session.auth without a token while auth is enabled is -32602', async () => {
    const c = await server.connect();
    const err = await c.error('session.auth', {});
    assert.equal(err.code, -32602);
    assert.match(err.message, /^invalid params: token is required/);
    assert.equal(c.isOpen, true);
  });

  test('(6) host_token grants role "host"', async () => {
    const c = await server.connect();
    const result = await c.result('session.auth', { host_token: HOST_TOKEN });
    assert.deepEqual(result, { ok: true, auth_enabled: true, role: 'host' });
    const caps = await c.result('capabilities.list', {});
    assert.equal(caps.caller_role, 'host');
  });

  test('a wrong host_token is "auth failed: token mismatch" while auth is enabled', async () => {
    const c = await server.connect();
    const err = await c.error('session.auth', { host_token: 'nope' });
    assert.equal(err.code, -32603);
    assert.equal(err.message, 'auth failed: token mismatch');
  });

  test('(7) an agent_id can be attached on one connection at a time; free again after disconnect', async () => {
    const token = await server.agentToken('agent-7');
    const first = await server.connect();
    assert.deepEqual(await first.result('session.auth', { token, agent_id: 'agent-7' }), {
      ok: true,
      auth_enabled: true,
      agent_id: 'agent-7',
    });
    const second = await server.connect();
    const err = await second.error('session.auth', { token, agent_id: 'agent-7' });
    assert.equal(err.code, -32603);
    assert.match(err.message, /already attached on another connection/);

    await first.close();
    await waitFor(() => !server.state.attachedAgents.has('agent-7'), 2000, 'agent-7 to be released');
    const third = await server.connect();
    assert.deepEqual(await third.result('session.auth', { token, agent_id: 'agent-7' }), {
      ok: true,
      auth_enabled: true,
      agent_id: 'agent-7',
    });
    const caps = await third.result('capabilities.list', {});
    assert.equal(caps.caller_role, 'agent');
  });

  test('the daemon token alone never binds an agent_id, known or not; another agent\'s token does not either', async () => {
    await server.agentToken('agent-owned');
    const other = await server.agentToken('agent-other');
    for (const [token, agentId] of [
      [AUTH_TOKEN, 'agent-owned'],
      [AUTH_TOKEN, 'agent-unknown'],
      [other, 'agent-owned'],
      [other, 'agent-unknown'],
    ] as const) {
      const c = await server.connect();
      const err = await c.error('session.auth', { token, agent_id: agentId });
      assert.equal(err.code, -32603, `${agentId}`);
      assert.equal(err.message, 'auth failed: token mismatch');
      // Still unauthenticated: the next call is refused and the connection closed.
      assert.equal((await c.error('state.keys', {})).code, -32001);
    }
    assert.equal(server.state.attachedAgents.has('agent-owned'), false);
    // An agent's token without agent_id is not the daemon token either.
    const c = await server.connect();
    assert.equal((await c.error('session.auth', { token: other })).message, 'auth failed: token mismatch');
  });

  test('the same connection may re-auth with its own agent_id', async () => {
    const token = await server.agentToken('agent-self');
    const c = await server.connect();
    await c.result('session.auth', { token, agent_id: 'agent-self' });
    const again = await c.result('session.auth', { token, agent_id: 'agent-self' });
    assert.equal(again.agent_id, 'agent-self');
  });

  test('an agent_id with forbidden characters is -32602 naming agent_id', async () => {
    const c = await server.connect();
    const err = await c.error('session.auth', { token: AUTH_TOKEN, agent_id: 'a b/c' });
    assert.equal(err.code, -32602);
    assert.match(err.message, /^invalid params: agent_id/);
  });
});

describe('session.auth with auth disabled', () => {
  const server = useServer({ authToken: null });

  test('(5) any token is accepted: {ok: true, auth_enabled: false}', async () => {
    const c = await server.connect();
    assert.deepEqual(await c.result('session.auth', { token: 'anything-at-all' }), { ok: true, auth_enabled: false });
    assert.deepEqual(await c.result('session.auth', {}), { ok: true, auth_enabled: false });
  });

  test('with auth off every token binds an agent id, even one the supervisor never minted (the opt-out posture)', async () => {
    const c = await server.connect();
    assert.deepEqual(await c.result('session.auth', { token: 'anything', agent_id: 'free-agent' }), {
      ok: true,
      auth_enabled: false,
      agent_id: 'free-agent',
    });
  });

  test('(5) methods work without session.auth', async () => {
    const c = await server.connect();
    assert.equal(await c.result('state.set', { key: 'a', value: [1, 2] }), 'ok');
    assert.deepEqual(await c.result('state.get', { key: 'a' }), [1, 2]);
    assert.equal(c.isOpen, true);
  });

  test('a wrong host_token with auth disabled still authenticates, without the host role', async () => {
    const c = await server.connect();
    assert.deepEqual(await c.result('session.auth', { host_token: 'wrong' }), { ok: true, auth_enabled: false });
    const caps = await c.result('capabilities.list', {});
    assert.equal(caps.caller_role, 'owner');
  });
});

describe('server.handshake', () => {
  const server = useServer({ serverVersion: '9.8.7' });

  test('(10) host.subscribe before the handshake is -32005 "protocol handshake required:"', async () => {
    const c = await server.authed();
    const err = await c.error('host.subscribe', {});
    assert.equal(err.code, ErrorCode.HandshakeRequired);
    assert.equal(err.code, -32005);
    assert.match(err.message, /^protocol handshake required:/);
    assert.equal(c.isOpen, true);
  });

  test('(10) auth.login (the auth.* prefix) before the handshake is -32005', async () => {
    const c = await server.authed();
    const err = await c.error('auth.login', { user: 'x' });
    assert.equal(err.code, -32005);
    assert.match(err.message, /^protocol handshake required:/);
  });

  test('(11) handshake v2 answers exactly {protocol_version, server_version, client_protocol_version}', async () => {
    const c = await server.authed();
    const result = await c.result('server.handshake', { protocol_version: 2, client_version: 'test/1' });
    assert.deepEqual(result, { protocol_version: 2, server_version: '9.8.7', client_protocol_version: 2 });
    // Gated methods now pass the handshake gate.
    assert.equal((await c.result('host.subscribe', {})).subscribed, true);
  });

  for (const [label, params] of [
    ['missing', {}],
    ['the string "2"', { protocol_version: '2' }],
    ['3', { protocol_version: 3 }],
    ['no params at all', undefined],
  ] as const) {
    test(`(12) protocol_version ${label} is -32006 "protocol version mismatch:"; still un-negotiated`, async () => {
      const c = await server.authed();
      const err = await c.error('server.handshake', params);
      assert.equal(err.code, ErrorCode.ProtocolVersionMismatch);
      assert.equal(err.code, -32006);
      assert.match(err.message, /^protocol version mismatch:/);
      const gated = await c.error('host.subscribe', {});
      assert.equal(gated.code, -32005);
    });
  }

  test('(13) a repeated handshake succeeds; a new connection starts un-negotiated', async () => {
    const c = await server.authed();
    const expected = { protocol_version: 2, server_version: '9.8.7', client_protocol_version: 2 };
    assert.deepEqual(await c.result('server.handshake', { protocol_version: 2 }), expected);
    assert.deepEqual(await c.result('server.handshake', { protocol_version: 2 }), expected);
    assert.equal((await c.result('host.subscribe', {})).subscribed, true);

    const fresh = await server.authed();
    assert.equal((await fresh.error('host.subscribe', {})).code, -32005);
  });

  test('the handshake itself needs auth first', async () => {
    const c = await server.connect();
    const err = await c.error('server.handshake', { protocol_version: 2 });
    assert.equal(err.code, -32001);
    await c.waitClosed();
  });
});
