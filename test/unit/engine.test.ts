import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { StateError, StateStore, ToolRegistry, type ToolDefinition } from '../../src/index.js';
import { ToolLimitError } from '../../src/engine/tool-registry.js';

describe('StateStore / StateView', () => {
  test('get returns null for absent keys; set/has/get round-trip; undefined is stored as null', () => {
    const store = new StateStore();
    const v = store.view();
    assert.equal(v.scoped, false);
    assert.equal(v.get('k'), null);
    assert.equal(v.has('k'), false);
    v.set('k', { a: 1 });
    assert.deepEqual(v.get('k'), { a: 1 });
    assert.equal(v.has('k'), true);
    v.set('u', undefined);
    assert.equal(v.get('u'), null);
    assert.equal(v.has('u'), true);
    assert.equal(store.size, 2);
  });

  test('null, undefined and "" all give the unscoped view', () => {
    const store = new StateStore();
    store.view(null).set('a', 1);
    assert.equal(store.view(undefined).get('a'), 1);
    assert.equal(store.view('').get('a'), 1);
    assert.equal(store.view('').scoped, false);
  });

  test('tenant views are isolated from each other and from the unscoped view, both ways', () => {
    const store = new StateStore();
    const t1 = store.view('t1');
    const t2 = store.view('t2');
    const plain = store.view();
    assert.equal(t1.scoped, true);
    t1.set('k', 'one');
    t2.set('k', 'two');
    plain.set('k', 'plain');
    assert.equal(t1.get('k'), 'one');
    assert.equal(t2.get('k'), 'two');
    assert.equal(plain.get('k'), 'plain');
    assert.equal(store.view('t3').get('k'), null);
    assert.equal(store.view('t3').has('k'), false);
    // The unscoped view cannot reach tenant data by spelling out the internal prefix.
    assert.equal(plain.get('tenant:t1:k'), null);
    assert.equal(plain.has('tenant:t1:k'), false);
    assert.equal(plain.delete('tenant:t1:k'), false);
    assert.equal(t1.get('k'), 'one');
  });

  test('the unscoped view refuses keys under the reserved prefix (StateError on field "key")', () => {
    const plain = new StateStore().view();
    assert.throws(
      () => plain.set('tenant:t1:k', 1),
      (err: unknown) => err instanceof StateError && err.field === 'key' && /reserved 'tenant:' prefix/.test(err.message),
    );
    // A key that merely contains "tenant:" later on is fine.
    plain.set('my-tenant:x', 1);
    assert.equal(plain.get('my-tenant:x'), 1);
  });

  test('a tenant id containing ":" is refused (StateError on field "tenant_id")', () => {
    assert.throws(
      () => new StateStore().view('a:b'),
      (err: unknown) => err instanceof StateError && err.field === 'tenant_id',
    );
  });

  test('keys()/snapshot(): scoped views strip the prefix; the unscoped view hides tenant keys', () => {
    const store = new StateStore();
    store.view('t1').set('a', 1);
    store.view('t1').set('b', 2);
    store.view('t10').set('c', 3);
    store.view().set('z', 26);
    assert.deepEqual(store.view('t1').keys().sort(), ['a', 'b']);
    assert.deepEqual(store.view('t1').snapshot(), { a: 1, b: 2 });
    assert.deepEqual(store.view('t10').keys(), ['c'], 'prefix t1 does not leak into t10 or vice versa');
    assert.deepEqual(store.view().keys(), ['z']);
    assert.deepEqual(store.view().snapshot(), { z: 26 });
    // Raw entries (runtime snapshots) include everything.
    assert.equal([...store.entries()].length, 4);
  });

  test('delete() removes only within the view', () => {
    const store = new StateStore();
    store.view('t').set('k', 1);
    store.view().set('k', 2);
    assert.equal(store.view().delete('k'), true);
    assert.equal(store.view().delete('k'), false);
    assert.equal(store.view('t').get('k'), 1);
  });

  test('maxKeys bounds new keys across all views; overwrites are always allowed', () => {
    const store = new StateStore(2);
    store.view().set('a', 1);
    store.view('t').set('b', 2);
    assert.throws(
      () => store.view().set('c', 3),
      (err: unknown) => err instanceof StateError && err.field === 'key' && /at most 2 keys/.test(err.message),
    );
    store.view().set('a', 'again');
    assert.equal(store.view().get('a'), 'again');
    assert.equal(store.size, 2);
  });

  test('restore() replaces the whole map', () => {
    const store = new StateStore();
    store.view().set('old', 1);
    const saved = [...store.entries()];
    store.view().set('new', 2);
    store.view('t').set('x', 3);
    store.restore(saved);
    assert.deepEqual(store.view().keys(), ['old']);
    assert.deepEqual(store.view('t').keys(), []);
  });
});

describe('ToolRegistry', () => {
  const def = (name: string, extra: Partial<ToolDefinition> = {}): ToolDefinition => ({
    name,
    description: '',
    parameters: { type: 'object' },
    idempotent: false,
    ...extra,
  });

  test('register returns how many were given; list is sorted by name', () => {
    const reg = new ToolRegistry();
    assert.equal(reg.register([def('zeta'), def('alpha'), def('Mid')]), 3);
    assert.deepEqual(
      reg.list().map((t) => t.name),
      ['Mid', 'alpha', 'zeta'],
    );
    assert.equal(reg.size, 3);
    assert.equal(reg.has('alpha'), true);
    assert.equal(reg.get('alpha')?.name, 'alpha');
    assert.equal(reg.get('nope'), undefined);
  });

  test('registering a name again replaces the definition', () => {
    const reg = new ToolRegistry();
    reg.register([def('t', { description: 'v1' })]);
    reg.register([def('t', { description: 'v2' })]);
    assert.equal(reg.size, 1);
    assert.equal(reg.get('t')?.description, 'v2');
  });

  test('unregister returns 1 or 0', () => {
    const reg = new ToolRegistry();
    reg.register([def('t')]);
    assert.equal(reg.unregister('t'), 1);
    assert.equal(reg.unregister('t'), 0);
    assert.equal(reg.unregister('never'), 0);
    assert.equal(reg.size, 0);
  });

  test('maxTools counts only new names, and a refused batch registers nothing', () => {
    const reg = new ToolRegistry(2);
    reg.register([def('a'), def('b')]);
    assert.throws(() => reg.register([def('a'), def('c')]), (err: unknown) => err instanceof ToolLimitError && /at most 2/.test(err.message));
    assert.deepEqual(
      reg.list().map((t) => t.name),
      ['a', 'b'],
    );
    assert.equal(reg.register([def('a', { description: 'replaced' }), def('b')]), 2);
    assert.equal(reg.get('a')?.description, 'replaced');
  });

  test('parameters are kept as given', () => {
    const schema = { type: 'object', properties: { q: { type: 'string', pattern: '^a' } }, required: ['q'] };
    const reg = new ToolRegistry();
    reg.register([def('search', { parameters: schema })]);
    assert.equal(reg.get('search')?.parameters, schema);
  });
});
