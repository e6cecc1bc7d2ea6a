import assert from 'node:assert/strict';
import test from 'node:test';
import { fastUuid } from '../../src/util/uuid.js';

test('fastUuid: version-4 UUIDs in lowercase text form, unique across many refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const id = fastUuid();
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 5000);
});
