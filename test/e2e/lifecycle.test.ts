import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import test from 'node:test';
import {
  authTokenPath,
  exerciseSession,
  hostTokenPath,
  lockPathOf,
  parseLogs,
  RawClient,
  runToExit,
  sharedSocketOf,
  startDaemon,
  tempDir,
  withTimeout,
} from './helpers.js';
import { scaled } from '../helpers/timing.js';

test('SIGTERM closes clients with 1001, removes token files, socket and lock, exits 0', async (t) => {
  const carHome = tempDir(t);
  const daemon = await startDaemon(t, { carHome });
  assert.ok(existsSync(lockPathOf(carHome)));
  const token = readFileSync(authTokenPath(carHome), 'utf8');
  const tcpClient = await RawClient.connect(t, daemon.url);
  await exerciseSession(tcpClient, { token });
  const unixClient = await RawClient.connect(t, sharedSocketOf(carHome));
  await exerciseSession(unixClient, { token });

  const exit = await daemon.stop();
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.equal((await withTimeout(tcpClient.closed, scaled(10_000), 'TCP client close')).code, 1001);
  assert.equal((await withTimeout(unixClient.closed, scaled(10_000), 'Unix client close')).code, 1001);
  for (const path of [authTokenPath(carHome), hostTokenPath(carHome), sharedSocketOf(carHome), lockPathOf(carHome)]) {
    assert.equal(existsSync(path), false, `${path} should be gone`);
  }
});

test('SIGINT shuts down the same way', async (t) => {
  const carHome = tempDir(t);
  const daemon = await startDaemon(t, { carHome });
  daemon.child.kill('SIGINT');
  assert.deepEqual(await withTimeout(daemon.exited, scaled(30_000), 'exit after SIGINT'), { code: 0, signal: null });
  assert.equal(existsSync(authTokenPath(carHome)), false);
  assert.equal(existsSync(sharedSocketOf(carHome)), false);
});

test('a stale socket and lock left by a killed daemon are replaced on start', async (t) => {
  const carHome = tempDir(t);
  const killed = await startDaemon(t, { carHome });
  killed.child.kill('SIGKILL');
  await killed.exited;
  assert.ok(statSync(sharedSocketOf(carHome)).isSocket(), 'SIGKILL leaves the socket file behind');
  assert.equal(readFileSync(lockPathOf(carHome), 'utf8').trim().split(' ')[0], String(killed.child.pid));
  const staleToken = readFileSync(authTokenPath(carHome), 'utf8');

  const daemon = await startDaemon(t, { carHome });
  assert.equal(daemon.listening.primary, true);
  assert.equal(daemon.socket, sharedSocketOf(carHome));
  assert.equal(readFileSync(lockPathOf(carHome), 'utf8').trim().split(' ')[0], String(daemon.child.pid));
  const token = readFileSync(authTokenPath(carHome), 'utf8');
  assert.notEqual(token, staleToken);
  const client = await RawClient.connect(t, sharedSocketOf(carHome));
  await exerciseSession(client, { token });
});

test('a port already in use: exit 1 with an error, no files left behind', async (t) => {
  const carHome = tempDir(t);
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const port = (blocker.address() as AddressInfo).port;

  const result = await runToExit(t, { carHome, args: ['--port', String(port)] });
  assert.equal(result.code, 1);
  const error = parseLogs(result.stderr).find((l) => l.level === 50);
  assert.ok(error, `no error line in:\n${result.stderr}`);
  assert.match(error.msg, new RegExp(`127\\.0\\.0\\.1:${port}`));
  for (const path of [authTokenPath(carHome), hostTokenPath(carHome), sharedSocketOf(carHome), lockPathOf(carHome)]) {
    assert.equal(existsSync(path), false, `${path} should not exist`);
  }
});

test('a second signal exits 1 at once, still removing the files', async (t) => {
  const carHome = tempDir(t);
  const daemon = await startDaemon(t, { carHome });
  // A WebSocket peer that never answers the close frame keeps the graceful shutdown waiting.
  const silent = connect(sharedSocketOf(carHome));
  t.after(() => silent.destroy());
  silent.write(
    'GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await withTimeout(
    new Promise<void>((resolve) => silent.once('data', () => resolve())),
    scaled(10_000),
    'upgrade response',
  );

  daemon.child.kill('SIGTERM');
  await daemon.waitForLog((l) => l.msg === 'shutting down');
  daemon.child.kill('SIGTERM');
  assert.deepEqual(await withTimeout(daemon.exited, scaled(10_000), 'exit after the second signal'), { code: 1, signal: null });
  for (const path of [authTokenPath(carHome), hostTokenPath(carHome), sharedSocketOf(carHome), lockPathOf(carHome)]) {
    assert.equal(existsSync(path), false, `${path} should be gone`);
  }
});
