import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import test, { describe } from 'node:test';
import { parseProposal } from '../../src/engine/ir.js';
import { filterMatches, severity } from '../../src/engine/supervision/filter.js';
import { buildIntent, parametersDigest, type SupervisionIntent } from '../../src/engine/supervision/intent.js';
import { Supervisor, SupervisionError } from '../../src/engine/supervision/supervisor.js';

const proposal = (actions: unknown[], id = 'p-1') => parseProposal({ id, source: 'unit', actions });
const secretAction = { id: 'a', type: 'tool_call', tool: 'shell', parameters: { command: 'echo secret-value', cwd: '/tmp' } };

function collector() {
  const seen: SupervisionIntent[] = [];
  return { seen, handle: (filter = {}) => ({ filter, deliver: (i: SupervisionIntent) => seen.push(i) }) };
}

describe('supervision intents', () => {
  test('carry parameter keys and a sha256 digest of the canonical JSON, never the values', () => {
    const intent = buildIntent('i-1', proposal([secretAction]), { sessionId: 's-1', scope: { tenantId: 't' } });
    assert.equal(intent.proposal_id, 'p-1');
    assert.equal(intent.source, 'unit');
    assert.equal(intent.session_id, 's-1');
    assert.deepEqual(intent.scope, { tenantId: 't' });
    assert.equal(intent.reversibility, 'irreversible');
    const [a] = intent.actions;
    assert.deepEqual(a!.parameter_keys, ['command', 'cwd']);
    const expected = createHash('sha256').update('{"command":"echo secret-value","cwd":"/tmp"}').digest('hex');
    assert.equal(a!.parameters_digest, expected);
    assert.equal(parametersDigest({ cwd: '/tmp', command: 'echo secret-value' }), expected, 'key order does not matter');
    assert.ok(!JSON.stringify(intent).includes('secret-value'));
  });
});

describe('supervision filters', () => {
  const intentOf = (actions: unknown[], sessionId?: string) =>
    buildIntent('i', proposal(actions), sessionId === undefined ? {} : { sessionId });
  const rev = (reversibility: string) => intentOf([{ type: 'state_write', parameters: { key: 'k', value: 1 }, reversibility }]);

  test('an empty filter matches everything, including an empty proposal', () => {
    assert.ok(filterMatches({}, intentOf([])));
    assert.ok(filterMatches({}, rev('reversible')));
  });

  test('63: min_reversibility compensable matches irreversible and compensable but not reversible', () => {
    const f = { min_reversibility: 'compensable' };
    assert.ok(filterMatches(f, rev('irreversible')));
    assert.ok(filterMatches(f, rev('compensable')));
    assert.ok(!filterMatches(f, rev('reversible')));
  });

  test('an unknown min_reversibility label counts as the most severe', () => {
    assert.equal(severity('catastrophic'), severity('irreversible'));
    assert.ok(filterMatches({ min_reversibility: 'catastrophic' }, rev('irreversible')));
    assert.ok(!filterMatches({ min_reversibility: 'catastrophic' }, rev('compensable')));
  });

  test('tools and sessions narrow the match', () => {
    const i = intentOf([secretAction], 's-1');
    assert.ok(filterMatches({ tools: ['shell'] }, i));
    assert.ok(!filterMatches({ tools: ['echo'] }, i));
    assert.ok(filterMatches({ sessions: ['s-1'] }, i));
    assert.ok(!filterMatches({ sessions: ['s-2'] }, i));
    assert.ok(!filterMatches({ sessions: ['s-1'] }, intentOf([secretAction])));
    assert.ok(!filterMatches({ tools: ['shell'], sessions: ['s-2'] }, i), 'every given field must match');
  });
});

describe('Supervisor', () => {
  test('with no supervisors review returns null at once (no intent, no timer)', () => {
    const s = new Supervisor(50);
    assert.equal(s.review(proposal([secretAction]), {}), null);
    assert.deepEqual(s.pending(), []);
  });

  test('a proposal no filter matches is not held', () => {
    const s = new Supervisor(50);
    const c = collector();
    s.subscribe('sup', c.handle({ tools: ['other'] }));
    assert.equal(s.review(proposal([secretAction]), {}), null);
    assert.equal(c.seen.length, 0);
  });

  test('allow, deny and escalate settle the wait; the intent leaves pending', async () => {
    const s = new Supervisor(5000);
    const c = collector();
    assert.equal(s.subscribe('sup', c.handle()), 1);
    assert.equal(s.subscribe('sup', c.handle()), 1, 'subscribing again replaces');
    for (const kind of ['allow', 'deny', 'escalate'] as const) {
      const wait = s.review(proposal([secretAction]), {})!;
      const intent = c.seen.at(-1)!;
      assert.deepEqual(s.pending().map((i) => i.id), [intent.id]);
      s.decide(intent.id, { kind, reason: 'because' });
      const verdict = await wait;
      assert.equal(verdict.outcome, kind);
      assert.deepEqual(s.pending(), []);
      assert.throws(() => s.decide(intent.id, { kind: 'allow' }), (e: unknown) => e instanceof SupervisionError && e.code === 'decided');
    }
  });

  test('deny and escalate without a reason are refused and the intent stays pending', async () => {
    const s = new Supervisor(5000);
    const c = collector();
    s.subscribe('sup', c.handle());
    const wait = s.review(proposal([secretAction]), {})!;
    const id = c.seen[0]!.id;
    for (const kind of ['deny', 'escalate'] as const) {
      assert.throws(() => s.decide(id, { kind }), (e: unknown) => e instanceof SupervisionError && e.code === 'reason_required');
      assert.throws(() => s.decide(id, { kind, reason: '  ' }), (e: unknown) => e instanceof SupervisionError && e.code === 'reason_required');
    }
    assert.equal(s.pending().length, 1);
    assert.throws(() => s.decide('nope', { kind: 'allow' }), (e: unknown) => e instanceof SupervisionError && e.code === 'unknown');
    s.decide(id, { kind: 'allow' });
    assert.equal((await wait).outcome, 'allow');
  });

  test('no decision in time → timeout, even after every supervisor left; later decide says timed out', async () => {
    const s = new Supervisor(40);
    const c = collector();
    s.subscribe('sup', c.handle());
    const wait = s.review(proposal([secretAction]), {})!;
    assert.equal(s.unsubscribe('sup'), true);
    assert.equal(s.unsubscribe('sup'), false);
    assert.equal(s.pending().length, 1, 'leaving does not release the intent');
    const verdict = await wait;
    assert.equal(verdict.outcome, 'timeout');
    assert.throws(() => s.decide(c.seen[0]!.id, { kind: 'allow' }), (e: unknown) => e instanceof SupervisionError && e.code === 'timed_out');
  });

  test('aborting the submitter drops the intent', async () => {
    const s = new Supervisor(5000);
    const c = collector();
    s.subscribe('sup', c.handle());
    const ac = new AbortController();
    const wait = s.review(proposal([secretAction]), {}, ac.signal)!;
    ac.abort(new Error('gone'));
    await assert.rejects(wait, /gone/);
    assert.deepEqual(s.pending(), []);
  });

  test('only matching supervisors receive the intent; pending lists oldest first', async () => {
    const s = new Supervisor(5000);
    const shell = collector();
    const all = collector();
    s.subscribe('a', shell.handle({ tools: ['shell'] }));
    s.subscribe('b', all.handle());
    const w1 = s.review(proposal([{ type: 'state_write', parameters: { key: 'k', value: 1 } }], 'p-1'), {})!;
    const w2 = s.review(proposal([secretAction], 'p-2'), {})!;
    assert.deepEqual(shell.seen.map((i) => i.proposal_id), ['p-2']);
    assert.deepEqual(all.seen.map((i) => i.proposal_id), ['p-1', 'p-2']);
    assert.deepEqual(s.pending().map((i) => i.proposal_id), ['p-1', 'p-2']);
    for (const i of s.pending()) s.decide(i.id, { kind: 'allow' });
    await Promise.all([w1, w2]);
  });
});
