import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { after, describe } from 'node:test';
import { parseProposal, type Action } from '../../src/engine/ir.js';
import { evaluateProposal } from '../../src/engine/permission/evaluate.js';
import { actionFingerprint } from '../../src/engine/permission/fingerprint.js';
import { checkProposalPermissions, permissionDenied, permissionDeniedMessage, rejectedResults } from '../../src/engine/permission/gate.js';
import { ApprovalLedger } from '../../src/engine/permission/ledger.js';
import { removeTempDir, tempDir } from '../helpers/temp.js';

const scratch = tempDir('car-ledger-');
after(() => removeTempDir(scratch));
let n = 0;
const freshPath = (): string => join(scratch, `d${n++}`, 'nested', 'approvals.jsonl');

const FP1 = `fp-${'1'.repeat(64)}`;
const FP2 = `fp-${'2'.repeat(64)}`;

describe('approval ledger', () => {
  test('in memory when the path is null', () => {
    const ledger = new ApprovalLedger(null);
    assert.equal(ledger.get(FP1), undefined);
    const rec = ledger.record({ fingerprint: FP1, decision: 'approved', required_tier: 'full_access', reviewer: 'conn:x' });
    assert.equal(ledger.get(FP1), rec);
    assert.match(rec.recorded_at, /^\d{4}-\d\d-\d\dT/);
    assert.equal(ledger.size, 1);
  });

  test('constructing touches no file; the first use does not create one either', () => {
    const path = freshPath();
    const ledger = new ApprovalLedger(path);
    assert.equal(ledger.get(FP1), undefined);
    assert.throws(() => statSync(path), /ENOENT/);
  });

  test('durable: a new instance on the same file sees every decision; file 0600, dir 0700', () => {
    const path = freshPath();
    const a = new ApprovalLedger(path);
    a.record({ fingerprint: FP1, decision: 'approved', required_tier: 'full_access', reviewer: 'conn:a', reason: 'ok', evidence: { ticket: 7 } });
    a.record({ fingerprint: FP2, decision: 'rejected', required_tier: 'sandbox_edit', reviewer: 'agent:bot' });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(path, '..')).mode & 0o777, 0o700);
    const b = new ApprovalLedger(path);
    assert.deepEqual(b.get(FP1), a.get(FP1));
    assert.equal(b.get(FP1)?.reason, 'ok');
    assert.deepEqual(b.get(FP1)?.evidence, { ticket: 7 });
    assert.equal(b.get(FP2)?.decision, 'rejected');
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    assert.equal(lines.length, 2);
    assert.deepEqual(Object.keys(JSON.parse(lines[1]!)).sort(), ['decision', 'fingerprint', 'recorded_at', 'required_tier', 'reviewer']);
  });

  test('the latest record for a fingerprint wins, in memory and after reload', () => {
    const path = freshPath();
    const a = new ApprovalLedger(path);
    a.record({ fingerprint: FP1, decision: 'approved', required_tier: 'full_access', reviewer: 'conn:a' });
    a.record({ fingerprint: FP1, decision: 'rejected', required_tier: 'full_access', reviewer: 'conn:b' });
    assert.equal(a.get(FP1)?.decision, 'rejected');
    a.record({ fingerprint: FP1, decision: 'approved', required_tier: 'sandbox_edit', reviewer: 'conn:c' });
    const b = new ApprovalLedger(path);
    assert.equal(b.get(FP1)?.decision, 'approved');
    assert.equal(b.get(FP1)?.reviewer, 'conn:c');
    assert.equal(b.size, 1);
  });

  test('a corrupt or partial line is skipped, and the next append starts a fresh line', () => {
    const path = freshPath();
    const a = new ApprovalLedger(path);
    a.record({ fingerprint: FP1, decision: 'approved', required_tier: 'full_access', reviewer: 'conn:a' });
    appendFileSync(path, 'not json at all\n{"fingerprint":"x","decision":"maybe"}\n{"fingerprint":"fp-2222', 'utf8');
    const b = new ApprovalLedger(path);
    assert.equal(b.get(FP1)?.decision, 'approved');
    assert.equal(b.skippedLines, 3);
    b.record({ fingerprint: FP2, decision: 'approved', required_tier: 'sandbox_edit', reviewer: 'conn:b' });
    const c = new ApprovalLedger(path);
    assert.equal(c.get(FP2)?.decision, 'approved', 'the record after the torn line was not glued onto it');
    assert.equal(c.get(FP1)?.decision, 'approved');
    assert.equal(c.skippedLines, 3);
  });

  test('a file of nothing but garbage loads empty', () => {
    const path = freshPath();
    new ApprovalLedger(path).record({ fingerprint: FP1, decision: 'approved', required_tier: 'read_only', reviewer: 'r' });
    writeFileSync(path, '\u0000\u0000garbage', 'utf8');
    assert.equal(new ApprovalLedger(path).size, 0);
  });
});

function proposal(actions: Record<string, unknown>[]): { actions: Action[] } {
  return parseProposal({ actions });
}

const RM = { id: 'rm', type: 'tool_call', tool: 'shell', parameters: { command: 'rm -rf /tmp/x' } };
const WRITE = { id: 'w', type: 'tool_call', tool: 'write_file', parameters: { path: '/tmp/a', content: 'x' } };
const READ = { id: 'r', type: 'tool_call', tool: 'read_file', parameters: { path: '/tmp/a' } };

describe('permission evaluate', () => {
  test('allow within the granted tier; needs_approval above it; full_access always needs approval', () => {
    const ledger = new ApprovalLedger(null);
    const p = proposal([READ, WRITE, RM]);
    const atSandbox = evaluateProposal(p, 'sandbox_edit', ledger).decisions;
    assert.deepEqual(atSandbox.map((d) => [d.action_id, d.decision, d.required, d.granted]), [
      ['r', 'allow', 'read_only', 'sandbox_edit'],
      ['w', 'allow', 'sandbox_edit', 'sandbox_edit'],
      ['rm', 'needs_approval', 'full_access', 'sandbox_edit'],
    ]);
    const atRead = evaluateProposal(p, 'read_only', ledger).decisions;
    assert.deepEqual(atRead.map((d) => d.decision), ['allow', 'needs_approval', 'needs_approval']);
    const atFull = evaluateProposal(p, 'full_access', ledger).decisions;
    assert.equal(atFull[2]?.decision, 'needs_approval', 'even a full_access session needs a human for full_access');
    assert.match(atFull[2]?.reason ?? '', /approval/);
    for (const d of atSandbox) assert.equal(d.fingerprint, actionFingerprint(p.actions.find((a) => a.id === d.action_id)!));
  });

  test('an approval at the required tier allows; a rejection denies whatever the tier', () => {
    const ledger = new ApprovalLedger(null);
    const p = proposal([RM, WRITE]);
    const [rm, w] = evaluateProposal(p, 'sandbox_edit', ledger).decisions;
    ledger.record({ fingerprint: rm!.fingerprint, decision: 'approved', required_tier: 'full_access', reviewer: 'conn:h' });
    ledger.record({ fingerprint: w!.fingerprint, decision: 'rejected', required_tier: 'sandbox_edit', reviewer: 'conn:h', reason: 'no' });
    const after1 = evaluateProposal(p, 'sandbox_edit', ledger).decisions;
    assert.equal(after1[0]?.decision, 'allow');
    assert.match(after1[0]?.reason ?? '', /approved by conn:h/);
    assert.equal(after1[1]?.decision, 'deny');
    assert.match(after1[1]?.reason ?? '', /rejected by conn:h: no/);
    assert.equal(evaluateProposal(p, 'full_access', ledger).decisions[1]?.decision, 'deny');
  });

  test('an approval recorded with an understated required_tier cannot widen access', () => {
    const ledger = new ApprovalLedger(null);
    const p = proposal([RM]);
    const fp = evaluateProposal(p, 'sandbox_edit', ledger).decisions[0]!.fingerprint;
    ledger.record({ fingerprint: fp, decision: 'approved', required_tier: 'sandbox_edit', reviewer: 'conn:h' });
    const d = evaluateProposal(p, 'sandbox_edit', ledger).decisions[0]!;
    assert.equal(d.decision, 'needs_approval');
    assert.match(d.reason ?? '', /covers only sandbox_edit/);
    const pw = proposal([WRITE]);
    const fw = evaluateProposal(pw, 'read_only', ledger).decisions[0]!.fingerprint;
    ledger.record({ fingerprint: fw, decision: 'approved', required_tier: 'read_only', reviewer: 'conn:h' });
    assert.equal(evaluateProposal(pw, 'read_only', ledger).decisions[0]!.decision, 'needs_approval');
    ledger.record({ fingerprint: fw, decision: 'approved', required_tier: 'full_access', reviewer: 'conn:h' });
    assert.equal(evaluateProposal(pw, 'read_only', ledger).decisions[0]!.decision, 'allow', 'overstating is fine');
  });

  test('a ceiling caps the granted tier', () => {
    const ledger = new ApprovalLedger(null);
    const out = evaluateProposal(proposal([WRITE]), 'sandbox_edit', ledger, { ceiling: 'read_only' });
    assert.equal(out.effective, 'read_only');
    assert.equal(out.decisions[0]?.decision, 'needs_approval');
    assert.equal(out.decisions[0]?.granted, 'read_only');
    assert.equal(evaluateProposal(proposal([WRITE]), 'read_only', ledger, { ceiling: 'full_access' }).effective, 'read_only');
  });
});

describe('proposal permission gate', () => {
  test('ok when every action is allowed', () => {
    const check = checkProposalPermissions(proposal([READ, WRITE]), 'sandbox_edit', new ApprovalLedger(null));
    assert.equal(check.ok, true);
    assert.equal(check.decisions.length, 2);
  });

  test('one full_access action blocks the whole proposal; the message names its fingerprint and tiers', () => {
    const p = proposal([READ, RM]);
    const check = checkProposalPermissions(p, 'sandbox_edit', new ApprovalLedger(null));
    assert.equal(check.ok, false);
    if (check.ok) return;
    const fp = actionFingerprint(p.actions[1]!);
    assert.deepEqual(
      check.blocked.map(({ reason: _r, ...b }) => b),
      [{ action_id: 'rm', fingerprint: fp, required: 'full_access', granted: 'sandbox_edit', decision: 'needs_approval' }],
    );
    const message = permissionDeniedMessage(check.blocked);
    assert.equal(
      message,
      `permission denied: action 'rm' (fingerprint ${fp}) requires full_access, session is granted sandbox_edit; approve it with permission.approve`,
    );
    const results = rejectedResults(check);
    assert.deepEqual(results.map((r) => [r.action_id, r.status, r.output, r.duration_ms]), [
      ['r', 'rejected', null, 0],
      ['rm', 'rejected', null, 0],
    ]);
    assert.match(results[0]!.error, /permission gate blocked/);
    const err = permissionDenied(check);
    assert.equal(err.message, message);
    assert.equal(err.results.length, 2);
  });

  test('approved → ok; a rejected fingerprint is named as rejected', () => {
    const ledger = new ApprovalLedger(null);
    const p = proposal([RM]);
    const fp = actionFingerprint(p.actions[0]!);
    ledger.record({ fingerprint: fp, decision: 'approved', required_tier: 'full_access', reviewer: 'conn:h' });
    assert.equal(checkProposalPermissions(p, 'sandbox_edit', ledger).ok, true);
    ledger.record({ fingerprint: fp, decision: 'rejected', required_tier: 'full_access', reviewer: 'conn:h' });
    const check = checkProposalPermissions(p, 'full_access', ledger);
    assert.equal(check.ok, false);
    if (!check.ok) {
      assert.equal(check.blocked[0]?.decision, 'deny');
      assert.match(permissionDeniedMessage(check.blocked), /was rejected$/);
    }
  });
});
