import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import {
  authTokenPath,
  exerciseSession,
  hostTokenPath,
  RawClient,
  RpcFailure,
  sharedSocketOf,
  startDaemon,
  tempDir,
  tokenDirOf,
} from './helpers.js';

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const mode = (path: string): number => statSync(path).mode & 0o777;

test('startup writes private token files and serves TCP and the Unix socket', async (t) => {
  const carHome = tempDir(t);
  const daemon = await startDaemon(t, { carHome });

  const authToken = readFileSync(authTokenPath(carHome), 'utf8');
  const hostToken = readFileSync(hostTokenPath(carHome), 'utf8');
  assert.match(authToken, TOKEN);
  assert.match(hostToken, TOKEN);
  assert.notEqual(hostToken, authToken);
  assert.equal(mode(authTokenPath(carHome)), 0o600);
  assert.equal(mode(hostTokenPath(carHome)), 0o600);
  assert.equal(mode(tokenDirOf(carHome)), 0o700);

  assert.equal(daemon.socket, sharedSocketOf(carHome));
  assert.ok(statSync(sharedSocketOf(carHome)).isSocket());
  assert.equal(mode(sharedSocketOf(carHome)), 0o600);
  assert.equal(daemon.listening.auth, true);
  assert.equal(daemon.listening.primary, true);
  assert.equal(daemon.listening.token_path, authTokenPath(carHome));
  assert.match(daemon.url, /^ws:\/\/127\.0\.0\.1:\d+\/$/);

  for (const target of [daemon.url, sharedSocketOf(carHome)]) {
    const client = await RawClient.connect(t, target);
    assert.deepEqual(await exerciseSession(client, { token: authToken }), { ok: true, auth_enabled: true });

    const host = await RawClient.connect(t, target);
    const hostAuth = await exerciseSession(host, { host_token: hostToken });
    assert.equal(hostAuth.role, 'host');
    assert.equal(hostAuth.auth_enabled, true);
  }
});

test('every start mints a new token', async (t) => {
  const carHome = tempDir(t);
  const first = await startDaemon(t, { carHome });
  const firstToken = readFileSync(authTokenPath(carHome), 'utf8');
  const firstHostToken = readFileSync(hostTokenPath(carHome), 'utf8');
  assert.equal((await first.stop()).code, 0);

  const second = await startDaemon(t, { carHome });
  const secondToken = readFileSync(authTokenPath(carHome), 'utf8');
  assert.match(secondToken, TOKEN);
  assert.notEqual(secondToken, firstToken);
  assert.notEqual(readFileSync(hostTokenPath(carHome), 'utf8'), firstHostToken);

  const client = await RawClient.connect(t, second.url);
  await assert.rejects(client.result('session.auth', { token: firstToken }), RpcFailure);
});

test('--no-auth: no token files, any token accepted, no host check', async (t) => {
  const carHome = tempDir(t);
  const daemon = await startDaemon(t, { carHome, args: ['--no-auth'] });
  assert.equal(existsSync(authTokenPath(carHome)), false);
  assert.equal(existsSync(hostTokenPath(carHome)), false);
  assert.equal(daemon.listening.auth, false);

  const client = await RawClient.connect(t, daemon.url);
  assert.deepEqual(await exerciseSession(client, { token: 'anything' }), { ok: true, auth_enabled: false });
  const unauthenticated = await RawClient.connect(t, daemon.socket!);
  assert.equal(await unauthenticated.result('state.set', { key: 'k', value: 1 }), 'ok');
});

test('$CAR_HOME/env is loaded before the settings are read', async (t) => {
  const carHome = tempDir(t);
  writeFileSync(
    join(carHome, 'env'),
    ['# daemon settings', '', 'export CAR_NO_AUTH="1"', "CAR_LOG='debug'", 'not a valid line'].join('\n'),
  );
  const daemon = await startDaemon(t, { carHome });
  assert.equal(daemon.listening.auth, false);
  assert.equal(existsSync(authTokenPath(carHome)), false);
  const client = await RawClient.connect(t, daemon.url);
  assert.equal(((await client.result('session.auth', { token: 'x' })) as { auth_enabled: boolean }).auth_enabled, false);
  assert.ok(daemon.logs().some((l) => l.level === 20), 'CAR_LOG=debug from the env file took effect');
  assert.ok(daemon.logs().some((l) => l.level === 40 && /line 5/.test(l.msg)), 'the bad line is reported');
});

test('the environment wins over $CAR_HOME/env', async (t) => {
  const carHome = tempDir(t);
  writeFileSync(join(carHome, 'env'), 'CAR_NO_AUTH=1\n');
  const daemon = await startDaemon(t, { carHome, env: { CAR_NO_AUTH: '0' } });
  assert.equal(daemon.listening.auth, true);
  assert.match(readFileSync(authTokenPath(carHome), 'utf8'), TOKEN);
});

test('--require-auth is accepted with a deprecation warning', async (t) => {
  const carHome = tempDir(t);
  const daemon = await startDaemon(t, { carHome, args: ['--require-auth'] });
  assert.equal(daemon.listening.auth, true);
  assert.ok(
    daemon.logs().some((l) => l.level === 40 && /--require-auth is deprecated/.test(l.msg)),
    `no deprecation warning in:\n${daemon.stderr()}`,
  );
});

test('--socket places the Unix socket', async (t) => {
  const carHome = tempDir(t);
  const socket = join(carHome, 'custom', 'daemon.sock');
  const daemon = await startDaemon(t, { carHome, args: ['--socket', socket] });
  assert.equal(daemon.socket, socket);
  const client = await RawClient.connect(t, socket);
  await exerciseSession(client, { token: readFileSync(authTokenPath(carHome), 'utf8') });
  assert.equal((await daemon.stop()).code, 0);
  assert.equal(existsSync(socket), false);
});

test('CAR_SERVER_SOCKET places the Unix socket', async (t) => {
  const carHome = tempDir(t);
  const socket = join(carHome, 'env-chosen.sock');
  const daemon = await startDaemon(t, { carHome, env: { CAR_SERVER_SOCKET: socket } });
  assert.equal(daemon.socket, socket);
  assert.ok(statSync(socket).isSocket());
});
