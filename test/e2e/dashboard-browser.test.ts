import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import { defineMethod, listenDashboard, type Listener } from '../../src/index.js';
import { AUTH_TOKEN, startServer } from '../helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
const UI_TIMEOUT_MS = 10_000;

/** Debian's Chromium through playwright-core, or a skip that says why (never a silent pass). */
async function launch(t: TestContext): Promise<Browser | null> {
  const skip = (why: string): null => {
    console.log(`# dashboard browser test skipped: ${why}`);
    t.skip(why);
    return null;
  };
  if (!existsSync(CHROMIUM)) return skip(`${CHROMIUM} is not installed (.ci/run installs it with apt-get when run as root)`);
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (err) {
    return skip(`playwright-core cannot be loaded: ${(err as Error).message}`);
  }
  try {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      timeout: 30_000,
    });
    t.after(() => browser.close());
    return browser;
  } catch (err) {
    return skip(`chromium cannot be launched: ${(err as Error).message.split('\n')[0]}`);
  }
}

async function openPage(t: TestContext, browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
  t.after(() => page.close());
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  t.after(() => assert.deepEqual(problems, [], 'the page logged no errors'));
  await page.goto(url);
  await page.waitForSelector('#status.live', { timeout: UI_TIMEOUT_MS });
  return page;
}

async function dashboard(t: TestContext, authToken: string | null): Promise<Listener> {
  const listener = await listenDashboard({ authToken, port: 0 });
  t.after(() => listener.close());
  return listener;
}

interface Frame {
  id?: number | string;
  method?: string;
  params?: Record<string, unknown>;
}

/**
 * A stand-in daemon speaking the host.* wire contract, for the parts that do not need the real
 * approval gate: what the page sends and how it renders a snapshot and live events.
 */
function stubDaemon(t: TestContext): Promise<{ url: string; calls: Frame[]; sockets: WebSocket[]; resolved: Promise<Frame> }> {
  const calls: Frame[] = [];
  const sockets: WebSocket[] = [];
  let onResolve: (f: Frame) => void = () => {};
  const resolved = new Promise<Frame>((r) => (onResolve = r));
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  t.after(() => new Promise<void>((done) => {
    for (const s of sockets) s.terminate();
    wss.close(() => done());
  }));
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as Frame;
      calls.push(msg);
      const reply = (result: unknown): void => ws.send(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
      switch (msg.method) {
        case 'session.auth':
          if (msg.params?.token !== 'stub-token') ws.send(JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32001, message: 'unauthorized' } }));
          else reply({ ok: true, auth_enabled: true });
          break;
        case 'server.handshake':
          reply({ protocol_version: 2, server_version: 'stub', client_protocol_version: 2 });
          break;
        case 'host.subscribe':
          reply({
            subscribed: true,
            agents: [{ id: 'researcher-1', name: 'Researcher', kind: 'worker', status: 'running', current_task: 'reading', session_id: 'c-1' }],
            devices: [{ id: 'dev-1', name: 'Laptop', platform: 'linux', status: 'online', session_id: 'c-2', updated_at: '2026-04-25T13:00:00Z' }],
            // Deliberately sparse rows: the page must cope with missing fields.
            approvals: [{ id: 'approval-1', action: 'ws.method:mail.send', details: { to: 'a@example.com' }, status: 'pending', created_at: '2026-04-25T13:00:00Z' }, { id: 'approval-0' }],
            events: [
              { id: 'event-1', sequence: 1, timestamp: '2026-04-25T13:00:00Z', kind: 'agent.registered', agent_id: 'researcher-1', message: 'Researcher registered', payload: {} },
              { id: 'event-2', sequence: 2, kind: 'approval.requested', payload: { id: 'approval-1' } },
            ],
            identity: { version: '9.9.9', pid: 4242, manifest_path: null, manifest_role: 'none' },
          });
          break;
        case 'host.approvals':
          reply({ approvals: [] });
          break;
        case 'host.resolve_approval':
          reply({ id: msg.params?.approval_id, status: msg.params?.approved ? 'approved' : 'denied' });
          onResolve(msg);
          break;
        default:
          reply(null);
      }
    });
  });
  return new Promise((resolve) =>
    wss.on('listening', () => {
      const addr = wss.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      resolve({ url: `ws://127.0.0.1:${port}/`, calls, sockets, resolved });
    }),
  );
}

test('dashboard in Chromium: token, auth, handshake, subscribe, snapshot and live events render', async (t) => {
  const browser = await launch(t);
  if (!browser) return;
  const stub = await stubDaemon(t);
  const dash = await dashboard(t, 'stub-token');
  const page = await openPage(t, browser, `http://${dash.address}/?ws=${encodeURIComponent(stub.url)}`);

  assert.deepEqual(stub.calls.slice(0, 3).map((c) => [c.method, c.params]), [
    ['session.auth', { token: 'stub-token' }],
    ['server.handshake', { protocol_version: 2, client_version: 'car-dashboard' }],
    ['host.subscribe', {}],
  ]);
  assert.match((await page.textContent('#agents')) ?? '', /researcher-1.*Researcher.*running.*reading/);
  assert.match((await page.textContent('#devices')) ?? '', /dev-1.*Laptop.*linux/);
  assert.match((await page.textContent('#sessions')) ?? '', /c-1.*Researcher/);
  assert.match((await page.textContent('#approvals')) ?? '', /ws\.method:mail\.send/);
  assert.equal(await page.locator('#approvals button.approve').count(), 2, 'the sparse row counts as pending too');
  assert.match((await page.textContent('#identity')) ?? '', /v9\.9\.9.*pid 4242/);
  assert.match((await page.textContent('#events')) ?? '', /agent\.registered.*Researcher registered/);

  // A live event appears at the top of the stream; markup in it is shown as text.
  const ws = stub.sockets[0]!;
  ws.send(JSON.stringify({
    jsonrpc: '2.0',
    method: 'host.event',
    params: { id: 'event-3', sequence: 3, timestamp: '2026-04-25T13:00:05Z', kind: 'host.notification', message: '<img src=x onerror=alert(1)>done', payload: {} },
  }));
  await page.locator('#events tbody tr').first().filter({ hasText: 'done' }).waitFor({ timeout: UI_TIMEOUT_MS });
  assert.equal(await page.locator('#events img').count(), 0);

  await page.screenshot({ path: '/tmp/dashboard-stub.png', fullPage: true });

  await page.locator('#approvals tr[data-id="approval-1"] button.deny').click();
  const resolve = await stub.resolved;
  assert.deepEqual(resolve.params, { approval_id: 'approval-1', approved: false });
});

test('dashboard in Chromium: an approval raised by a gated call appears, and Approve lets the call finish', async (t) => {
  const browser = await launch(t);
  if (!browser) return;
  const server = await startServer({ approvalGate: { enabled: true, methods: ['test.gated'], timeoutMs: 20_000 } });
  t.after(() => server.close());
  if (!server.state.methods.has('host.subscribe')) {
    t.skip('host.subscribe is not registered in this build');
    return;
  }
  server.state.addMethod(
    defineMethod({
      name: 'test.gated',
      summary: 'A high-risk method for the gate test.',
      params: z.object({ to: z.string() }),
      handler: (p) => ({ sent: true, to: p.to }),
    }),
  );
  const dash = await dashboard(t, AUTH_TOKEN);
  const page = await openPage(t, browser, `http://${dash.address}/?ws=${encodeURIComponent(server.url)}`);

  const caller = await server.authed({ handshake: true });
  let settled = false;
  const reply = caller.call('test.gated', { to: 'bob@example.com' }).finally(() => (settled = true));

  const approve = page.locator('#approvals tr', { hasText: 'ws.method:test.gated' }).locator('button.approve');
  await approve.waitFor({ timeout: UI_TIMEOUT_MS });
  assert.match((await page.textContent('#approvals')) ?? '', /bob@example\.com/, 'the params preview is shown');
  assert.equal(settled, false, 'the gated call is parked until someone decides');
  await page.locator('#events tr', { hasText: 'approval.requested' }).first().waitFor({ timeout: UI_TIMEOUT_MS });
  await page.screenshot({ path: '/tmp/dashboard-gate.png', fullPage: true });

  await approve.click();
  const envelope = (await reply) as { result?: unknown; error?: unknown };
  assert.deepEqual(envelope.result, { sent: true, to: 'bob@example.com' }, JSON.stringify(envelope));
  await page.locator('#approvals button.approve').waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
  await page.locator('#events tr', { hasText: 'approval.resolved' }).first().waitFor({ timeout: UI_TIMEOUT_MS });
});

test('dashboard in Chromium: live A2UI surfaces render read-only, bound data resolved, markup shown as text', async (t) => {
  const browser = await launch(t);
  if (!browser) return;
  const server = await startServer();
  t.after(() => server.close());
  const dash = await dashboard(t, AUTH_TOKEN);
  const page = await openPage(t, browser, `http://${dash.address}/?ws=${encodeURIComponent(server.url)}`);

  const agent = await server.authed();
  const catalogId = 'https://a2ui.org/specification/v0_9/catalogs/basic/catalog.json';
  await agent.result('a2ui.ingest', {
    contextId: 'ctx-ui',
    messages: [
      { version: 'v0.9', createSurface: { surfaceId: 'board', catalogId } },
      {
        version: 'v0.9',
        updateComponents: {
          surfaceId: 'board',
          components: [
            { id: 'root', component: 'Column', children: ['title', 'evil', 'items', 'go'] },
            { id: 'title', component: 'Text', text: { path: '/title' } },
            { id: 'evil', component: 'Text', text: '<img src=x onerror=alert(1)><script>alert(2)</script>' },
            { id: 'items', component: 'List', children: { componentId: 'item', path: '/items' } },
            { id: 'item', component: 'Text', text: { path: 'name' } },
            { id: 'go', component: 'Button', child: 'go-label', action: { event: { name: 'go' } } },
            { id: 'go-label', component: 'Text', text: 'Go' },
          ],
        },
      },
      { version: 'v0.9', updateDataModel: { surfaceId: 'board', value: { title: 'Build status', items: [{ name: 'lint ok' }, { name: 'tests ok' }] } } },
    ],
  });
  const surface = page.locator('#surfaces .surface[data-surface="board"]');
  await surface.filter({ hasText: 'Build status' }).waitFor({ timeout: UI_TIMEOUT_MS });
  const text = (await surface.textContent()) ?? '';
  assert.match(text, /ctx-ui/);
  assert.match(text, /lint ok.*tests ok/, 'a template list repeats over the bound array');
  assert.match(text, /<img src=x onerror=alert\(1\)><script>alert\(2\)<\/script>/, 'markup is text');
  assert.equal(await page.locator('#surfaces img').count(), 0);
  assert.equal(await page.locator('#surfaces script').count(), 0);
  assert.equal(await surface.locator('button[data-component="go"]').isDisabled(), true, 'read-only: buttons do nothing');

  await agent.result('a2ui.ingest', { contextId: 'ctx-ui', messages: [{ version: 'v0.9', updateDataModel: { surfaceId: 'board', path: '/title', value: 'Deploying' } }] });
  await surface.filter({ hasText: 'Deploying' }).waitFor({ timeout: UI_TIMEOUT_MS });
  await page.screenshot({ path: '/tmp/dashboard-a2ui.png', fullPage: true });

  await agent.result('a2ui.ingest', { contextId: 'ctx-ui', messages: [{ version: 'v0.9', deleteSurface: { surfaceId: 'board' } }] });
  await surface.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
});
