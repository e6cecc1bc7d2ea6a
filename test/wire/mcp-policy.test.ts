import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { startServer } from '../helpers/server.js';
import { callTool, startMcp } from '../helpers/mcp.js';
import { tempDir } from '../helpers/temp.js';

test('policy_check reads $CAR_HOME/policies/*.toml in name order: no rules, passed, denied, load failure', async (t) => {
  const carHome = tempDir(t, 'car-mcp-policy-');
  const server = await startServer({ carHome });
  const mcp = await startMcp(server.state);
  t.after(async () => {
    await mcp.close();
    await server.close();
  });
  const client = await mcp.client();
  const dir = join(carHome, 'policies');

  const none = await callTool(client, 'policy_check', { tool: 'shell' });
  assert.deepEqual(none, {
    decision: 'allow',
    basis: 'no_rules_configured',
    tool: 'shell',
    findings: [],
    rules_loaded: 0,
    policy_sources: [{ path: dir, exists: false, rules: 0 }],
  });

  mkdirSync(dir);
  writeFileSync(
    join(dir, '10-base.toml'),
    [
      'deny_tool = ["deploy"]',
      'deny_keyword = ["rm -rf"]',
      '[[deny_tool_param]]',
      'tool = "http_request"',
      'param = "url"',
      'contains = "internal.corp"',
      '[[allow_tool_param]]',
      'tool = "git"',
      'param = "branch"',
      'allow = ["main", "dev"]',
      '[[deny_tool_param_matching]]',
      'tool = "sql"',
      'param = "query"',
      'matches = "(?i)drop\\\\s+table"',
      '[[rate_limit_tool]]',
      'tool = "http_request"',
      'max_calls = 5',
      'interval_secs = 60',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'notes.txt'), 'not a policy file');

  const passed = await callTool(client, 'policy_check', { tool: 'git', params: { branch: 'main' } });
  assert.deepEqual([passed.decision, passed.basis, passed.rules_loaded], ['allow', 'passed_rules', 6]);
  assert.deepEqual(passed.policy_sources, [{ path: dir, exists: true, rules: 6 }]);

  const cases: [string, Record<string, unknown>, string][] = [
    ['deploy', {}, 'deny_tool:deploy'],
    ['shell', { command: 'rm -rf /' }, 'deny_keyword:rm -rf'],
    ['http_request', { url: 'https://internal.corp/x' }, 'deny_tool_param:http_request.url'],
    ['git', { branch: 'feature' }, 'allow_tool_param:git.branch'],
    ['git', {}, 'allow_tool_param:git.branch'],
    ['sql', { query: 'DROP  TABLE users' }, 'deny_tool_param_matching:sql.query'],
  ];
  for (const [tool, params, rule] of cases) {
    const r = await callTool(client, 'policy_check', { tool, params });
    assert.equal(r.decision, 'deny', `${tool} ${JSON.stringify(params)}`);
    assert.equal(r.basis, 'denied_by_rule');
    const findings = r.findings as { source: string; rule: string; severity: string; reason: string }[];
    assert.deepEqual(findings.map((f) => [f.source, f.rule, f.severity]), [['policy_rules', rule, 'deny']]);
    assert.doesNotMatch(findings[0]!.reason, /not a valid regular expression/);
  }
  assert.equal((await callTool(client, 'policy_check', { tool: 'http_request', params: { url: 'https://example.com' } })).decision, 'allow');

  writeFileSync(join(dir, '20-bad.toml'), 'deny_tool = [unterminated');
  const broken = await callTool(client, 'policy_check', { tool: 'anything' });
  assert.deepEqual([broken.decision, broken.basis], ['deny', 'policy_load_failed']);
  assert.match(JSON.stringify(broken.findings), /20-bad\.toml/);

  writeFileSync(join(dir, '20-bad.toml'), '[[trace_rule]]\nname = "x"');
  const refused = await callTool(client, 'policy_check', { tool: 'anything' });
  assert.equal(refused.basis, 'policy_load_failed');
  assert.match(JSON.stringify(refused.findings), /trace_rule/);

  writeFileSync(join(dir, '20-bad.toml'), '[[deny_tool_param_matching]]\ntool = "sql"\nparam = "q"\nmatches = "(unclosed"');
  const badRegex = await callTool(client, 'policy_check', { tool: 'sql', params: {} });
  assert.deepEqual([badRegex.decision, badRegex.basis], ['deny', 'denied_by_rule']);
  assert.match(JSON.stringify(badRegex.findings), /not a valid regular expression/);
});
