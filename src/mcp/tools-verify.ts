import { z } from 'zod';
import { parseProposal } from '../engine/ir.js';
import { equivalent, MAX_TEST_STATES, optimize, simulate, verify } from '../engine/verify/index.js';
import { defineTool, READ_ONLY, type McpTool } from './tool.js';

const proposal = z.object({}).loose().describe('An ActionProposal: {actions: [{id, type, tool?, parameters, ...}], ...}');
const state = z.record(z.string(), z.unknown());

export const verifyTool = defineTool({
  name: 'verify',
  title: 'Verify a proposal',
  description: 'Statically check a proposal without running any tool: issues, execution levels, write conflicts, simulated state.',
  input: { proposal, max_actions: z.number().int().min(1).max(1000).optional().describe('Most actions accepted (1-1000)') },
  output: z
    .object({
      valid: z.boolean(),
      issues: z.array(z.object({}).loose()),
      simulated_state: state,
      execution_levels: z.array(z.array(z.string())),
      conflicts: z.array(z.unknown()),
    })
    .loose(),
  hints: READ_ONLY,
  run(p, { host }) {
    const maxActions = Math.min(p.max_actions ?? host.limits.maxVerifyActions, host.limits.maxVerifyActions);
    return verify(parseProposal(p.proposal), { maxActions }) as unknown as Record<string, unknown>;
  },
});

export const simulateTool = defineTool({
  name: 'simulate',
  title: 'Simulate a proposal',
  description: "Apply a proposal's declared state effects to a starting state, without running any tool; returns the final state.",
  input: { proposal, initial_state: state.optional() },
  output: z.object({ final_state: state }),
  hints: READ_ONLY,
  run(p) {
    return { final_state: simulate(parseProposal(p.proposal), p.initial_state) };
  },
});

export const equivalentTool = defineTool({
  name: 'equivalent',
  title: 'Compare two proposals',
  description: 'Whether two proposals leave the same state from every probe state (sampled evidence, not proof).',
  input: {
    proposal_a: proposal,
    proposal_b: proposal,
    test_states: z.array(state).min(1).max(MAX_TEST_STATES).optional().describe(`Probe states (1-${MAX_TEST_STATES})`),
  },
  output: z.object({ equivalent: z.boolean(), states_tested: z.number().int(), used_default_states: z.boolean(), tier: z.string() }),
  hints: READ_ONLY,
  run(p) {
    return { ...equivalent(parseProposal(p.proposal_a), parseProposal(p.proposal_b), p.test_states) };
  },
});

export const optimizeTool = defineTool({
  name: 'optimize',
  title: 'Optimize a proposal',
  description: 'Drop state dependencies on keys no action writes; returns the rewritten proposal and what was pruned per action.',
  input: { proposal },
  output: z.object({ proposal: z.object({}).loose(), pruned: z.record(z.string(), z.array(z.string())) }),
  hints: READ_ONLY,
  run(p) {
    return { ...optimize(parseProposal(p.proposal)) } as unknown as Record<string, unknown>;
  },
});

export const verifyTools: McpTool[] = [verifyTool, simulateTool, equivalentTool, optimizeTool];
