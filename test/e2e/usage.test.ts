import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { runToExit, tempDir } from './helpers.js';

// How each bad flag or variable is rejected is unit-tested on parseCliArgs / resolveSettings
// (test/unit/cli.test.ts); here, once per path through main(), that a usage error exits 2.

test('a relative CAR_HOME exits 2 naming it, before creating anything', async (t) => {
  const cwd = tempDir(t);
  const result = await runToExit(t, { carHome: cwd, cwd, env: { CAR_HOME: 'relative/dir' } });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /relative\/dir/);
  assert.deepEqual(readdirSync(cwd), []);
});

test('an unknown flag exits 2 naming it', async (t) => {
  const carHome = tempDir(t);
  const result = await runToExit(t, { carHome, args: ['--bogus-flag'] });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--bogus-flag/);
  assert.equal(existsSync(join(carHome, 'run')), false);
});

test('--version prints the package version', async (t) => {
  const carHome = tempDir(t);
  const result = await runToExit(t, { carHome, args: ['--version'] });
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^car-server \d+\.\d+\.\d+/);
});

test('--help prints usage', async (t) => {
  const carHome = tempDir(t);
  const result = await runToExit(t, { carHome, args: ['--help'] });
  assert.equal(result.code, 0);
  assert.match(result.stdout, /Usage: car-server/);
  assert.match(result.stdout, /--no-auth/);
});
