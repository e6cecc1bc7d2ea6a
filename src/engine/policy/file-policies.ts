import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import type { StateLookup } from '../preconditions.js';
import { ToolRateLimiter, type RateLimit } from '../rate-limit.js';
import type { PolicyDenial } from './policy-engine.js';
import { paramText, type PolicySubject } from './rules.js';
import { CarError } from '../../util/errors.js';

/**
 * Policies read from `*.toml` files in a directory, merged in file-name order. Rule names follow
 * the upstream: `deny_tool:deploy`, `deny_tool_param:http_request.url`, `rate_limit_tool:x`.
 */
export type FileRule =
  | { name: string; kind: 'deny_tool'; tool: string }
  | { name: string; kind: 'deny_keyword'; keyword: string }
  | { name: string; kind: 'deny_tool_param'; tool: string; param: string; equals?: string; contains?: string }
  | { name: string; kind: 'allow_tool_param'; tool: string; param: string; allow: readonly string[] }
  | { name: string; kind: 'deny_tool_param_matching'; tool: string; param: string; matches: RegExp | null; pattern: string }
  | { name: string; kind: 'rate_limit_tool'; tool: string; limit: RateLimit };

const TABLE_KEYS = new Set(['deny_tool', 'deny_keyword', 'deny_tool_param', 'allow_tool_param', 'deny_tool_param_matching', 'rate_limit_tool']);

/** A policy file the daemon cannot honour: the session's proposals are refused while it stays so. */
export class PolicyFileError extends CarError {
  constructor(message: string) {
    super('unavailable', message);
    this.name = 'PolicyFileError';
  }
}

function invalid(file: string, message: string): PolicyFileError {
  return new PolicyFileError(`policy file '${file}' is malformed: ${message}`);
}

function stringList(file: string, key: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.length === 0)) {
    throw invalid(file, `${key} must be an array of non-empty strings`);
  }
  return v as string[];
}

function tables(file: string, key: string, v: unknown): Record<string, unknown>[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'object' || x === null || Array.isArray(x))) {
    throw invalid(file, `[[${key}]] must be an array of tables`);
  }
  return v as Record<string, unknown>[];
}

function field(file: string, key: string, t: Record<string, unknown>, name: string, optional = false): string | undefined {
  const v = t[name];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw invalid(file, `[[${key}]] needs a non-empty string '${name}'`);
  return v;
}

/** The rules of one file's text; throws a PolicyFileError naming the file for anything it cannot honour. */
export function parsePolicyFile(file: string, text: string): FileRule[] {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    throw invalid(file, err instanceof Error ? err.message.split('\n')[0]! : String(err));
  }
  const rules: FileRule[] = [];
  for (const [key, value] of Object.entries(doc)) {
    if (key === 'trace_rule') throw invalid(file, '[[trace_rule]] is not supported by the daemon');
    if (!TABLE_KEYS.has(key)) throw invalid(file, `unknown rule '${key}'`);
    switch (key) {
      case 'deny_tool':
        for (const tool of stringList(file, key, value)) rules.push({ name: `deny_tool:${tool}`, kind: 'deny_tool', tool });
        break;
      case 'deny_keyword':
        for (const keyword of stringList(file, key, value)) rules.push({ name: `deny_keyword:${keyword}`, kind: 'deny_keyword', keyword });
        break;
      case 'deny_tool_param':
        for (const t of tables(file, key, value)) {
          const tool = field(file, key, t, 'tool') as string;
          const param = field(file, key, t, 'param') as string;
          const rule: FileRule = { name: `deny_tool_param:${tool}.${param}`, kind: 'deny_tool_param', tool, param };
          const equals = typeof t.equals === 'number' || typeof t.equals === 'boolean' ? String(t.equals) : field(file, key, t, 'equals', true);
          const contains = field(file, key, t, 'contains', true);
          if (equals !== undefined) rule.equals = equals;
          if (contains !== undefined) rule.contains = contains;
          rules.push(rule);
        }
        break;
      case 'allow_tool_param':
        for (const t of tables(file, key, value)) {
          const tool = field(file, key, t, 'tool') as string;
          const param = field(file, key, t, 'param') as string;
          const allow = stringList(file, `[[${key}]].allow`, t.allow);
          rules.push({ name: `allow_tool_param:${tool}.${param}`, kind: 'allow_tool_param', tool, param, allow });
        }
        break;
      case 'deny_tool_param_matching':
        for (const t of tables(file, key, value)) {
          const tool = field(file, key, t, 'tool') as string;
          const param = field(file, key, t, 'param') as string;
          const pattern = field(file, key, t, 'matches') as string;
          let matches: RegExp | null;
          try {
            matches = compileRegex(pattern);
          } catch {
            matches = null; // a bad expression denies the tool outright
          }
          rules.push({ name: `deny_tool_param_matching:${tool}.${param}`, kind: 'deny_tool_param_matching', tool, param, matches, pattern });
        }
        break;
      case 'rate_limit_tool':
        for (const t of tables(file, key, value)) {
          const tool = field(file, key, t, 'tool') as string;
          const max = t.max_calls;
          const secs = t.interval_secs;
          if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) throw invalid(file, '[[rate_limit_tool]] max_calls must be a positive integer');
          if (typeof secs !== 'number' || !(secs > 0)) throw invalid(file, '[[rate_limit_tool]] interval_secs must be positive');
          rules.push({ name: `rate_limit_tool:${tool}`, kind: 'rate_limit_tool', tool, limit: { max_calls: max, interval_secs: secs } });
        }
        break;
    }
  }
  return rules;
}

/** Rules are written for Rust's regex crate: a leading `(?i)`-style flag group becomes JS flags. */
function compileRegex(pattern: string): RegExp {
  const flags = /^\(\?([ims]+)\)/.exec(pattern);
  return flags ? new RegExp(pattern.slice(flags[0].length), flags[1]) : new RegExp(pattern);
}

function denial(rule: FileRule, subject: PolicySubject): string | null {
  const params = subject.parameters;
  switch (rule.kind) {
    case 'deny_tool':
      return subject.tool === rule.tool ? `tool '${rule.tool}' is denied` : null;
    case 'deny_keyword': {
      for (const key of Object.keys(params)) {
        if (paramText(params[key]).includes(rule.keyword)) return `param '${key}' contains denied keyword '${rule.keyword}'`;
      }
      return null;
    }
    case 'deny_tool_param': {
      if (subject.tool !== rule.tool || !Object.hasOwn(params, rule.param)) return null;
      const text = paramText(params[rule.param]);
      if (rule.equals === undefined && rule.contains === undefined) return `param '${rule.param}' is denied`;
      if (rule.equals !== undefined && text === rule.equals) return `param '${rule.param}' equals denied value '${rule.equals}'`;
      if (rule.contains !== undefined && text.includes(rule.contains)) return `param '${rule.param}' contains denied '${rule.contains}'`;
      return null;
    }
    case 'allow_tool_param': {
      if (subject.tool !== rule.tool) return null;
      if (!Object.hasOwn(params, rule.param)) return `param '${rule.param}' is missing; allowed values are ${rule.allow.join(', ')}`;
      const text = paramText(params[rule.param]);
      return rule.allow.includes(text) ? null : `param '${rule.param}' value '${text}' is not among the allowed ${rule.allow.join(', ')}`;
    }
    case 'deny_tool_param_matching': {
      if (subject.tool !== rule.tool) return null;
      if (rule.matches === null) return `tool '${rule.tool}' is denied: its pattern '${rule.pattern}' is not a valid regular expression`;
      if (!Object.hasOwn(params, rule.param)) return null;
      return rule.matches.test(paramText(params[rule.param])) ? `param '${rule.param}' matches denied pattern '${rule.pattern}'` : null;
    }
    case 'rate_limit_tool':
      return null;
  }
}

/**
 * The file rules for one connection. `rate_limit_tool` windows count the calls this checker
 * admitted (the ones no other rule denied), per connection.
 */
export class FilePolicySet {
  private readonly limiter = new ToolRateLimiter();

  constructor(readonly rules: readonly FileRule[]) {}

  get size(): number {
    return this.rules.length;
  }

  /** Every rule that denies this call, in file order, without counting it against any rate limit. */
  denials(subject: PolicySubject): PolicyDenial[] {
    let out: PolicyDenial[] | undefined;
    for (const rule of this.rules) {
      const reason = denial(rule, subject);
      if (reason !== null) (out ??= []).push({ policy_name: rule.name, reason });
    }
    return out ?? [];
  }

  check(subject: PolicySubject, _state: StateLookup): PolicyDenial[] {
    const out = this.denials(subject);
    if (out.length > 0 || subject.tool === undefined) return out;
    for (const rule of this.rules) {
      if (rule.kind !== 'rate_limit_tool' || rule.tool !== subject.tool) continue;
      if (!this.limiter.tryAcquire(`${rule.name}`, rule.limit)) {
        return [{ policy_name: rule.name, reason: `at most ${rule.limit.max_calls} calls per ${rule.limit.interval_secs} s` }];
      }
    }
    return [];
  }
}

export const DEFAULT_POLICY_FILE_MAX_BYTES = 1024 * 1024;

/** One directory's rules; `exists` is false when the directory is missing (which means no rules). */
export interface PolicyDirRules {
  exists: boolean;
  rules: FileRule[];
}

/**
 * Read every `*.toml` in `dir`, in file-name order. A missing directory gives no rules; a file
 * larger than `maxBytes`, unreadable or malformed throws a PolicyFileError naming it (by base name).
 */
export function readPolicyDir(dir: string, maxBytes: number): PolicyDirRules {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.toml')).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { exists: false, rules: [] };
    throw new PolicyFileError(`the policy directory cannot be read (${code ?? 'error'})`);
  }
  const rules: FileRule[] = [];
  for (const name of names) {
    const path = join(dir, name);
    let text: string;
    try {
      if (statSync(path).size > maxBytes) throw invalid(name, `larger than policyFileMaxBytes (${maxBytes} bytes)`);
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if (err instanceof PolicyFileError) throw err;
      throw invalid(name, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    rules.push(...parsePolicyFile(name, text));
  }
  return { exists: true, rules };
}

/** The checker for one connection over the rules of `dir` (see readPolicyDir). */
export function loadPolicyDir(dir: string, maxBytes: number): FilePolicySet {
  return new FilePolicySet(readPolicyDir(dir, maxBytes).rules);
}
