import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePolicyFile, FilePolicySet, loadPolicyDir } from '../../src/engine/policy/index.js';
import { checkToolCall } from '../../src/mcp/policy-files.js';
import { tempDir } from '../helpers/temp.js';

const none = () => ({ present: false, value: null });
const set = (text: string): FilePolicySet => new FilePolicySet(parsePolicyFile('p.toml', text));
const names = (s: FilePolicySet, tool: string, parameters: Record<string, unknown> = {}): string[] =>
  s.check({ id: 'a', tool, parameters }, none).map((d) => d.policy_name);

describe('policy files (TOML)', () => {
  test('every rule kind, with the upstream rule names', () => {
    const s = set(`
deny_tool = ["deploy"]
deny_keyword = ["rm -rf"]

[[deny_tool_param]]
tool = "http_request"
param = "url"
contains = "internal"

[[deny_tool_param]]
tool = "shell"
param = "sudo"

[[allow_tool_param]]
tool = "git"
param = "branch"
allow = ["main", "dev"]

[[deny_tool_param_matching]]
tool = "sql"
param = "query"
matches = "(?i)drop\\\\s+table"
`);
    assert.deepEqual(names(s, 'deploy'), ['deny_tool:deploy']);
    assert.deepEqual(names(s, 'anything', { cmd: 'sh -c "rm -rf /"' }), ['deny_keyword:rm -rf']);
    assert.deepEqual(names(s, 'http_request', { url: 'https://internal.example' }), ['deny_tool_param:http_request.url']);
    assert.deepEqual(names(s, 'http_request', { url: 'https://example.org' }), []);
    assert.deepEqual(names(s, 'shell', { sudo: false }), ['deny_tool_param:shell.sudo'], 'neither equals nor contains: present is enough');
    assert.deepEqual(names(s, 'git', { branch: 'main' }), []);
    assert.deepEqual(names(s, 'git', { branch: 'prod' }), ['allow_tool_param:git.branch']);
    assert.deepEqual(names(s, 'git', {}), ['allow_tool_param:git.branch'], 'fails closed');
    assert.deepEqual(names(s, 'sql', { query: 'DROP  TABLE users' }), ['deny_tool_param_matching:sql.query'], 'a leading (?i) becomes the i flag');
    assert.deepEqual(names(s, 'sql', { query: 'select 1' }), [], 'and the rule stays a pattern, not a blanket deny');
  });

  test('a valid regex matches unanchored; an invalid one denies the tool', () => {
    const s = set(`[[deny_tool_param_matching]]\ntool = "sql"\nparam = "query"\nmatches = "drop\\\\s+table"\n`);
    assert.deepEqual(names(s, 'sql', { query: 'please drop  table x' }), ['deny_tool_param_matching:sql.query']);
    assert.deepEqual(names(s, 'sql', { query: 'select 1' }), []);
    const bad = set(`[[deny_tool_param_matching]]\ntool = "sql"\nparam = "query"\nmatches = "(["\n`);
    assert.match(bad.check({ id: 'a', tool: 'sql', parameters: {} }, none)[0]!.reason, /not a valid regular expression/);
  });

  test('rate_limit_tool counts admitted calls per checker', () => {
    const s = set(`[[rate_limit_tool]]\ntool = "x"\nmax_calls = 2\ninterval_secs = 3600\n`);
    assert.deepEqual(names(s, 'x'), []);
    assert.deepEqual(names(s, 'x'), []);
    assert.deepEqual(names(s, 'x'), ['rate_limit_tool:x']);
    assert.deepEqual(names(s, 'y'), []);
  });

  test('malformed files are refused, naming the file', () => {
    assert.throws(() => parsePolicyFile('a.toml', 'deny_tool = ['), /policy file 'a.toml' is malformed/);
    assert.throws(() => parsePolicyFile('a.toml', '[[trace_rule]]\nx = 1\n'), /trace_rule\]\] is not supported/);
    assert.throws(() => parsePolicyFile('a.toml', 'deny_everything = true'), /unknown rule 'deny_everything'/);
    assert.throws(() => parsePolicyFile('a.toml', '[[deny_tool_param]]\ntool = "x"\n'), /needs a non-empty string 'param'/);
    assert.throws(() => parsePolicyFile('a.toml', '[[rate_limit_tool]]\ntool = "x"\nmax_calls = 0\ninterval_secs = 1\n'), /max_calls/);
  });
});

describe('one policy reader for WS proposals and MCP policy_check', () => {
  test('the same directory gives the same verdicts, and both honour policyFileMaxBytes', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, '10.toml'), 'deny_tool = ["deploy"]\n[[deny_tool_param_matching]]\ntool = "sql"\nparam = "q"\nmatches = "(?i)drop\\\\s+table"\n[[deny_tool_param]]\ntool = "n"\nparam = "x"\nequals = 5\n');
    const ws = loadPolicyDir(dir, 1024);
    const calls: [string, Record<string, unknown>][] = [['deploy', {}], ['sql', { q: 'DROP TABLE t' }], ['sql', { q: 'select' }], ['n', { x: 5 }], ['n', { x: 6 }]];
    for (const [tool, parameters] of calls) {
      const mcp = checkToolCall([dir], 1024, tool, parameters);
      assert.deepEqual(mcp.findings.map((f) => f.rule), ws.denials({ id: 'a', tool, parameters }).map((d) => d.policy_name), tool);
    }
    assert.deepEqual(checkToolCall([dir], 1024, 'sql', { q: 'drop table t' }).findings.map((f) => f.rule), ['deny_tool_param_matching:sql.q']);
    const small = checkToolCall([dir], 16, 'anything', {});
    assert.deepEqual([small.decision, small.basis], ['deny', 'policy_load_failed']);
    assert.match(small.findings[0]!.reason, /policy file '10\.toml' is malformed: larger than policyFileMaxBytes \(16 bytes\)/);
    assert.throws(() => loadPolicyDir(dir, 16), /larger than policyFileMaxBytes \(16 bytes\)/);
  });
});
