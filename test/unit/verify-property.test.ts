import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { writesOf } from '../../src/engine/dag.js';
import { parseProposal } from '../../src/engine/ir.js';
import { simulate, SplitMix64, verify } from '../../src/engine/verify/index.js';

/** Random proposals from a seeded generator: dependencies point only backwards unless asked. */
function randomProposal(rng: SplitMix64, size: number, backEdges: boolean, stateDeps = true): unknown {
  const pick = (n: number): number => Math.floor(rng.nextFloat() * n);
  const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
  const actions = [];
  for (let i = 0; i < size; i++) {
    const deps = new Set<string>();
    const wanted = pick(3);
    for (let d = 0; d < wanted && i > 0; d++) deps.add(`n${pick(i)}`);
    if (backEdges && i + 1 < size && rng.nextFloat() < 0.1) deps.add(`n${i + 1 + pick(size - i - 1)}`);
    const kind = pick(3);
    const action: Record<string, unknown> = { id: `n${i}`, dependencies: [...deps] };
    if (kind === 0) {
      Object.assign(action, { type: 'state_write', parameters: { key: keys[pick(keys.length)], value: pick(4) } });
    } else {
      Object.assign(action, { type: 'tool_call', tool: `t${pick(3)}`, parameters: { v: pick(3) } });
      if (rng.nextFloat() < 0.5) action.expected_effects = { [keys[pick(keys.length)] as string]: pick(4) };
      if (stateDeps && rng.nextFloat() < 0.3) action.state_dependencies = [keys[pick(keys.length)]];
      if (rng.nextFloat() < 0.2) action.preconditions = [{ key: keys[pick(keys.length)], operator: 'exists' }];
    }
    actions.push(action);
  }
  return { id: 'rand', actions };
}

describe('verify over seeded random DAG proposals', () => {
  test('execution_levels hold every acyclic action once, after all its dependencies', () => {
    const rng = new SplitMix64(2024);
    let roundsWithCycles = 0;
    for (let round = 0; round < 200; round++) {
      const size = 1 + Math.floor(rng.nextFloat() * 40);
      // Rounds cycle through: back edges; forward edges only; forward edges plus state-derived ones.
      const backEdges = round % 3 === 0;
      const stateDeps = round % 3 !== 1;
      const p = parseProposal(randomProposal(rng, size, backEdges, stateDeps));
      const writers = new Map<string, string[]>();
      for (const a of p.actions) for (const k of writesOf(a)) writers.set(k, [...(writers.get(k) ?? []), a.id]);
      const r = verify(p);
      const levelOf = new Map<string, number>();
      r.execution_levels.forEach((level, i) => {
        for (const id of level) {
          assert.equal(levelOf.has(id), false, `${id} appears once (round ${round})`);
          levelOf.set(id, i);
        }
      });
      const cyclic = new Set(r.issues.filter((i) => /cycle/.test(i.message) && i.severity === 'error').map((i) => i.action_id));
      for (const a of p.actions) {
        if (cyclic.has(a.id)) {
          assert.equal(levelOf.has(a.id), false, `cyclic ${a.id} is in no level`);
          continue;
        }
        const mine = levelOf.get(a.id);
        assert.notEqual(mine, undefined, `acyclic ${a.id} is placed (round ${round})`);
        const stateOrdered = a.state_dependencies.flatMap((k) => writers.get(k) ?? []);
        for (const dep of [...a.dependencies, ...stateOrdered]) {
          if (dep === a.id) continue;
          const theirs = levelOf.get(dep);
          assert.ok(theirs !== undefined && theirs < (mine as number), `${dep} comes before ${a.id} (round ${round})`);
        }
      }
      if (cyclic.size > 0) roundsWithCycles++;
      if (!backEdges && !stateDeps) assert.equal(cyclic.size, 0, 'forward-only dependencies never make a cycle');
      assert.equal(r.valid, !r.issues.some((i) => i.severity === 'error'));
      for (const [x, y] of r.conflicts) {
        assert.notEqual(levelOf.get(x), undefined);
        assert.notEqual(levelOf.get(y), undefined);
      }
    }
    assert.ok(roundsWithCycles > 10 && roundsWithCycles < 190, `cycles in ${roundsWithCycles} of 200 rounds`);
  });

  test('verify and simulate are deterministic and leave the proposal untouched', () => {
    const rng = new SplitMix64(7);
    for (let round = 0; round < 50; round++) {
      const p = parseProposal(randomProposal(rng, 30, round % 2 === 0));
      const before = JSON.stringify(p);
      assert.deepEqual(verify(p), verify(p));
      assert.deepEqual(simulate(p, { a: 1 }), simulate(p, { a: 1 }));
      assert.equal(JSON.stringify(p), before);
    }
  });
});
