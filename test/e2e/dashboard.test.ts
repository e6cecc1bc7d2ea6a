import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { authTokenPath, hostTokenPath, startDaemon, tempDir } from './helpers.js';

async function get(url: string): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

test('binary: the dashboard is served on 127.0.0.1:<port+1> with the daemon token', async (t) => {
  const carHome = tempDir(t);
  const daemon = await startDaemon(t, { carHome });
  const port = Number(daemon.listening.port);
  const dashboard = daemon.listening.dashboard;
  if (dashboard === null) {
    // Port 0 picked a port whose neighbour is taken: the daemon must have said so and kept running.
    assert.ok(daemon.logs().some((l) => l.msg.startsWith('dashboard not served')), daemon.stderr());
    t.skip(`port ${port + 1} was taken; the dashboard was skipped with a warning`);
    return;
  }
  assert.equal(dashboard, `http://127.0.0.1:${port + 1}/`);
  const page = await get(String(dashboard));
  assert.equal(page.status, 200);
  assert.match(page.body, /<title>CAR dashboard<\/title>/);
  const token = await get(`${String(dashboard)}auth-token`);
  assert.equal(token.status, 200);
  assert.equal(token.headers.get('cache-control'), 'no-store');
  assert.equal(token.body, readFileSync(authTokenPath(carHome), 'utf8').trim());
  const hostToken = readFileSync(hostTokenPath(carHome), 'utf8').trim();
  for (const path of ['', 'auth-token', 'host-token']) assert.ok(!(await get(`${String(dashboard)}${path}`)).body.includes(hostToken));
  assert.equal((await get(`${String(dashboard)}host-token`)).status, 404);
  await daemon.stop();
  await assert.rejects(fetch(String(dashboard)), 'the dashboard stops with the daemon');
});

test('binary: --no-auth serves no token; --no-dashboard serves no dashboard', async (t) => {
  const noAuth = await startDaemon(t, { carHome: tempDir(t), args: ['--no-auth'] });
  if (noAuth.listening.dashboard !== null) {
    assert.equal((await get(`${String(noAuth.listening.dashboard)}auth-token`)).status, 404);
  }
  await noAuth.stop();
  const off = await startDaemon(t, { carHome: tempDir(t), args: ['--no-dashboard'] });
  assert.equal(off.listening.dashboard, null);
});
