import { isObject } from '../../util/values.js';
import { paramText } from './rules.js';

/**
 * Rules read from policy files (`policies/*.toml`): deny lists, parameter rules and rate limits.
 * Parsing is separate from reading, so the engine never touches the file system.
 */
export interface FileRules {
  denyTools: string[];
  denyKeywords: string[];
  denyToolParams: { tool: string; param: string; equals?: string; contains?: string }[];
  allowToolParams: { tool: string; param: string; allow: string[] }[];
  denyToolParamMatching: { tool: string; param: string; matches: string }[];
  /** Counted per connection at admission; a stateless check reports them loaded, nothing more. */
  rateLimits: { tool: string; max_calls: number; interval_secs: number }[];
}

export interface RuleFinding {
  source: 'policy_rules';
  rule: string;
  severity: 'deny';
  reason: string;
}

export function emptyRules(): FileRules {
  return { denyTools: [], denyKeywords: [], denyToolParams: [], allowToolParams: [], denyToolParamMatching: [], rateLimits: [] };
}

export function ruleCount(r: FileRules): number {
  return (
    r.denyTools.length +
    r.denyKeywords.length +
    r.denyToolParams.length +
    r.allowToolParams.length +
    r.denyToolParamMatching.length +
    r.rateLimits.length
  );
}

/** Add one parsed file's rules to `into`; throws an Error naming the problem when the file is not a valid rule file. */
export function addFileRules(into: FileRules, doc: Record<string, unknown>): void {
  for (const key of Object.keys(doc)) {
    if (key === 'trace_rule') throw new Error('[[trace_rule]] is not supported');
    if (!KNOWN.has(key)) throw new Error(`unknown rule '${key}'`);
  }
  into.denyTools.push(...strings(doc.deny_tool, 'deny_tool'));
  into.denyKeywords.push(...strings(doc.deny_keyword, 'deny_keyword'));
  for (const t of tables(doc.deny_tool_param, 'deny_tool_param')) {
    const rule: FileRules['denyToolParams'][number] = { tool: str(t, 'tool'), param: str(t, 'param') };
    if (t.equals !== undefined) rule.equals = paramText(t.equals);
    if (t.contains !== undefined) rule.contains = str(t, 'contains');
    into.denyToolParams.push(rule);
  }
  for (const t of tables(doc.allow_tool_param, 'allow_tool_param')) {
    into.allowToolParams.push({ tool: str(t, 'tool'), param: str(t, 'param'), allow: strings(t.allow, 'allow_tool_param.allow') });
  }
  for (const t of tables(doc.deny_tool_param_matching, 'deny_tool_param_matching')) {
    into.denyToolParamMatching.push({ tool: str(t, 'tool'), param: str(t, 'param'), matches: str(t, 'matches') });
  }
  for (const t of tables(doc.rate_limit_tool, 'rate_limit_tool')) {
    const max = t.max_calls;
    const interval = t.interval_secs;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) throw new Error('rate_limit_tool.max_calls must be a positive integer');
    if (typeof interval !== 'number' || !(interval > 0)) throw new Error('rate_limit_tool.interval_secs must be a positive number');
    into.rateLimits.push({ tool: str(t, 'tool'), max_calls: max, interval_secs: interval });
  }
}

/** Every rule that denies calling `tool` with `params`, in file order. */
export function checkFileRules(rules: FileRules, tool: string, params: Record<string, unknown>): RuleFinding[] {
  const out: RuleFinding[] = [];
  const deny = (rule: string, reason: string): void => void out.push({ source: 'policy_rules', rule, severity: 'deny', reason });
  if (rules.denyTools.includes(tool)) deny(`deny_tool:${tool}`, `tool '${tool}' is denied`);
  const texts = Object.entries(params).map(([k, v]) => [k, paramText(v)] as const);
  for (const kw of rules.denyKeywords) {
    const hit = texts.find(([, text]) => text.includes(kw));
    if (hit) deny(`deny_keyword:${kw}`, `param '${hit[0]}' contains denied keyword '${kw}'`);
  }
  for (const r of rules.denyToolParams) {
    if (r.tool !== tool || !(r.param in params)) continue;
    const text = paramText(params[r.param]);
    const name = `deny_tool_param:${tool}.${r.param}`;
    if (r.equals !== undefined && text === r.equals) deny(name, `param '${r.param}' equals denied value '${r.equals}'`);
    else if (r.contains !== undefined && text.includes(r.contains)) deny(name, `param '${r.param}' matches denied pattern '${r.contains}'`);
    else if (r.equals === undefined && r.contains === undefined) deny(name, `param '${r.param}' is denied for '${tool}'`);
  }
  for (const r of rules.allowToolParams) {
    if (r.tool !== tool) continue;
    const value = r.param in params ? paramText(params[r.param]) : undefined;
    if (value === undefined || !r.allow.includes(value)) {
      deny(`allow_tool_param:${tool}.${r.param}`, `param '${r.param}' is ${value === undefined ? 'missing' : `'${value}'`}, not one of the allowed values`);
    }
  }
  for (const r of rules.denyToolParamMatching) {
    if (r.tool !== tool) continue;
    const name = `deny_tool_param_matching:${tool}.${r.param}`;
    let re: RegExp;
    try {
      re = compileRegex(r.matches);
    } catch {
      deny(name, `the pattern '${r.matches}' is not a valid regular expression, so '${tool}' is denied`);
      continue;
    }
    if (r.param in params && re.test(paramText(params[r.param]))) deny(name, `param '${r.param}' matches denied pattern '${r.matches}'`);
  }
  return out;
}

/** Rules are written for Rust's regex crate: a leading `(?i)`-style flag group becomes JS flags. */
function compileRegex(pattern: string): RegExp {
  const flags = /^\(\?([ims]+)\)/.exec(pattern);
  return flags ? new RegExp(pattern.slice(flags[0].length), flags[1]) : new RegExp(pattern);
}

const KNOWN = new Set(['deny_tool', 'deny_keyword', 'deny_tool_param', 'allow_tool_param', 'deny_tool_param_matching', 'rate_limit_tool']);

function strings(v: unknown, field: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new Error(`${field} must be an array of strings`);
  return v as string[];
}

function tables(v: unknown, field: string): Record<string, unknown>[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every(isObject)) throw new Error(`${field} must be an array of tables ([[${field}]])`);
  return v;
}

function str(t: Record<string, unknown>, key: string): string {
  const v = t[key];
  if (typeof v !== 'string' || v.length === 0) throw new Error(`'${key}' must be a non-empty string`);
  return v;
}
