import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { A2uiService, A2uiSurfaceStore, BASIC_CATALOG, extractA2ui, type A2uiStoreLimits } from '../../src/a2ui/index.js';
import { CarError } from '../../src/util/errors.js';

const LIMITS: A2uiStoreLimits = {
  maxSurfaces: 8,
  maxSurfacesPerOwner: 4,
  maxComponentsPerSurface: 10,
  maxComponentsBytes: 4096,
  maxDataModelBytes: 256,
  maxMessagesPerCall: 16,
  loopMaxIterations: 3,
  oscillationWindow: 8,
};
const LOCAL = { source: 'local' as const, clientId: 'c1' };
const opts = { owner: LOCAL, atomic: true, at: 'messages' };

const create = (surfaceId: string, catalogId = BASIC_CATALOG.id) => ({ version: 'v0.9', createSurface: { surfaceId, catalogId } });
const components = (surfaceId: string, list: unknown[]) => ({ version: 'v0.9', updateComponents: { surfaceId, components: list } });
const data = (surfaceId: string, path: string | undefined, value?: unknown) => ({
  version: 'v0.9',
  updateDataModel: { surfaceId, ...(path === undefined ? {} : { path }), ...(value === undefined ? {} : { value }) },
});
const text = (id: string, t: string) => ({ id, component: 'Text', text: t });

function throwsCar(fn: () => unknown, kind: string, field?: string | RegExp): CarError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CarError, `a CarError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    if (typeof field === 'string') assert.equal(err.field, field);
    else if (field !== undefined) assert.match(err.field ?? '', field);
    return err;
  }
  assert.fail('expected a CarError');
}

describe('A2uiSurfaceStore', () => {
  test('create, components, data model (JSON Pointer set, append, remove) and delete', () => {
    const store = new A2uiSurfaceStore(LIMITS);
    const out = store.apply(
      [
        create('s'),
        components('s', [{ id: 'root', component: 'Column', children: ['t'] }, text('t', 'hi')]),
        data('s', '/user/name', 'Ada'),
        data('s', '/items', [1]),
        data('s', '/items/-', 2),
        data('s', '/user/gone', true),
        data('s', '/user/gone'),
        data('s', '/items/0'),
      ],
      opts,
    );
    assert.deepEqual(out.applied.map((a) => a.kind), ['createSurface', 'updateComponents', ...Array(6).fill('updateDataModel')]);
    const s = store.require('s');
    assert.deepEqual(s.dataModel, { user: { name: 'Ada' }, items: [null, 2] }, 'a removed array slot keeps the length');
    assert.equal(s.components.size, 2);
    assert.equal(s.revision, 8);
    store.apply([data('s', undefined, { whole: 1 })], opts);
    assert.deepEqual(store.require('s').dataModel, { whole: 1 }, 'no path: the whole model');
    const del = store.apply([{ version: 'v0.9', deleteSurface: { surfaceId: 's' } }], opts);
    assert.deepEqual(del.deleted, ['s']);
    assert.equal(store.get('s'), undefined);
  });

  test('validation names the field: catalog, component type, required props, references, version, shape', () => {
    const store = new A2uiSurfaceStore(LIMITS);
    throwsCar(() => store.apply([create('s', 'https://example.com/catalog.json')], opts), 'invalid', 'messages[0].createSurface.catalogId');
    store.apply([create('s')], opts);
    throwsCar(() => store.apply([components('s', [{ id: 'x', component: 'Marquee' }])], opts), 'invalid', 'messages[0].updateComponents.components[0].component');
    throwsCar(() => store.apply([components('s', [{ id: 'x', component: 'Text' }])], opts), 'invalid', 'messages[0].updateComponents.components[0].text');
    throwsCar(() => store.apply([components('s', [{ id: 'x', component: 'Row', children: [3] }])], opts), 'invalid', 'messages[0].updateComponents.components[0].children[0]');
    throwsCar(() => store.apply([components('s', [{ id: 'x', component: 'Card', child: '' }])], opts), 'invalid', 'messages[0].updateComponents.components[0].child');
    throwsCar(() => store.apply([components('s', [{ id: 'x', component: 'Tabs', tabs: [{ title: 'a' }] }])], opts), 'invalid', 'messages[0].updateComponents.components[0].tabs[0].child');
    throwsCar(() => store.apply([components('s', [text('a', '1'), text('a', '2')])], opts), 'invalid', 'messages[0].updateComponents.components[1].id');
    throwsCar(() => store.apply([{ version: 'v2', deleteSurface: { surfaceId: 's' } }], opts), 'invalid', 'messages[0].version');
    assert.equal(store.apply([{ version: 'v0.9.1', updateDataModel: { surfaceId: 's', path: '/a', value: 1 } }], opts).applied.length, 1, 'v0.9.1 is taken');
    throwsCar(() => store.apply([{ createSurface: { surfaceId: 'z', catalogId: BASIC_CATALOG.id }, deleteSurface: { surfaceId: 's' } }], opts), 'invalid', 'messages[0]');
    throwsCar(() => store.apply([{ deleteSurface: { surfaceId: 's', extra: 1 } }], opts), 'invalid', 'messages[0].deleteSurface.extra');
    throwsCar(() => store.apply([data('s', 'user')], opts), 'invalid', 'messages[0].updateDataModel.path');
    throwsCar(() => store.apply([data('s', '/__proto__/x', 1)], opts), 'invalid', 'messages[0].updateDataModel.path');
    throwsCar(() => store.apply([components('nope', [text('a', 'b')])], opts), 'not_found', 'messages[0].updateComponents.surfaceId');
    throwsCar(() => store.apply([create('s')], opts), 'conflict', 'messages[0].createSurface.surfaceId');
    const minimal = store.apply([create('m', 'https://a2ui.org/specification/v0_9_1/catalogs/minimal/catalog.json')], opts);
    assert.equal(minimal.applied.length, 1, 'an alias of a supported catalog');
    throwsCar(() => store.apply([components('m', [{ id: 'i', component: 'Image', url: 'x' }])], opts), 'invalid', /components\[0\]\.component$/);
  });

  test('atomic: a bad message anywhere leaves the store exactly as it was', () => {
    const store = new A2uiSurfaceStore(LIMITS);
    store.apply([create('s'), components('s', [text('root', 'before')])], opts);
    throwsCar(
      () => store.apply([components('s', [text('root', 'after')]), create('t'), data('s', '/x', 1), components('s', [{ id: 'bad', component: 'Nope' }])], opts),
      'invalid',
      'messages[3].updateComponents.components[0].component',
    );
    assert.equal(store.require('s').components.get('root')!.text, 'before');
    assert.deepEqual(store.require('s').dataModel, {});
    assert.equal(store.get('t'), undefined);
  });

  test('per-message mode (A2A-borne lists): each message stands alone, failures are reported', () => {
    const store = new A2uiSurfaceStore(LIMITS);
    const out = store.apply([create('s'), { bogus: true }, components('s', [text('root', 'ok')]), components('s', [{ id: 'x', component: 'Nope' }])], {
      ...opts,
      atomic: false,
    });
    assert.deepEqual(out.applied.map((a) => a.index), [0, 2]);
    assert.deepEqual(out.rejected.map((r) => [r.index, r.error.kind]), [[1, 'invalid'], [3, 'invalid']]);
    assert.equal(store.require('s').components.get('root')!.text, 'ok');
  });

  test('limits, each at its bound: surfaces, per owner, components, component bytes, data model bytes, messages per call', () => {
    const store = new A2uiSurfaceStore({ ...LIMITS, maxSurfaces: 3, maxSurfacesPerOwner: 2 });
    const a = { owner: { source: 'a2a' as const, contextId: 'ctx-a' }, atomic: true, at: 'messages' };
    store.apply([create('a1'), create('a2')], a);
    const e = throwsCar(() => store.apply([create('a3')], a), 'limit', 'messages[0].createSurface.surfaceId');
    assert.equal(e.limit, 2);
    store.apply([create('l1')], opts);
    assert.equal(throwsCar(() => store.apply([create('l2')], opts), 'limit').limit, 3, 'daemon-wide');
    store.apply([{ deleteSurface: { surfaceId: 'l1' } }, create('l2')], opts);

    const big = new A2uiSurfaceStore(LIMITS);
    big.apply([create('s'), components('s', Array.from({ length: 10 }, (_, i) => text(`c${i}`, 'x')))], opts);
    assert.equal(throwsCar(() => big.apply([components('s', [text('c10', 'x')])], opts), 'limit').limit, 10);
    big.apply([components('s', [text('c9', 'replaced')])], opts);
    assert.equal(throwsCar(() => big.apply([components('s', [text('c0', 'x'.repeat(4096))])], opts), 'limit').limit, 4096);
    const exact = 256 - JSON.stringify({ v: '' }).length;
    big.apply([data('s', '/', { v: 'x'.repeat(exact) })], opts);
    assert.equal(big.require('s').dataModelBytes, 256, 'a data model of exactly the bound is taken');
    assert.equal(throwsCar(() => big.apply([data('s', '/', { v: 'x'.repeat(exact + 1) })], opts), 'limit').limit, 256);
    assert.equal(throwsCar(() => big.apply(Array.from({ length: 17 }, () => data('s', '/v', 1)), opts), 'limit').limit, 16);
    big.apply(Array.from({ length: 16 }, () => data('s', '/v', 1)), opts);
  });

  test('an A2A owner changes only its own conversation\'s surfaces; the host may change any', () => {
    const store = new A2uiSurfaceStore(LIMITS);
    const mine = { owner: { source: 'a2a' as const, contextId: 'c1' }, atomic: true, at: 'messages' };
    const other = { owner: { source: 'a2a' as const, contextId: 'c2' }, atomic: true, at: 'messages' };
    store.apply([create('s')], mine);
    throwsCar(() => store.apply([data('s', '/x', 1)], other), 'conflict', 'messages[0].updateDataModel.surfaceId');
    store.apply([data('s', '/x', 1)], mine);
    store.apply([data('s', '/y', 2)], opts);
    assert.deepEqual(store.require('s').dataModel, { x: 1, y: 2 });
  });

  test('the wrapped component form {Text: {id, …}} is flattened', () => {
    const store = new A2uiSurfaceStore(LIMITS);
    store.apply([create('s'), components('s', [{ Text: { id: 'root', text: 'Hello!' } }])], opts);
    assert.deepEqual(store.require('s').components.get('root'), { id: 'root', text: 'Hello!', component: 'Text' });
  });
});

describe('the UI-improvement loop guards in the store', () => {
  test('after a render report, the budget counts agent patches; at the cap they are refused until the surface is recreated', () => {
    const store = new A2uiSurfaceStore(LIMITS);
    store.apply([create('s'), components('s', [text('root', 'v0')])], opts);
    store.apply([components('s', [text('root', 'no report: not counted')])], opts);
    assert.equal(store.loopState('s').remaining, 3);
    for (let i = 1; i <= 3; i++) {
      assert.equal(store.renderReport('s', { n: i }).awaitingPatch, true);
      const out = store.apply([components('s', [text('root', `v${i}`)])], opts);
      assert.deepEqual(out.refused, []);
    }
    assert.equal(store.loopState('s').remaining, 0);
    const skipped = store.renderReport('s', { n: 4 });
    assert.equal(skipped.skipped, 'budget_exhausted');
    const late = store.apply([components('s', [text('root', 'v4')])], opts);
    assert.deepEqual(late.refused.map((r) => [r.reason, r.remaining]), [['budget_exhausted', 0]], 'a patch sent anyway is refused');
    assert.equal(store.require('s').components.get('root')!.text, 'v3');
    store.apply([components('s', [text('root', 'host edit')])], opts);
    assert.equal(store.require('s').components.get('root')!.text, 'host edit', 'with no report awaited, an update is not a loop patch');

    store.apply([{ deleteSurface: { surfaceId: 's' } }, create('s')], opts);
    assert.equal(store.loopState('s').remaining, 3, 'recreating the surface resets its budget');
  });

  test('a patch that brings back a recent state (A→B→A) is refused, nothing of it applied, and it spends its iteration', () => {
    const store = new A2uiSurfaceStore({ ...LIMITS, loopMaxIterations: 20 });
    store.apply([create('s'), components('s', [text('root', 'start')])], opts);
    const patch = (t: string) => [components('s', [text('root', t)]), data('s', '/t', t)];
    store.renderReport('s', {});
    assert.deepEqual(store.apply(patch('A'), opts).refused, []);
    store.renderReport('s', {});
    assert.deepEqual(store.apply(patch('B'), opts).refused, []);
    store.renderReport('s', {});
    const out = store.apply(patch('A'), opts);
    assert.deepEqual(out.refused.map((r) => [r.surfaceId, r.reason, r.indexes]), [['s', 'oscillation', [0, 1]]]);
    assert.deepEqual(out.applied, []);
    assert.equal(store.require('s').components.get('root')!.text, 'B');
    assert.deepEqual(store.require('s').dataModel, { t: 'B' });
    assert.equal(store.loopState('s').iterations, 3);
    store.renderReport('s', {});
    assert.deepEqual(store.apply(patch('C'), opts).refused, [], 'a new state goes through');
  });

  test('an invalid patch after a report spends nothing', () => {
    const store = new A2uiSurfaceStore(LIMITS);
    store.apply([create('s')], opts);
    store.renderReport('s', {});
    throwsCar(() => store.apply([components('s', [{ id: 'x', component: 'Nope' }])], opts), 'invalid');
    assert.deepEqual(store.loopState('s'), { iterations: 0, remaining: 3, awaitingPatch: true });
  });
});

describe('A2uiService events', () => {
  test('events go out only after a change is in the store, in order; host events for updates and deletes; none for a bad call', () => {
    const host: [string, Record<string, unknown>][] = [];
    const svc = new A2uiService({ limits: LIMITS, surfaceIdleMs: 1000, hostEvent: (k, _m, p) => host.push([k, p]) });
    const seen: unknown[] = [];
    svc.subscribe('c', { open: true, send: (e) => (seen.push(e), true) });
    assert.throws(() => svc.apply([create('s'), { nope: 1 }], opts));
    assert.equal(seen.length, 0);
    assert.equal(host.length, 0);
    svc.apply([create('s'), components('s', [text('root', 'x')])], opts);
    assert.deepEqual(seen.map((e: any) => [e.sequence, e.kind, Object.keys(e.message).find((k) => k !== 'version')]), [
      [1, 'message', 'createSurface'],
      [2, 'message', 'updateComponents'],
    ]);
    assert.deepEqual(host.map(([k, p]) => [k, p.surfaceId]), [['a2ui.surface_updated', 's']]);
    svc.reap({ idleMs: 0 });
    assert.deepEqual(host.at(-1), ['a2ui.surface_deleted', { surfaceId: 's', reason: 'reaped' }]);
  });
});

describe('A2uiService.reap', () => {
  test('with no filter: surfaces untouched for surfaceIdleMs, exactly at the bound', () => {
    const svc = new A2uiService({ limits: LIMITS, surfaceIdleMs: 1000, hostEvent: () => {} });
    svc.apply([create('old')], { ...opts, now: 5_000 });
    svc.apply([create('new')], { ...opts, now: 5_500 });
    assert.deepEqual(svc.reap({}, 5_999), []);
    assert.deepEqual(svc.reap({}, 6_000), ['old']);
    assert.deepEqual(svc.reap({ idleMs: 0 }, 6_000), ['new']);
  });
});

describe('extractA2ui', () => {
  test('finds messages in every A2A wrapping and leaves the rest', () => {
    const env = create('s');
    assert.deepEqual(extractA2ui(env), [env]);
    assert.deepEqual(extractA2ui({ a2ui: env }), [env]);
    assert.deepEqual(extractA2ui({ data: [env, env], mediaType: 'application/a2ui+json' }), [env, env]);
    assert.deepEqual(extractA2ui({ kind: 'data', data: env, metadata: { mimeType: 'application/a2ui+json' } }), [env]);
    assert.deepEqual(extractA2ui({ data: { tool: 'x', parameters: {} }, mediaType: 'application/json' }), []);
    const task = { id: 't', contextId: 'c', status: { message: { parts: [{ text: 'hi' }, { data: { a2ui: env } }] } }, artifacts: [{ parts: [{ data: env, mediaType: 'application/a2ui+json' }] }] };
    assert.deepEqual(extractA2ui(task), [env, env]);
    assert.deepEqual(extractA2ui({ data: [{ version: 'v0.9', action: { name: 'x' } }], mediaType: 'application/a2ui+json' }), [], 'client actions are not surface updates');
  });
});
