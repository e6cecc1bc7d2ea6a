import { z } from 'zod';
import { checkToolCall } from './policy-files.js';
import { defineTool, READ_ONLY } from './tool.js';

export const policyCheckTool = defineTool({
  name: 'policy_check',
  title: 'Check a tool call against policy',
  description: 'Would this tool call be allowed by the file policies (policies/*.toml)? Returns the decision, its basis and the findings.',
  input: { tool: z.string().min(1).max(256), params: z.record(z.string(), z.unknown()).optional() },
  output: z.object({
    decision: z.enum(['allow', 'deny']),
    basis: z.enum(['no_rules_configured', 'passed_rules', 'denied_by_rule', 'policy_load_failed']),
    tool: z.string(),
    findings: z.array(z.object({ source: z.string(), rule: z.string(), severity: z.enum(['warn', 'deny']), reason: z.string() })),
    rules_loaded: z.number().int(),
    policy_sources: z.array(z.object({ path: z.string(), exists: z.boolean(), rules: z.number().int() })),
  }),
  hints: READ_ONLY,
  async run(p, { host }) {
    return { ...checkToolCall(host.policyDirs, host.limits.policyFileMaxBytes, p.tool, p.params ?? {}) };
  },
});
