import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { DEFAULT_MAX_ITERATIONS, IterationBudget, OscillationDetector } from '../../src/a2ui/ui-loop.js';

describe('ui_agent_loop guards', () => {
  test('IterationBudget: 20 per surface by default, exactly; surfaces are independent; reset on recreation', () => {
    const budget = new IterationBudget();
    assert.equal(DEFAULT_MAX_ITERATIONS, 20);
    for (let i = 0; i < 20; i++) assert.equal(budget.tryTake('s1'), true, `iteration ${i + 1}`);
    assert.equal(budget.tryTake('s1'), false, 'the 21st is skipped');
    assert.equal(budget.remaining('s1'), 0);
    assert.equal(budget.tryTake('s2'), true, 'another surface has its own budget');
    budget.reset('s1');
    assert.equal(budget.remaining('s1'), 20);
    assert.equal(budget.tryTake('s1'), true);
  });

  test('IterationBudget with_max: the bound is the given one', () => {
    const budget = new IterationBudget(2);
    assert.deepEqual([budget.tryTake('s'), budget.tryTake('s'), budget.tryTake('s')], [true, true, false]);
  });

  test('OscillationDetector: A→B→A is refused and leaves the history untouched; a new state is applied', () => {
    const d = new OscillationDetector();
    assert.equal(d.checkAndRecord('s', 'A'), true);
    assert.equal(d.checkAndRecord('s', 'B'), true);
    assert.equal(d.checkAndRecord('s', 'A'), false, 'A→B→A');
    assert.equal(d.checkAndRecord('s', 'B'), false, 'still recent: the refusal recorded nothing');
    assert.equal(d.checkAndRecord('s', 'C'), true);
    assert.equal(d.checkAndRecord('other', 'A'), true, 'per surface');
    d.reset('s');
    assert.equal(d.checkAndRecord('s', 'A'), true, 'recreated surface starts clean');
  });

  test('OscillationDetector: only the recent window counts; a hash that fell out of it applies again', () => {
    const d = new OscillationDetector(2);
    assert.equal(d.checkAndRecord('s', 'A'), true);
    assert.equal(d.checkAndRecord('s', 'B'), true);
    assert.equal(d.checkAndRecord('s', 'C'), true);
    assert.equal(d.checkAndRecord('s', 'A'), true, 'A left the window of 2');
    assert.equal(d.checkAndRecord('s', 'C'), false);
  });
});
