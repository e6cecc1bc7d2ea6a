import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import {
  HostError,
  MemoryError,
  PermissionDeniedError,
  PolicyError,
  RegistryError,
  RetentionPolicyError,
  RpcError,
  RunError,
  StateError,
  SupervisionError,
} from '../../src/index.js';
import { ProposalError } from '../../src/engine/ir.js';
import { InterpolationError } from '../../src/engine/executor/interpolation.js';
import { ToolLimitError } from '../../src/engine/tool-registry.js';
import { VerifyInputError } from '../../src/engine/verify/index.js';
import { AdmissionBusyError } from '../../src/engine/admission.js';
import { ContentRefusedError, ProviderError, UnsupportedModeError } from '../../src/inference/errors.js';
import { scrubPaths, toRpcError } from '../../src/server/error-map.js';
import { CarError } from '../../src/util/errors.js';

describe('one error model', () => {
  test('every engine error is a CarError with its kind', () => {
    const cases: [Error, string][] = [
      [new PolicyError('bad', 'invalid', 'target'), 'invalid'],
      [new PolicyError('no', 'unsupported', 'rule'), 'unavailable'],
      [new PolicyError('who', 'unknown_session', 'session_id'), 'not_found'],
      [new PolicyError('full', 'limit', undefined, 3), 'limit'],
      [new ProposalError('bad', 'actions[0].tool', 'a1'), 'invalid'],
      [new InterpolationError('bad ref'), 'invalid'],
      [new ToolLimitError('too many', 3), 'limit'],
      [new RetentionPolicyError('bad', 'policy.max_events'), 'invalid'],
      [new PermissionDeniedError([], []), 'denied'],
      [new StateError('bad', 'key'), 'invalid'],
      [new StateError('full', 'key', 'limit', 5), 'limit'],
      [new VerifyInputError('bad', 'config.trials'), 'invalid'],
      [new RunError('not_found', 'gone'), 'not_found'],
      [new RunError('terminal', 'ended'), 'conflict'],
      [new RunError('storage', 'disk'), 'unavailable'],
      [new RegistryError('bad name', 'invalid', 'name'), 'invalid'],
      [new RegistryError('no dir', 'unavailable'), 'unavailable'],
      [new HostError('not yours'), 'denied'],
      [new HostError('who', 'not_found'), 'not_found'],
      [new SupervisionError('unknown', 'no intent'), 'not_found'],
      [new SupervisionError('reason_required', 'why?'), 'invalid'],
      [new MemoryError('bad'), 'invalid'],
      [new MemoryError('escape', 'rejected_path'), 'denied'],
      [new MemoryError('down', 'unavailable'), 'unavailable'],
      [new ContentRefusedError('m', 'policy'), 'denied'],
      [new UnsupportedModeError('tokenize', 'm', 'remote'), 'unavailable'],
      [new ProviderError('limit', 'HTTP 429', 'm', { retryable: true }), 'limit'],
      [new AdmissionBusyError(2, 2, 1), 'limit'],
    ];
    for (const [err, kind] of cases) {
      assert.ok(err instanceof CarError, `${err.name} is a CarError`);
      assert.equal((err as CarError).kind, kind, err.name);
    }
  });

  test('invalid → -32602 "invalid params: …"; the other kinds → -32603 as written; data {kind, field?, limit?, ...detail}', () => {
    const invalid = toRpcError(new ProposalError("actions[0].tool (action 'a1') is required", 'actions[0].tool', 'a1'));
    assert.equal(invalid.code, -32602);
    assert.equal(invalid.message, "invalid params: actions[0].tool (action 'a1') is required");
    assert.deepEqual(invalid.data, { kind: 'invalid', field: 'actions[0].tool', action_id: 'a1' });

    for (const kind of ['not_found', 'conflict', 'limit', 'denied', 'unavailable', 'timeout'] as const) {
      const mapped = toRpcError(new CarError(kind, `${kind} happened`, { field: 'x', limit: 7, detail: { extra: 1 } }));
      assert.equal(mapped.code, -32603, kind);
      assert.equal(mapped.message, `${kind} happened`);
      assert.deepEqual(mapped.data, { kind, field: 'x', limit: 7, extra: 1 });
    }
    assert.deepEqual(toRpcError(new CarError('denied', 'no')).data, { kind: 'denied' });
  });

  test('a verbatim usage line keeps its exact wording', () => {
    const usage = toRpcError(new RunError('invalid_turns', 'runs.record_turns requires { run_id, turns: [RunTurn] }'));
    assert.equal(usage.code, -32602);
    assert.equal(usage.message, 'runs.record_turns requires { run_id, turns: [RunTurn] }');
  });

  test('a content refusal is -32007 with its message as written; admission busy stays -32603 with reason inference_busy', () => {
    const refused = toRpcError(new ContentRefusedError('gpt-x', 'the model declined'));
    assert.equal(refused.code, -32007);
    assert.equal(refused.message, 'content refused: the model declined');
    assert.deepEqual(refused.data, { kind: 'denied', reason: 'content_refused', model: 'gpt-x' });
    assert.equal(toRpcError(new CarError('denied', 'content refused: lookalike', { detail: { reason: 'content_refused' } })).code, -32603, 'only the refusal class is -32007');

    const busy = toRpcError(new AdmissionBusyError(3, 3, 2));
    assert.equal(busy.code, -32603);
    assert.match(busy.message, /^inference is busy: all 2 permit\(s\) are held and 3 caller\(s\) already wait \(queue limit 3\)/);
    assert.deepEqual(busy.data, { kind: 'limit', limit: 3, reason: 'inference_busy', permits_total: 2, queue_depth: 3 });
  });

  test('RpcErrors pass through unchanged', () => {
    const own = new RpcError(-32006, 'protocol version mismatch: x', { y: 1 });
    assert.equal(toRpcError(own), own);
  });

  test('an unexpected error is -32603 and never carries an absolute server path', () => {
    const fsError = new Error("ENOENT: no such file or directory, open '/home/daemon/.car/registry/x.json'");
    const mapped = toRpcError(fsError);
    assert.equal(mapped.code, -32603);
    assert.equal(mapped.message, "ENOENT: no such file or directory, open '…/x.json'");
    assert.equal(mapped.data, undefined);
    assert.equal(toRpcError('thrown string at /var/lib/car/state').message, 'thrown string at …/state');
  });

  test('scrubPaths leaves URLs, relative paths and ratios alone', () => {
    for (const text of ['ws://127.0.0.1:9100/car', 'a/b/c.json', 'run 1/2', '~/.ssh/id_rsa', '2025/01/31', 'x / y']) {
      assert.equal(scrubPaths(text), text);
    }
    assert.equal(scrubPaths('EACCES: permission denied, mkdir "/root/x" and /tmp/y'), 'EACCES: permission denied, mkdir "…/x" and …/y');
  });
});
