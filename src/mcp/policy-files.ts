import { FilePolicySet, PolicyFileError, readPolicyDir, type FileRule } from '../engine/policy/file-policies.js';

export interface PolicySource {
  path: string;
  exists: boolean;
  rules: number;
}

export interface RuleFinding {
  source: 'policy_rules';
  rule: string;
  severity: 'deny';
  reason: string;
}

export interface PolicyCheck {
  decision: 'allow' | 'deny';
  basis: 'no_rules_configured' | 'passed_rules' | 'denied_by_rule' | 'policy_load_failed';
  tool: string;
  findings: RuleFinding[];
  rules_loaded: number;
  policy_sources: PolicySource[];
}

/** Every directory's rules, in order, read with the same reader WS sessions use for their proposals. */
function loadPolicyDirs(dirs: readonly string[], maxBytes: number): { rules: FileRule[]; sources: PolicySource[]; error: string | null } {
  const rules: FileRule[] = [];
  const sources: PolicySource[] = [];
  for (const dir of dirs) {
    try {
      const read = readPolicyDir(dir, maxBytes);
      sources.push({ path: dir, exists: read.exists, rules: read.rules.length });
      rules.push(...read.rules);
    } catch (err) {
      if (!(err instanceof PolicyFileError)) throw err;
      sources.push({ path: dir, exists: true, rules: 0 });
      return { rules, sources, error: err.message };
    }
  }
  return { rules, sources, error: null };
}

/**
 * `policy_check`: would the file policies allow this call? Read fresh each time, as a new WS
 * session would; rate limits are reported loaded but not counted, since nothing is admitted.
 */
export function checkToolCall(dirs: readonly string[], maxBytes: number, tool: string, params: Record<string, unknown>): PolicyCheck {
  const { rules, sources, error } = loadPolicyDirs(dirs, maxBytes);
  if (error !== null) {
    const findings: RuleFinding[] = [{ source: 'policy_rules', rule: 'policy_load_failed', severity: 'deny', reason: error }];
    return { decision: 'deny', basis: 'policy_load_failed', tool, findings, rules_loaded: rules.length, policy_sources: sources };
  }
  if (rules.length === 0) return { decision: 'allow', basis: 'no_rules_configured', tool, findings: [], rules_loaded: 0, policy_sources: sources };
  const findings: RuleFinding[] = new FilePolicySet(rules)
    .denials({ id: 'policy_check', tool, parameters: params })
    .map((d) => ({ source: 'policy_rules', rule: d.policy_name, severity: 'deny', reason: d.reason }));
  const denied = findings.length > 0;
  return { decision: denied ? 'deny' : 'allow', basis: denied ? 'denied_by_rule' : 'passed_rules', tool, findings, rules_loaded: rules.length, policy_sources: sources };
}
