import assert from 'node:assert/strict';
import test from 'node:test';
import { parseCliArgs } from '../../src/cli/args.js';
import { loadEnvFile, parseEnvFile } from '../../src/cli/env-file.js';
import { InvalidCarHomeError, lockPath, perPortSocketPath, resolveCarHome, sharedSocketPath, tokenDir, type Platform } from '../../src/util/car-paths.js';
import { resolveAgentsManifest, resolveSettings } from '../../src/cli/settings.js';
import { mintToken } from '../../src/cli/tokens.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../e2e/helpers.js';

const linux = (env: Record<string, string> = {}): Platform => ({ os: 'linux', env, home: '/home/u', cwd: '/cwd' });

test('paths: CAR_HOME set moves tokens and socket under it', () => {
  const p = linux({ CAR_HOME: '/srv/car', XDG_RUNTIME_DIR: '/run/user/1' });
  const home = resolveCarHome(p);
  assert.deepEqual(home, { dir: '/srv/car', explicit: true });
  assert.equal(tokenDir(p, home), '/srv/car/ai.parslee.car');
  assert.equal(sharedSocketPath(p, home, undefined), '/srv/car/run/car-server.sock');
  assert.equal(lockPath(p, home), '/srv/car/run/daemon.lock');
  assert.equal(perPortSocketPath(p, '/srv/car/run/car-server.sock', 9101), '/srv/car/run/car-server-9101.sock');
});

test('paths: Linux defaults with and without XDG_RUNTIME_DIR', () => {
  const xdg = linux({ XDG_RUNTIME_DIR: '/run/user/1' });
  assert.equal(tokenDir(xdg, resolveCarHome(xdg)), '/run/user/1/ai.parslee.car');
  assert.equal(sharedSocketPath(xdg, resolveCarHome(xdg), undefined), '/run/user/1/ai.parslee.car/car-server.sock');
  assert.equal(lockPath(xdg, resolveCarHome(xdg)), '/home/u/.car/run/daemon.lock');

  for (const p of [linux(), linux({ XDG_RUNTIME_DIR: 'relative' })]) {
    assert.equal(tokenDir(p, resolveCarHome(p)), '/home/u/.config/ai.parslee.car');
    assert.equal(sharedSocketPath(p, resolveCarHome(p), undefined), '/home/u/.car/run/car-server.sock');
  }
});

test('paths: macOS and Windows token dirs; no socket on Windows', () => {
  const mac: Platform = { os: 'darwin', env: {}, home: '/Users/u', cwd: '/' };
  assert.equal(tokenDir(mac, resolveCarHome(mac)), '/Users/u/Library/Application Support/ai.parslee.car');
  const win: Platform = { os: 'win32', env: { LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, home: 'C:\\Users\\u', cwd: 'C:\\' };
  assert.equal(tokenDir(win, resolveCarHome(win)), 'C:\\Users\\u\\AppData\\Local\\ai.parslee.car');
  assert.equal(resolveCarHome(win).dir, 'C:\\Users\\u\\.car');
  assert.equal(sharedSocketPath(win, resolveCarHome(win), 'C:\\x.sock'), null);
});

test('paths: --socket wins and is made absolute; relative CAR_HOME is a usage error', () => {
  const p = linux({ CAR_HOME: '/srv/car' });
  assert.equal(sharedSocketPath(p, resolveCarHome(p), 'sub/s.sock'), '/cwd/sub/s.sock');
  assert.throws(() => resolveCarHome(linux({ CAR_HOME: 'rel' })), InvalidCarHomeError);
  assert.throws(() => resolveCarHome(linux({ CAR_HOME: '' })), InvalidCarHomeError);
});

test('env file parsing', () => {
  const { entries, warnings } = parseEnvFile(
    ['# comment', '', '  export A=1  ', 'B="two words"', "C='x=y'", 'D=', 'E="unbalanced', 'junk', '=nokey', 'F=3\r'].join('\n'),
  );
  assert.deepEqual(entries, [
    ['A', '1'],
    ['B', 'two words'],
    ['C', 'x=y'],
    ['D', ''],
    ['E', '"unbalanced'],
    ['F', '3'],
  ]);
  assert.deepEqual(warnings, ['line 8: expected KEY=VALUE', 'line 9: expected KEY=VALUE']);
});

test('env file loading: existing variables win, CAR_HOME is ignored, a missing file is fine', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'env');
  assert.deepEqual(loadEnvFile(file, {}), { found: false, applied: [], overridden: [], warnings: [] });
  writeFileSync(file, 'A=file\nB=file\nB=later\nCAR_HOME=/elsewhere\n');
  const env: Record<string, string | undefined> = { A: 'env' };
  const result = loadEnvFile(file, env);
  assert.deepEqual(env, { A: 'env', B: 'later' });
  assert.deepEqual(result.applied, ['B']);
  assert.deepEqual(result.overridden, ['A']);
  assert.equal(result.warnings.length, 1);
});

test('flags and settings', () => {
  const defaults = resolveSettings(parseCliArgs([]), {});
  assert.deepEqual(defaults, {
    host: '127.0.0.1',
    port: 9100,
    auth: true,
    socketOverride: undefined,
    handlerTimeoutMs: undefined,
    toolTimeoutMs: undefined,
    logLevel: 'info',
    mcpBind: { host: '127.0.0.1', port: 9102, explicit: false },
  });
  const s = resolveSettings(parseCliArgs(['--port=0', '--host', '::1', '--socket', '/s']), {
    CAR_HANDLER_TIMEOUT: '1.5',
    CAR_TOOL_TIMEOUT: '60',
    CAR_SERVER_SOCKET: '/ignored',
    CAR_NO_AUTH: '1',
    CAR_LOG: 'WARN',
    CAR_MCP_BIND: '[::1]:0',
  });
  assert.deepEqual(s, {
    host: '::1',
    port: 0,
    auth: false,
    socketOverride: '/s',
    handlerTimeoutMs: 1500,
    toolTimeoutMs: 60_000,
    logLevel: 'warn',
    mcpBind: { host: '::1', port: 0, explicit: true },
  });
  assert.equal(resolveSettings(parseCliArgs(['--mcp-bind', 'disabled']), { CAR_MCP_BIND: '127.0.0.1:1' }).mcpBind, null);
  assert.deepEqual(resolveSettings(parseCliArgs(['--mcp-bind', 'localhost:9200']), {}).mcpBind, { host: 'localhost', port: 9200, explicit: true });
  for (const bind of ['9102', 'host:', 'h:65536', ':9102', 'a b:1']) {
    assert.throws(() => resolveSettings(parseCliArgs(['--mcp-bind', bind]), {}), /--mcp-bind must be host:port/, bind);
  }
  assert.equal(resolveSettings(parseCliArgs(['--no-auth']), { CAR_NO_AUTH: '0' }).auth, false);
  for (const env of [{ CAR_HANDLER_TIMEOUT: '0' }, { CAR_TOOL_TIMEOUT: '-1' }, { CAR_LOG: 'loud' }, { CAR_NO_AUTH: 'maybe' }]) {
    assert.throws(() => resolveSettings(parseCliArgs([]), env), UsageError, JSON.stringify(env));
  }
  for (const argv of [['--nope'], ['--port', 'x'], ['--port', '65536'], ['positional'], ['--port']]) {
    assert.throws(() => parseCliArgs(argv), UsageError, argv.join(' '));
  }
});

test('--a2a-peer-listen: off by default; host:port on the loopback, off it only with --a2a-peer-allow-lan, never a wildcard', () => {
  const none = resolveSettings(parseCliArgs([]), {});
  assert.equal(none.a2aPeerBind, undefined);
  assert.deepEqual(resolveSettings(parseCliArgs(['--a2a-peer-listen', '127.0.0.1:8731']), {}).a2aPeerBind, '127.0.0.1:8731');
  assert.throws(() => resolveSettings(parseCliArgs(['--a2a-peer-listen', '192.168.1.5:8731']), {}), /--a2a-peer-allow-lan/);
  const lan = resolveSettings(parseCliArgs(['--a2a-peer-listen', '192.168.1.5:8731', '--a2a-peer-allow-lan']), {});
  assert.deepEqual([lan.a2aPeerBind, lan.a2aPeerAllowLan], ['192.168.1.5:8731', true]);
  for (const bind of ['0.0.0.0:8731', '[::]:8731', '8731', 'peer.example:8731']) {
    assert.throws(() => resolveSettings(parseCliArgs(['--a2a-peer-listen', bind, '--a2a-peer-allow-lan']), {}), UsageError, bind);
  }
  assert.throws(() => resolveSettings(parseCliArgs(['--a2a-peer-allow-lan']), {}), /needs --a2a-peer-listen/);
});

test('tokens are 43 characters of base64url and unique', () => {
  const tokens = new Set(Array.from({ length: 100 }, mintToken));
  assert.equal(tokens.size, 100);
  for (const token of tokens) assert.match(token, /^[A-Za-z0-9_-]{43}$/);
});

test('--a2a-bind: off by default; host:port on the loopback, off it only with --a2a-allow-lan, never a wildcard', () => {
  assert.equal(resolveSettings(parseCliArgs([]), {}).a2aBind, undefined);
  assert.equal(resolveSettings(parseCliArgs(['--a2a-bind', '127.0.0.1:0']), {}).a2aBind, '127.0.0.1:0');
  assert.throws(() => resolveSettings(parseCliArgs(['--a2a-bind', '192.168.1.5:8080']), {}), /--a2a-bind: .*--a2a-allow-lan/);
  const lan = resolveSettings(parseCliArgs(['--a2a-bind', '192.168.1.5:8080', '--a2a-allow-lan']), {});
  assert.deepEqual([lan.a2aBind, lan.a2aAllowLan], ['192.168.1.5:8080', true]);
  for (const bind of ['0.0.0.0:8080', '[::]:8080']) {
    assert.throws(() => resolveSettings(parseCliArgs(['--a2a-bind', bind, '--a2a-allow-lan']), {}), UsageError, bind);
  }
  assert.throws(() => resolveSettings(parseCliArgs(['--a2a-allow-lan']), {}), /needs --a2a-bind/);
});

test('--agents-manifest: default $CAR_HOME/agents.json; ~/.car/ means CAR_HOME, relative from cwd; empty refused', () => {
  const where = { carHome: '/srv/car', home: '/home/u', cwd: '/work' };
  assert.equal(resolveAgentsManifest(undefined, where), '/srv/car/agents.json');
  assert.equal(resolveAgentsManifest('~/.car/fleet/a.json', where), '/srv/car/fleet/a.json');
  assert.equal(resolveAgentsManifest('m.json', where), '/work/m.json');
  assert.equal(resolveSettings(parseCliArgs(['--agents-manifest', '/x/a.json']), {}).agentsManifest, '/x/a.json');
  assert.equal('agentsManifest' in resolveSettings(parseCliArgs([]), {}), false);
  assert.throws(() => parseCliArgs(['--agents-manifest=']), /--agents-manifest must not be empty/);
});
