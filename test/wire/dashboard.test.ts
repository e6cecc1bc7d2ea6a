import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { test, type TestContext } from 'node:test';
import { DASHBOARD_CSP, DASHBOARD_HTML } from '../../src/dashboard/index.js';
import { DASHBOARD_SCRIPT } from '../../src/dashboard/script.js';
import { ServerStateConfig, isLoopbackRequest, listenDashboard, type DashboardOptions } from '../../src/index.js';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function fetchRaw(port: number, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function serve(t: TestContext, opts: DashboardOptions): Promise<number> {
  const listener = await listenDashboard({ ...opts, port: 0 });
  t.after(() => listener.close());
  return listener.port!;
}

test('dashboard: GET / serves one self-contained page with a strict CSP', async (t) => {
  const port = await serve(t, { authToken: 'tok' });
  const res = await fetchRaw(port, '/?ws=ws://127.0.0.1:1/');
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /^text\/html/);
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  assert.equal(res.body, DASHBOARD_HTML);
  assert.doesNotMatch(res.body, /<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!127)/, 'no external assets');
  const csp = String(res.headers['content-security-policy']);
  assert.equal(csp, DASHBOARD_CSP);
  assert.match(csp, /default-src 'none'/);
  const scriptHash = createHash('sha256').update(DASHBOARD_SCRIPT).digest('base64');
  assert.ok(csp.includes(`'sha256-${scriptHash}'`), 'the inline script is allowed by hash');
  assert.ok(!csp.includes('unsafe-inline'));
  // The inline script is valid JavaScript.
  assert.doesNotThrow(() => new Function(DASHBOARD_SCRIPT));
  const head = await fetchRaw(port, '/', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
});

test('dashboard: GET /auth-token serves the daemon token, no-store, never the host token', async (t) => {
  const config = new ServerStateConfig({ authToken: 'daemon-token', hostToken: 'host-token-secret' });
  const port = await serve(t, { authToken: () => config.authToken });
  const res = await fetchRaw(port, '/auth-token');
  assert.equal(res.status, 200);
  assert.equal(res.body, 'daemon-token');
  assert.equal(res.headers['cache-control'], 'no-store');
  for (const path of ['/', '/auth-token', '/host-token', '/auth-token/', '/?host_token=1']) {
    const r = await fetchRaw(port, path);
    assert.ok(!r.body.includes('host-token-secret'), path);
  }
});

test('dashboard: /auth-token is 404 when auth is off; unknown paths 404; other methods 405', async (t) => {
  const port = await serve(t, { authToken: null });
  const off = await fetchRaw(port, '/auth-token');
  assert.equal(off.status, 404);
  assert.equal(off.headers['cache-control'], 'no-store');
  for (const path of ['/host-token', '/index.html', '/auth-token/x', '//', '/api']) {
    assert.equal((await fetchRaw(port, path)).status, 404, path);
  }
  const post = await fetchRaw(port, '/', { method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
  assert.equal((await fetchRaw(port, '/auth-token', { method: 'DELETE' })).status, 405);
});

test('dashboard: non-loopback Host or Origin headers are refused (DNS rebinding)', async (t) => {
  const port = await serve(t, { authToken: 'tok' });
  const refused: Record<string, string>[] = [
    { host: 'evil.example' },
    { host: `evil.example:${port}` },
    { host: '10.0.0.1' },
    { host: `127.0.0.1:${port}`, origin: 'http://evil.example' },
    { host: `127.0.0.1:${port}`, origin: 'null' },
    { host: `127.0.0.1.evil.example:${port}` },
  ];
  for (const headers of refused) {
    for (const path of ['/', '/auth-token']) {
      const res = await fetchRaw(port, path, { headers });
      assert.equal(res.status, 403, JSON.stringify({ path, headers }));
      assert.ok(!res.body.includes('tok\n') && res.body !== 'tok');
    }
  }
  const allowed: Record<string, string>[] = [
    { host: `localhost:${port}` },
    { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` },
    { host: `[::1]:${port}`, origin: 'http://localhost:3000' },
  ];
  for (const headers of allowed) {
    const res = await fetchRaw(port, '/auth-token', { headers });
    assert.equal(res.status, 200, JSON.stringify(headers));
    assert.equal(res.body, 'tok');
  }
});

test('dashboard: requests from non-loopback peers are refused', () => {
  const req = (remoteAddress: string | undefined, headers: Record<string, string> = { host: '127.0.0.1:9101' }): IncomingMessage =>
    ({ socket: { remoteAddress }, headers }) as unknown as IncomingMessage;
  for (const addr of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopbackRequest(req(addr)), true, addr);
  for (const addr of ['10.0.0.5', '192.168.1.2', '::ffff:10.0.0.5', 'fe80::1', '0.0.0.0', undefined]) {
    assert.equal(isLoopbackRequest(req(addr)), false, String(addr));
  }
  assert.equal(isLoopbackRequest(req('127.0.0.1', {})), false, 'a missing Host header is refused');
});
