import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { useServer } from '../helpers/server.js';

describe('state.* methods', () => {
  const server = useServer({ maxStateKeysPerSession: 5 });

  test('state.set answers "ok"; state.get returns the value, or null when absent', async () => {
    const c = await server.authed();
    assert.equal(await c.result('state.get', { key: 'k' }), null);
    assert.equal(await c.result('state.set', { key: 'k', value: { nested: [1, 'two', null] } }), 'ok');
    assert.deepEqual(await c.result('state.get', { key: 'k' }), { nested: [1, 'two', null] });
    assert.equal(await c.result('state.set', { key: 'k', value: 3 }), 'ok');
    assert.equal(await c.result('state.get', { key: 'k' }), 3);
  });

  test('state.set without a value stores null (and the key exists)', async () => {
    const c = await server.authed();
    assert.equal(await c.result('state.set', { key: 'empty' }), 'ok');
    assert.equal(await c.result('state.get', { key: 'empty' }), null);
    assert.equal(await c.result('state.exists', { key: 'empty' }), true);
  });

  test('state.exists tracks presence', async () => {
    const c = await server.authed();
    assert.equal(await c.result('state.exists', { key: 'e' }), false);
    await c.result('state.set', { key: 'e', value: false });
    assert.equal(await c.result('state.exists', { key: 'e' }), true);
    assert.equal(await c.result('state.exists', { key: 'other' }), false);
  });

  test('tenant isolation: a key under t1 is invisible unscoped and under t2', async () => {
    const c = await server.authed();
    assert.equal(await c.result('state.set', { key: 'secret', value: 's1', tenant_id: 't1' }), 'ok');
    assert.equal(await c.result('state.get', { key: 'secret', tenant_id: 't1' }), 's1');
    assert.equal(await c.result('state.exists', { key: 'secret', tenant_id: 't1' }), true);

    assert.equal(await c.result('state.get', { key: 'secret' }), null);
    assert.equal(await c.result('state.exists', { key: 'secret' }), false);
    assert.equal(await c.result('state.get', { key: 'secret', tenant_id: 't2' }), null);
    assert.equal(await c.result('state.exists', { key: 'secret', tenant_id: 't2' }), false);
    // Nor can the unscoped view reach it through the internal prefix.
    assert.equal(await c.result('state.get', { key: 'tenant:t1:secret' }), null);
    assert.equal(await c.result('state.exists', { key: 'tenant:t1:secret' }), false);

    // And the other way round: an unscoped key is not visible under a tenant.
    await c.result('state.set', { key: 'plain', value: 'p' });
    assert.equal(await c.result('state.get', { key: 'plain', tenant_id: 't1' }), null);
  });

  test('scoped state.keys/state.snapshot strip the prefix; unscoped ones never show tenant: keys', async () => {
    const c = await server.authed();
    await c.result('state.set', { key: 'a', value: 1, tenant_id: 't1' });
    await c.result('state.set', { key: 'b', value: 2, tenant_id: 't1' });
    await c.result('state.set', { key: 'a', value: 'other', tenant_id: 't2' });
    await c.result('state.set', { key: 'u', value: 'unscoped' });

    assert.deepEqual((await c.result('state.keys', { tenant_id: 't1' })).sort(), ['a', 'b']);
    assert.deepEqual(await c.result('state.snapshot', { tenant_id: 't1' }), { a: 1, b: 2 });
    assert.deepEqual(await c.result('state.keys', { tenant_id: 't2' }), ['a']);
    assert.deepEqual(await c.result('state.snapshot', { tenant_id: 't2' }), { a: 'other' });
    assert.deepEqual(await c.result('state.keys', { tenant_id: 't3' }), []);

    const keys: string[] = await c.result('state.keys', {});
    assert.deepEqual(keys, ['u']);
    assert.ok(!keys.some((k) => k.startsWith('tenant:')));
    assert.deepEqual(await c.result('state.snapshot', {}), { u: 'unscoped' });
    assert.deepEqual(await c.result('state.keys'), ['u']);
  });

  test('an unscoped state.set of a key starting with "tenant:" is refused with -32602', async () => {
    const c = await server.authed();
    const err = await c.error('state.set', { key: 'tenant:t1:sneaky', value: 1 });
    assert.equal(err.code, -32602);
    assert.match(err.message, /^invalid params: key 'tenant:t1:sneaky' uses the reserved 'tenant:' prefix/);
    assert.deepEqual(err.data, { kind: 'invalid', field: 'key' });
    assert.equal(await c.result('state.get', { key: 'sneaky', tenant_id: 't1' }), null);
  });

  test('a tenant_id containing ":" is -32602 naming tenant_id', async () => {
    const c = await server.authed();
    for (const method of ['state.set', 'state.get', 'state.exists']) {
      const err = await c.error(method, { key: 'k', value: 1, tenant_id: 'a:b' });
      assert.equal(err.code, -32602, method);
      assert.match(err.message, /^invalid params: tenant_id must not contain ':'/);
      assert.deepEqual(err.data, { kind: 'invalid', field: 'tenant_id' });
    }
    for (const method of ['state.keys', 'state.snapshot']) {
      const err = await c.error(method, { tenant_id: 'x:' });
      assert.equal(err.code, -32602, method);
    }
  });

  test('an empty key is -32602', async () => {
    const c = await server.authed();
    const err = await c.error('state.set', { key: '', value: 1 });
    assert.equal(err.code, -32602);
    assert.match(err.message, /^invalid params: key: key must be a non-empty string/);
  });

  test('state is per connection: a second connection does not see the first one\'s keys', async () => {
    const a = await server.authed();
    const b = await server.authed();
    await a.result('state.set', { key: 'mine', value: 'a' });
    await a.result('state.set', { key: 'mine', value: 'at', tenant_id: 't' });
    assert.equal(await b.result('state.get', { key: 'mine' }), null);
    assert.equal(await b.result('state.exists', { key: 'mine' }), false);
    assert.deepEqual(await b.result('state.keys', {}), []);
    assert.equal(await b.result('state.get', { key: 'mine', tenant_id: 't' }), null);
    assert.equal(await a.result('state.get', { key: 'mine' }), 'a');
  });

  test('maxStateKeysPerSession bounds a session\'s keys (all tenants together)', async () => {
    const c = await server.authed();
    for (let i = 0; i < 4; i++) await c.result('state.set', { key: `k${i}`, value: i });
    await c.result('state.set', { key: 'k4', value: 4, tenant_id: 't' });
    const err = await c.error('state.set', { key: 'k5', value: 5 });
    assert.equal(err.code, -32603);
    assert.match(err.message, /state is full: at most 5 keys per session/);
    assert.deepEqual(err.data, { kind: 'limit', field: 'key', limit: 5 });
    // Overwriting an existing key is still fine.
    assert.equal(await c.result('state.set', { key: 'k0', value: 'new' }), 'ok');
  });
});

describe('tools.* methods', () => {
  const server = useServer({ maxToolsPerSession: 3 });

  const weather = {
    name: 'weather',
    description: 'Current weather',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', minLength: 1 }, units: { enum: ['c', 'f'] } },
      required: ['city'],
      additionalProperties: false,
    },
    idempotent: true,
  };
  const alarm = { name: 'alarm', parameters: { type: 'object', properties: { at: { type: 'string', format: 'date-time' } } } };

  test('tools.register([a, b]) with params as a JSON array answers 2', async () => {
    const c = await server.authed();
    assert.equal(await c.result('tools.register', [weather, alarm]), 2);
  });

  test('tools.list is sorted by name, has count, and keeps schemas as sent', async () => {
    const c = await server.authed();
    await c.result('tools.register', [weather, alarm]);
    const listed = await c.result('tools.list', {});
    // The built-in messaging.send is listed with them.
    assert.equal(listed.count, 3);
    assert.equal(listed.tools.length, 3);
    assert.deepEqual(
      listed.tools.map((t: { name: string }) => t.name),
      ['alarm', 'messaging.send', 'weather'],
    );
    assert.deepEqual(listed.tools[2].parameters, weather.parameters);
    assert.deepEqual(listed.tools[0].parameters, alarm.parameters);
    assert.equal(listed.tools[2].description, 'Current weather');
    assert.equal(listed.tools[2].idempotent, true);
    assert.equal(listed.tools[0].idempotent, false);
    assert.equal(listed.tools[0].description, '');
  });

  test('tools are per connection', async () => {
    const a = await server.authed();
    const b = await server.authed();
    await a.result('tools.register', [weather]);
    const listed = await b.result('tools.list', {});
    assert.deepEqual(listed.tools.map((t: { name: string }) => t.name), ['messaging.send']);
    assert.equal(listed.count, 1);
  });

  test('registering a name again replaces the definition', async () => {
    const c = await server.authed();
    await c.result('tools.register', [weather]);
    await c.result('tools.register', [{ ...weather, description: 'v2' }]);
    const listed = await c.result('tools.list');
    assert.equal(listed.count, 2);
    assert.equal(listed.tools.find((t: { name: string }) => t.name === 'weather').description, 'v2');
  });

  test('tools.unregister removes a tool; an unknown name answers {unregistered, removed: 0}', async () => {
    const c = await server.authed();
    await c.result('tools.register', [weather, alarm]);
    assert.deepEqual(await c.result('tools.unregister', { name: 'weather' }), { unregistered: 'weather', removed: 1 });
    assert.deepEqual(await c.result('tools.unregister', { name: 'weather' }), { unregistered: 'weather', removed: 0 });
    assert.deepEqual(await c.result('tools.unregister', { name: 'never' }), { unregistered: 'never', removed: 0 });
    assert.deepEqual(
      (await c.result('tools.list', {})).tools.map((t: { name: string }) => t.name),
      ['alarm', 'messaging.send'],
    );
  });

  test('tools.unregister without a name is -32602 naming it', async () => {
    const c = await server.authed();
    const err = await c.error('tools.unregister', {});
    assert.equal(err.code, -32602);
    assert.equal(err.message, 'invalid params: name is required');
  });

  test('tools.register with bad definitions is -32602 naming the field', async () => {
    const c = await server.authed();
    const notArray = await c.error('tools.register', { name: 'x' });
    assert.equal(notArray.code, -32602);
    assert.match(notArray.message, /^invalid params: params: expected array/);
    const noName = await c.error('tools.register', [{ description: 'nameless' }]);
    assert.equal(noName.code, -32602);
    assert.equal(noName.message, 'invalid params: 0.name is required');
    const badFlag = await c.error('tools.register', [weather, { name: 'y', idempotent: 'yes' }]);
    assert.match(badFlag.message, /^invalid params: 1\.idempotent: expected boolean/);
    const listed = await c.result('tools.list', {});
    assert.deepEqual(listed.tools.map((t: { name: string }) => t.name), ['messaging.send'], 'nothing was registered');
  });

  test('maxToolsPerSession bounds a session\'s tools', async () => {
    const c = await server.authed();
    await c.result('tools.register', [{ name: 't1' }, { name: 't2' }, { name: 't3' }]);
    const err = await c.error('tools.register', [{ name: 't4' }]);
    assert.equal(err.code, -32603);
    assert.match(err.message, /too many tools: at most 3 per session/);
    // Re-registering an existing name does not count against the bound.
    assert.equal(await c.result('tools.register', [{ name: 't1', description: 'again' }]), 1);
  });
});
