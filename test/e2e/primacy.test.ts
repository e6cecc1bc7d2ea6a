import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { waitFor } from '../helpers/raw-client.js';
import {
  authTokenPath,
  exerciseSession,
  hostTokenPath,
  lockPathOf,
  RawClient,
  sharedSocketOf,
  startDaemon,
  tempDir,
} from './helpers.js';

test('a second daemon on the same CAR_HOME leaves the primary alone', async (t) => {
  const carHome = tempDir(t);
  const primary = await startDaemon(t, { carHome });
  const token = readFileSync(authTokenPath(carHome), 'utf8');
  const hostToken = readFileSync(hostTokenPath(carHome), 'utf8');
  const socketInode = statSync(sharedSocketOf(carHome)).ino;

  const secondary = await startDaemon(t, { carHome });
  const port = secondary.listening.port as number;
  const ownSocket = join(carHome, 'run', `car-server-${port}.sock`);
  assert.equal(secondary.listening.primary, false);
  const ownToken = join(carHome, 'ai.parslee.car', `auth-token-${port}`);
  assert.equal(secondary.listening.token_path, ownToken, 'a secondary writes a token file of its own');
  assert.equal((statSync(ownToken).mode & 0o777), 0o600);
  await waitFor(() => secondary.stdout().includes(ownToken), undefined, 'the plain line naming its token file');
  await exerciseSession(await RawClient.connect(t, secondary.url), { token: readFileSync(ownToken, 'utf8') });
  assert.equal(secondary.socket, ownSocket);
  assert.ok(statSync(ownSocket).isSocket());
  const logs = secondary.logs().map((l) => l.msg);
  assert.ok(logs.some((m) => /token files of its own/.test(m)), logs.join('\n'));
  assert.ok(logs.some((m) => /per-port socket/.test(m)), logs.join('\n'));

  assert.equal(readFileSync(authTokenPath(carHome), 'utf8'), token);
  assert.equal(readFileSync(hostTokenPath(carHome), 'utf8'), hostToken);
  assert.equal(statSync(sharedSocketOf(carHome)).ino, socketInode);
  assert.equal(readFileSync(lockPathOf(carHome), 'utf8').trim().split(' ')[0], String(primary.child.pid));
  await exerciseSession(await RawClient.connect(t, sharedSocketOf(carHome)), { token });
  await RawClient.connect(t, ownSocket);
  await RawClient.connect(t, secondary.url);

  assert.equal((await secondary.stop()).code, 0);
  assert.equal(existsSync(ownSocket), false);
  assert.equal(existsSync(ownToken), false, 'its own token file goes with it');
  assert.equal(readFileSync(authTokenPath(carHome), 'utf8'), token);
  assert.equal(readFileSync(hostTokenPath(carHome), 'utf8'), hostToken);
  assert.equal(statSync(sharedSocketOf(carHome)).ino, socketInode);
  assert.ok(existsSync(lockPathOf(carHome)));
  await exerciseSession(await RawClient.connect(t, sharedSocketOf(carHome)), { token });
  await exerciseSession(await RawClient.connect(t, primary.url), { token });
});

test('a live daemon on the shared socket makes a lock holder secondary', async (t) => {
  const carHome = tempDir(t);
  const otherHome = tempDir(t);
  const shared = join(carHome, 'shared.sock');
  const first = await startDaemon(t, { carHome: otherHome, args: ['--socket', shared] });
  assert.equal(first.listening.primary, true);

  const second = await startDaemon(t, { carHome, args: ['--socket', shared] });
  assert.equal(second.listening.primary, false);
  assert.equal(second.socket, join(carHome, `car-server-${second.listening.port as number}.sock`));
  assert.equal(existsSync(authTokenPath(carHome)), false, 'the shared name stays the primary\'s');
  assert.equal(second.listening.token_path, join(carHome, 'ai.parslee.car', `auth-token-${second.listening.port as number}`));
  assert.equal(existsSync(lockPathOf(carHome)), false, 'a secondary does not keep the lock');
  assert.ok(statSync(shared).isSocket());
});
