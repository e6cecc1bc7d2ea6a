import assert from 'node:assert/strict';
import test from 'node:test';
import { parseCliArgs } from '../../src/cli/args.js';
import { resolveSettings } from '../../src/cli/settings.js';
import { UsageError } from '../../src/cli/usage-error.js';

test('--no-approvals / CAR_NO_APPROVALS=1 switch the approval gate off; it is on by default', () => {
  assert.equal(resolveSettings(parseCliArgs([]), {}).approvals, undefined);
  assert.equal(resolveSettings(parseCliArgs(['--no-approvals']), {}).approvals, false);
  assert.equal(resolveSettings(parseCliArgs([]), { CAR_NO_APPROVALS: '1' }).approvals, false);
  assert.equal(resolveSettings(parseCliArgs([]), { CAR_NO_APPROVALS: '0' }).approvals, undefined);
  assert.equal(resolveSettings(parseCliArgs(['--no-approvals']), { CAR_NO_APPROVALS: '0' }).approvals, false);
  assert.throws(() => resolveSettings(parseCliArgs([]), { CAR_NO_APPROVALS: 'maybe' }), UsageError);
});
