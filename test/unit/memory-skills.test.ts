import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { isDegraded, SkillStore, statsOf, urlPatternMatches } from '../../src/memory/skills.js';

const at = (): string => new Date().toISOString();

function e3Store(): SkillStore {
  const s = new SkillStore();
  s.ingest(
    {
      name: 'add_component',
      code: 'mkdir -p src/components/$Name && touch src/components/$Name/index.tsx',
      platform: 'bash',
      persona: 'frontend-engineer',
      url_pattern: 'file://*/components/',
      task_keywords: ['component', 'scaffold', 'new'],
      description: 'Scaffold a new React component with test file',
    },
    at(),
  );
  return s;
}

describe('skills', () => {
  test('E3: find matches persona, URL pattern and task, with a match_score in (0,1]', () => {
    const s = e3Store();
    const found = s.find({ persona: 'frontend-engineer', url: 'file:///src/components/Button/', task: 'add a new component called Button' }, 1);
    assert.equal(found.length, 1);
    assert.equal(found[0]!.skill.name, 'add_component');
    assert.ok(found[0]!.match_score > 0.5 && found[0]!.match_score <= 1, String(found[0]!.match_score));
    assert.deepEqual(s.find({ persona: 'data-scientist', url: 'https://example.com', task: 'train a model' }, 5), []);
    assert.deepEqual(s.find({}, 5), []);
  });

  test('E3: outcomes success, success, fail, success end at 3/1 and not degraded', () => {
    const s = e3Store();
    const trail = ['success', 'success', 'fail', 'success'].map((o) => statsOf(s.report('add_component', o as 'success' | 'fail', at())));
    assert.deepEqual(trail.map((t) => [t.success_count, t.fail_count, t.degraded]), [[1, 0, false], [2, 0, false], [2, 1, false], [3, 1, false]]);
    assert.throws(() => s.report('nope', 'success', at()), /unknown skill 'nope'/);
  });

  test('degraded once failures exceed successes by more than two; still found, ranked lower', () => {
    const s = e3Store();
    s.ingest({ name: 'add_component_v0', code: 'old', persona: 'frontend-engineer', task_keywords: ['component', 'new'], description: 'older scaffold' }, at());
    s.report('add_component', 'success', at());
    for (let i = 0; i < 3; i++) s.report('add_component', 'fail', at());
    assert.equal(isDegraded(s.get('add_component')!), false, '3 fails vs 1 success is not more than two');
    s.report('add_component', 'fail', at());
    assert.equal(isDegraded(s.get('add_component')!), true);
    assert.equal(statsOf(s.get('add_component')!).broken_for_repair, true);
    const found = s.find({ persona: 'frontend-engineer', task: 'new component' }, 5).map((m) => m.skill.name);
    assert.ok(found.includes('add_component'), 'a degraded skill still shows up');
  });

  test('supersedes deprecates the named skill: kept in the list, gone from find', () => {
    const s = e3Store();
    s.ingest({ name: 'add_component_v2', code: 'npx plop component', persona: 'frontend-engineer', task_keywords: ['component', 'new'], supersedes: 'add_component' }, at());
    assert.equal(s.get('add_component')!.deprecated, true);
    assert.equal(s.get('add_component')!.superseded_by, 'add_component_v2');
    assert.deepEqual(s.find({ task: 'new component' }, 5).map((m) => m.skill.name), ['add_component_v2']);
    assert.equal(s.list(undefined).length, 2);
  });

  test('re-ingesting a name updates it and keeps its index and stats', () => {
    const s = e3Store();
    s.report('add_component', 'success', at());
    const again = s.ingest({ name: 'add_component', code: 'new code' }, at());
    assert.equal(again.index, 0);
    assert.equal(again.success_count, 1);
    assert.equal(s.size, 1);
    assert.equal(s.ingest({ name: 'other', code: 'x' }, at()).index, 1);
  });

  test('E4: list filters by domain (plus global); domains under 0.6 need evolution', () => {
    const s = new SkillStore();
    s.ingest({ name: 'scrape_and_summarize', code: '…', domain: 'web' }, at());
    s.ingest({ name: 'write_concise_summary', code: '…', domain: 'text' }, at());
    s.ingest({ name: 'general', code: '…' }, at());
    for (let i = 0; i < 4; i++) s.report('scrape_and_summarize', 'success', at());
    for (let i = 0; i < 3; i++) s.report('scrape_and_summarize', 'fail', at());
    for (let i = 0; i < 2; i++) s.report('write_concise_summary', 'success', at());
    assert.deepEqual(s.list('web').map((k) => k.name), ['scrape_and_summarize', 'general']);
    assert.equal(s.list(undefined).length, 3);
    assert.deepEqual(s.domainsNeedingEvolution(0.6), ['web']);
    assert.deepEqual(s.domainsNeedingEvolution(0.5), []);
    assert.deepEqual(s.domainsNeedingEvolution(1.01), ['text', 'web']);
  });

  test('tenants do not see each other\'s skills', () => {
    const s = new SkillStore();
    s.ingest({ name: 'deploy', code: 'a', tenant_id: 't1', task_keywords: ['deploy'] }, at());
    assert.equal(s.find({ task: 'deploy now' }, 5).length, 0);
    assert.equal(s.find({ task: 'deploy now', tenant_id: 't1' }, 5).length, 1);
    assert.throws(() => s.report('deploy', 'success', at(), 't2'), /unknown skill/);
  });

  test('URL patterns: * is a wildcard, matched from the start, case-insensitively', () => {
    assert.ok(urlPatternMatches('file://*/components/', 'file:///src/components/Button/'));
    assert.ok(urlPatternMatches('https://*.example.com/*', 'https://api.example.com/v1'));
    assert.ok(urlPatternMatches('HTTPS://EXAMPLE.COM', 'https://example.com/path'));
    assert.ok(!urlPatternMatches('https://example.com', 'http://example.com'));
    assert.ok(!urlPatternMatches('a.b', 'axb'), 'dots are literal');
    assert.ok(!urlPatternMatches('', 'anything'));
  });
});
