import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { BASIC_CATALOG } from '../../src/a2ui/index.js';
import { waitFor, type Frame, type RawClient } from '../helpers/raw-client.js';
import { startServer, useServer } from '../helpers/server.js';

const create = (surfaceId: string, catalogId = BASIC_CATALOG.id) => ({ version: 'v0.9', createSurface: { surfaceId, catalogId } });
const components = (surfaceId: string, list: unknown[]) => ({ version: 'v0.9', updateComponents: { surfaceId, components: list } });
const data = (surfaceId: string, path: string, value: unknown) => ({ version: 'v0.9', updateDataModel: { surfaceId, path, value } });
const text = (id: string, t: string) => ({ id, component: 'Text', text: t });
const tree = (surfaceId: string) =>
  components(surfaceId, [
    { id: 'root', component: 'Column', children: ['title', 'ok'] },
    text('title', 'Hello'),
    { id: 'ok', component: 'Button', child: 'ok-label', action: { event: { name: 'confirm', context: { v: { path: '/v' } } } } },
    text('ok-label', 'OK'),
  ]);

const events = (c: RawClient, method: string): Frame[] => c.received.filter((f) => f?.method === method).map((f) => f.params);
const a2uiEvents = (c: RawClient) => events(c, 'a2ui.event');

describe('a2ui.* over WebSocket', () => {
  const server = useServer();

  test('apply: create, update, data model, delete → {surfaceId, deleted, surface?}; get and surfaces show it', async () => {
    const c = await server.authed();
    const created = await c.result('a2ui.apply', create('w1'));
    assert.equal(created.surfaceId, 'w1');
    assert.equal(created.deleted, false);
    assert.equal(created.surface.catalogId, BASIC_CATALOG.id);
    assert.deepEqual(created.surface.owner, { source: 'local' });
    await c.result('a2ui.apply', { envelope: tree('w1') });
    const withData = await c.result('a2ui.apply', { a2ui: data('w1', '/v', 42) });
    assert.deepEqual(withData.surface.dataModel, { v: 42 });
    assert.equal(withData.surface.components.length, 4);

    const got = await c.result('a2ui.get', { surfaceId: 'w1' });
    assert.equal(got.surface.revision, 3);
    assert.equal(got.surface.components.find((x: Frame) => x.id === 'title').text, 'Hello');
    const list = await c.result('a2ui.surfaces', {});
    const row = list.surfaces.find((s: Frame) => s.surfaceId === 'w1');
    assert.equal(row.componentCount, 4);
    assert.equal(row.components, undefined, 'the list carries no component trees');

    const deleted = await c.result('a2ui.apply', { version: 'v0.9', deleteSurface: { surfaceId: 'w1' } });
    assert.deepEqual(deleted, { surfaceId: 'w1', deleted: true });
    assert.equal((await c.error('a2ui.get', { surfaceId: 'w1' })).code, -32603);
  });

  test('errors are typed: -32602 naming the field, not_found for an unknown surface; nothing half-applied, no event', async () => {
    const c = await server.authed();
    await c.result('a2ui/subscribe', {});
    await c.result('a2ui.apply', create('e1'));
    const before = a2uiEvents(c).length;

    const catalog = await c.error('a2ui.apply', create('e2', 'https://example.com/mine.json'));
    assert.equal(catalog.code, -32602);
    assert.match(catalog.message, /createSurface\.catalogId: unsupported catalog/);
    assert.equal((catalog.data as Frame).field, 'createSurface.catalogId');

    const comp = await c.error('a2ui.apply', { envelope: components('e1', [{ id: 'x', component: 'Blink' }]) });
    assert.equal(comp.code, -32602);
    assert.equal((comp.data as Frame).field, 'envelope.updateComponents.components[0].component');

    const missing = await c.error('a2ui.get', { surfaceId: 'nope' });
    assert.equal(missing.code, -32603);
    assert.deepEqual(missing.data, { kind: 'not_found', field: 'surfaceId' });
    const missingUpdate = await c.error('a2ui.apply', data('nope', '/a', 1));
    assert.equal((missingUpdate.data as Frame).kind, 'not_found');

    await c.result('a2ui.ingest', { messages: [create('e4')], contextId: 'ce' });
    const before2 = a2uiEvents(c).length;
    const batch = await c.error('a2ui.ingest', { messages: [data('e4', '/a', 1), create('e3'), components('e4', [{ id: 'y', component: 'Text' }])], contextId: 'ce' });
    assert.equal(batch.code, -32602);
    assert.equal((batch.data as Frame).field, 'messages[2].updateComponents.components[0].text');
    assert.deepEqual((await c.result('a2ui.get', { surfaceId: 'e4' })).surface.dataModel, {}, 'the first message of the bad call is not applied');
    assert.equal((await c.error('a2ui.get', { surfaceId: 'e3' })).code, -32603);

    assert.equal((await c.error('a2ui.apply', {})).code, -32602);
    assert.equal((await c.error('a2ui.ingest', {})).code, -32602);
    assert.equal((await c.error('a2ui.ingest', { payload: { text: 'no ui here' } })).code, -32602);
    assert.equal((await c.error('a2ui.action', { surfaceId: 'e1', name: 'x', sourceComponentId: 'nope' })).code, -32602);
    assert.equal((await c.error('a2ui.render_report', { surfaceId: 'nope' })).code, -32603);
    assert.equal(a2uiEvents(c).length, before2, 'no a2ui.event for any refused call');
    assert.equal(before2, before + 1, 'only the good ingest was announced');
    assert.ok(c.isOpen);
  });

  test('a2ui.event only after a2ui/subscribe, and none after a2ui/unsubscribe; host.event kinds surface_updated / surface_deleted', async () => {
    const sub = await server.authed({ handshake: true });
    const quiet = await server.authed();
    const host = await server.authed({ handshake: true });
    await host.result('host.subscribe', {});
    const s = await sub.result('a2ui/subscribe', {});
    assert.equal(s.subscribed, true);
    assert.equal(typeof s.sequence, 'number');

    await quiet.result('a2ui.apply', create('ev1'));
    await quiet.result('a2ui.apply', tree('ev1'));
    await waitFor(() => a2uiEvents(sub).filter((e) => e.surfaceId === 'ev1').length === 2, undefined, 'two a2ui.event');
    const [e1, e2] = a2uiEvents(sub).filter((e) => e.surfaceId === 'ev1');
    assert.equal(e1.kind, 'message');
    assert.deepEqual(e1.message, create('ev1'));
    assert.ok(e2.sequence > e1.sequence);
    assert.equal(e2.message.updateComponents.components.length, 4);
    await quiet.result('a2ui.surfaces', {});
    assert.deepEqual(a2uiEvents(quiet), [], 'no a2ui.event without a subscribe');

    await waitFor(() => events(host, 'host.event').some((e) => e.kind === 'a2ui.surface_updated' && e.payload.surfaceId === 'ev1'), undefined, 'surface_updated');
    assert.deepEqual(await sub.result('a2ui/unsubscribe', {}), { unsubscribed: true });
    const count = a2uiEvents(sub).length;
    await quiet.result('a2ui.apply', { deleteSurface: { surfaceId: 'ev1' } });
    await sub.result('a2ui.surfaces', {});
    assert.equal(a2uiEvents(sub).length, count, 'nothing after unsubscribe');
    await waitFor(() => events(host, 'host.event').some((e) => e.kind === 'a2ui.surface_deleted' && e.payload.surfaceId === 'ev1'), undefined, 'surface_deleted');
  });

  test('a2ui/replay: the messages that rebuild the live surfaces, to this subscriber only, before its reply', async () => {
    const c = await server.authed();
    const other = await server.authed();
    await other.result('a2ui/subscribe', {});
    assert.equal((await c.error('a2ui/replay', {})).code, -32603, 'replay needs a subscription');
    await c.result('a2ui.ingest', { messages: [create('r1'), tree('r1'), data('r1', '/v', { n: 1 })], contextId: 'ctx-r' });
    await c.result('a2ui/subscribe', {});
    const otherBefore = a2uiEvents(other).length;
    const reply = await c.result('a2ui/replay', { surfaceId: 'r1' });
    assert.equal(reply.replayed, 3);
    assert.equal(reply.surfaces, 1);
    const replayed = a2uiEvents(c).filter((e) => e.kind === 'replay');
    assert.deepEqual(
      replayed.map((e) => Object.keys(e.message).find((k) => k !== 'version')),
      ['createSurface', 'updateComponents', 'updateDataModel'],
    );
    assert.deepEqual(replayed[2].message.updateDataModel.value, { v: { n: 1 } });
    assert.deepEqual(replayed[0].owner, { source: 'a2a', contextId: 'ctx-r' });
    assert.equal(a2uiEvents(other).length, otherBefore, 'the other subscriber is not replayed to');
    const all = await c.result('a2ui/replay', {});
    assert.ok(all.surfaces >= 1);
    assert.equal((await c.error('a2ui/replay', { surfaceId: 'gone' })).code, -32603);
  });

  test('ingest records the A2A owner; routeAuth and endpoint never appear; a surface of another conversation is refused', async () => {
    const c = await server.authed();
    const out = await c.result('a2ui.ingest', {
      payload: { parts: [{ text: 'hi' }, { data: [create('i1'), tree('i1')], mediaType: 'application/a2ui+json' }] },
      taskId: 'task-1',
      contextId: 'ctx-1',
      endpoint: 'http://127.0.0.1:9/agent',
      routeAuth: { type: 'bearer', token: 'secret-token' },
    });
    assert.deepEqual(out.applied.map((a: Frame) => [a.kind, a.surfaceId]), [['createSurface', 'i1'], ['updateComponents', 'i1']]);
    const got = await c.result('a2ui.get', { surfaceId: 'i1' });
    assert.deepEqual(got.surface.owner, { source: 'a2a', taskId: 'task-1', contextId: 'ctx-1' });
    assert.doesNotMatch(JSON.stringify(got), /secret-token|9\/agent/);
    assert.doesNotMatch(JSON.stringify(await c.result('a2ui.surfaces', {})), /secret-token|9\/agent/);
    const other = await c.error('a2ui.ingest', { messages: [data('i1', '/x', 1)], contextId: 'ctx-2' });
    assert.equal((other.data as Frame).kind, 'conflict');
    const far = await c.error('a2ui.ingest', { messages: [create('i2')], endpoint: 'https://agent.example.com/' });
    assert.equal(far.code, -32602);
    assert.equal((far.data as Frame).field, 'endpoint');
  });

  test('capabilities: versions, catalogs and their components, limits, loop bounds', async () => {
    const c = await server.authed();
    const caps = await c.result('a2ui.capabilities', {});
    assert.deepEqual(caps.versions, ['v0.9', 'v0.9.1']);
    assert.equal(caps.extensionUri, 'https://a2ui.org/a2a-extension/a2ui/v0.9.1');
    assert.ok(caps.supportedCatalogIds.includes(BASIC_CATALOG.id));
    const flat = 'https://a2ui.org/specification/v0_9/basic_catalog.json';
    assert.ok(caps.supportedCatalogIds.includes(flat), 'the flat v0.9 id most published examples use');
    const made = await c.result('a2ui.apply', { version: 'v0.9', createSurface: { surfaceId: 'flat-id', catalogId: flat } });
    assert.equal(made.surface.catalogId, flat);
    await c.result('a2ui.apply', { version: 'v0.9', updateComponents: { surfaceId: 'flat-id', components: [{ id: 'root', component: 'Text', text: 'hi' }] } });
    await c.result('a2ui.apply', { version: 'v0.9', deleteSurface: { surfaceId: 'flat-id' } });
    assert.ok(caps.catalogs[0].components.includes('Button'));
    assert.deepEqual(caps.loop, { maxIterations: 20, oscillationWindow: 8 });
    assert.equal(caps.limits.maxSurfaces, 128);
  });

  test('reap: named, by context, idle; each reaped surface is deleted for subscribers', async () => {
    const c = await server.authed();
    await c.result('a2ui/subscribe', {});
    await c.result('a2ui.ingest', { messages: [create('p1'), create('p2')], contextId: 'ctx-p' });
    await c.result('a2ui.apply', create('p3'));
    assert.deepEqual(await c.result('a2ui.reap', { surfaceIds: ['p3'] }), { reaped: ['p3'] });
    assert.deepEqual((await c.result('a2ui.reap', { contextId: 'ctx-p' })).reaped.sort(), ['p1', 'p2']);
    const deletes = a2uiEvents(c).filter((e) => e.reason === 'reaped').map((e) => e.message.deleteSurface.surfaceId);
    assert.deepEqual(deletes.sort(), ['p1', 'p2', 'p3']);
    assert.deepEqual(await c.result('a2ui.reap', {}), { reaped: [] }, 'nothing idle for an hour');
    await c.result('a2ui.apply', create('p4'));
    assert.ok((await c.result('a2ui.reap', { idleMs: 0 })).reaped.includes('p4'));
    assert.equal((await c.error('a2ui.reap', { idleMs: -1 })).code, -32602);
  });

  test('action on a surface with no reachable agent: host.event a2ui.action and a2ui.event kind action', async () => {
    const c = await server.authed({ handshake: true });
    await c.result('host.subscribe', {});
    await c.result('a2ui/subscribe', {});
    await c.result('a2ui.ingest', { messages: [create('act1'), tree('act1')], contextId: 'ctx-act', taskId: 'task-act' });
    const out = await c.result('a2ui.action', { surfaceId: 'act1', name: 'confirm', sourceComponentId: 'ok', context: { v: 1 } });
    assert.equal(out.routed, 'host');
    assert.equal(out.action.name, 'confirm');
    assert.match(out.action.timestamp, /^\d{4}-\d\d-\d\dT/);
    await waitFor(() => events(c, 'host.event').some((e) => e.kind === 'a2ui.action'), undefined, 'host.event a2ui.action');
    const hostEvent = events(c, 'host.event').find((e) => e.kind === 'a2ui.action');
    assert.deepEqual(hostEvent.payload.action, { version: 'v0.9', action: out.action });
    assert.deepEqual(hostEvent.payload.owner, { source: 'a2a', taskId: 'task-act', contextId: 'ctx-act' });
    const ev = a2uiEvents(c).find((e) => e.kind === 'action');
    assert.equal(ev.routed, 'host');
    const wrapped = await c.result('a2ui.action', { version: 'v0.9', action: { surfaceId: 'act1', name: 'again', sourceComponentId: 'ok' } });
    assert.equal(wrapped.action.name, 'again');
  });
});

describe('a2ui limits from ServerStateConfig, at their bounds over the wire', () => {
  test('a2uiMaxSurfaces, a2uiMaxSurfacesPerOwner, a2uiMaxComponentsPerSurface, a2uiMaxDataModelBytes, a2uiMaxMessagesPerCall, a2uiMaxComponentsBytes', async () => {
    const server = await startServer({
      a2uiMaxSurfaces: 3,
      a2uiMaxSurfacesPerOwner: 2,
      a2uiMaxComponentsPerSurface: 2,
      a2uiMaxDataModelBytes: 64,
      a2uiMaxMessagesPerCall: 4,
      a2uiMaxComponentsBytes: 300,
    });
    try {
      const c = await server.authed();
      await c.result('a2ui.ingest', { messages: [create('a'), create('b')], contextId: 'x' });
      const perOwner = await c.error('a2ui.ingest', { messages: [create('c')], contextId: 'x' });
      assert.deepEqual([perOwner.code, (perOwner.data as Frame).kind, (perOwner.data as Frame).limit], [-32603, 'limit', 2]);
      await c.result('a2ui.apply', create('c'));
      const total = await c.error('a2ui.apply', create('d'));
      assert.equal((total.data as Frame).limit, 3);

      await c.result('a2ui.apply', components('c', [text('t1', 'a'), text('t2', 'b')]));
      assert.equal(((await c.error('a2ui.apply', components('c', [text('t3', 'c')]))).data as Frame).limit, 2);
      const bytes = await c.error('a2ui.apply', components('c', [text('t1', 'x'.repeat(300))]));
      assert.equal((bytes.data as Frame).limit, 300);

      const fits = 'x'.repeat(64 - JSON.stringify({ k: '' }).length);
      await c.result('a2ui.apply', data('c', '/k', fits));
      assert.equal(((await c.error('a2ui.apply', data('c', '/k', `${fits}x`))).data as Frame).limit, 64);

      const four = [data('a', '/k', 1), data('a', '/k', 2), data('a', '/k', 3), data('a', '/k', 4)];
      assert.equal((await c.result('a2ui.ingest', { messages: four, contextId: 'x' })).applied.length, 4);
      assert.equal(((await c.error('a2ui.ingest', { messages: [...four, data('a', '/k', 5)], contextId: 'x' })).data as Frame).limit, 4);
    } finally {
      await server.close();
    }
  });
});
