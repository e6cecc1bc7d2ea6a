import assert from 'node:assert/strict';
import { join } from 'node:path';
import test from 'node:test';
import { CarClient, RemoteError } from '../../src/client/index.js';
import { startServer } from '../helpers/server.js';
import { tempDir } from '../helpers/temp.js';

test('connect with no token to a daemon that needs one: the error names the variable and the file it tried', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const carHome = tempDir(t, 'car-client-');
  const err = await CarClient.connect({ url: server.url, env: { CAR_HOME: carHome } }).then(
    () => assert.fail('connected without a token'),
    (e: unknown) => e as Error,
  );
  assert.match(err.message, /requires a token and none was found/);
  assert.match(err.message, /\$CAR_AUTH_TOKEN \(unset\)/);
  assert.ok(err.message.includes(join(carHome, 'ai.parslee.car', 'auth-token')), err.message);
  assert.ok(err.cause instanceof RemoteError && err.cause.code === -32001);
});
