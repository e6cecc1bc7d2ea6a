import type { ActionProposal } from '../ir.js';
import { jsonEqual } from '../json-equal.js';
import { simulate } from './simulate.js';
import { VerifyInputError } from './types.js';

export const MAX_TEST_STATES = 256;
const DEFAULT_TEST_STATES: readonly Record<string, unknown>[] = [{}, { x: 1, y: 2 }];

export interface EquivalenceResult {
  equivalent: boolean;
  states_tested: number;
  used_default_states: boolean;
  tier: 'sampled';
}

/**
 * Whether two proposals leave the same state from every probe state. Only as strong as the
 * probes: agreement on them is evidence, not proof.
 */
export function equivalent(
  p1: ActionProposal,
  p2: ActionProposal,
  testStates?: readonly Record<string, unknown>[],
): EquivalenceResult {
  if (testStates && testStates.length > MAX_TEST_STATES) {
    throw new VerifyInputError(`at most ${MAX_TEST_STATES} test states are allowed (got ${testStates.length})`, 'test_states');
  }
  const useDefaults = !testStates || testStates.length === 0;
  const states = useDefaults ? DEFAULT_TEST_STATES : testStates;
  const same = states.every((s) => jsonEqual(simulate(p1, s), simulate(p2, s)));
  return { equivalent: same, states_tested: states.length, used_default_states: useDefaults, tier: 'sampled' };
}
