import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { addFileRules, checkFileRules, emptyRules, ruleCount, type FileRules, type RuleFinding } from '../engine/policy/file-rules.js';

export interface PolicySource {
  path: string;
  exists: boolean;
  rules: number;
}

export interface PolicyCheck {
  decision: 'allow' | 'deny';
  basis: 'no_rules_configured' | 'passed_rules' | 'denied_by_rule' | 'policy_load_failed';
  tool: string;
  findings: RuleFinding[];
  rules_loaded: number;
  policy_sources: PolicySource[];
}

/** Read every `*.toml` of `dirs` (each directory's files in name order); a missing directory is fine. */
export async function loadPolicyDirs(dirs: readonly string[]): Promise<{ rules: FileRules; sources: PolicySource[]; error: string | null }> {
  const rules = emptyRules();
  const sources: PolicySource[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith('.toml')).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
        sources.push({ path: dir, exists: false, rules: 0 });
        continue;
      }
      return { rules, sources, error: `${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    }
    const before = ruleCount(rules);
    for (const name of names) {
      try {
        addFileRules(rules, parse(await readFile(join(dir, name), 'utf8')) as Record<string, unknown>);
      } catch (err) {
        sources.push({ path: dir, exists: true, rules: ruleCount(rules) - before });
        return { rules, sources, error: `${name}: ${(err as Error).message.split('\n')[0]}` };
      }
    }
    sources.push({ path: dir, exists: true, rules: ruleCount(rules) - before });
  }
  return { rules, sources, error: null };
}

/** `policy_check`: would the file policies allow this call? Read fresh each time, as the daemon does per session. */
export async function checkToolCall(dirs: readonly string[], tool: string, params: Record<string, unknown>): Promise<PolicyCheck> {
  const { rules, sources, error } = await loadPolicyDirs(dirs);
  const loaded = ruleCount(rules);
  if (error !== null) {
    const findings: RuleFinding[] = [{ source: 'policy_rules', rule: 'policy_load_failed', severity: 'deny', reason: error }];
    return { decision: 'deny', basis: 'policy_load_failed', tool, findings, rules_loaded: loaded, policy_sources: sources };
  }
  if (loaded === 0) return { decision: 'allow', basis: 'no_rules_configured', tool, findings: [], rules_loaded: 0, policy_sources: sources };
  const findings = checkFileRules(rules, tool, params);
  const denied = findings.length > 0;
  return { decision: denied ? 'deny' : 'allow', basis: denied ? 'denied_by_rule' : 'passed_rules', tool, findings, rules_loaded: loaded, policy_sources: sources };
}
