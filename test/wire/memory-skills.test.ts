import assert from 'node:assert/strict';
import test, { after, before, describe } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.js';

describe('skill.* / skills.* over the wire', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.close();
  });

  test('E3 skills: ingest → list → find → report', async () => {
    const c = await server.authed({ params: { memory_namespace: 'e3-skills' } });
    const index = await c.result('skill.ingest', {
      name: 'add_component',
      code: 'mkdir -p src/components/$Name',
      platform: 'bash',
      persona: 'frontend-engineer',
      url_pattern: 'file://*/components/',
      task_keywords: ['component', 'scaffold', 'new'],
      description: 'Scaffold a new React component with test file',
    });
    assert.equal(index, 0);
    assert.equal((await c.result('skills.list', {})).length, 1);
    const found = await c.result('skill.find', {
      persona: 'frontend-engineer',
      url: 'file:///src/components/Button/',
      task: 'add a new component called Button',
      max_results: 1,
    });
    assert.equal(found.length, 1);
    assert.equal(found[0].name, 'add_component');
    assert.equal(found[0].code, 'mkdir -p src/components/$Name');
    assert.equal(typeof found[0].match_score, 'number');
    assert.equal(found[0].stats.degraded, false);
    assert.equal(await c.result('skill.find', { task: 'bake a cake' }), null);

    const trail = [];
    for (const outcome of ['success', 'success', 'fail', 'success']) trail.push(await c.result('skill.report', { name: 'add_component', outcome }));
    assert.deepEqual(trail.map((s) => [s.success_count, s.fail_count, s.degraded]), [[1, 0, false], [2, 0, false], [2, 1, false], [3, 1, false]]);
    assert.match((await c.error('skill.report', { name: 'ghost', outcome: 'success' })).message, /unknown skill 'ghost'/);
    const reported = await c.result('skill.report', { skill_name: 'add_component', outcome: 'timeout' });
    assert.equal(reported.skill_name, 'add_component');
    assert.deepEqual([reported.success_count, reported.fail_count], [3, 2], 'any outcome other than success counts as a failure');
    assert.equal((await c.error('skill.report', { outcome: 'success' })).code, -32602);
  });

  test('E4 skills: ingest_distilled → list → report → domains_needing_evolution', async () => {
    const c = await server.authed({ params: { memory_namespace: 'e4-skills' } });
    const distilled = [
      {
        name: 'scrape_and_summarize',
        description: 'Fetch a page and summarise it',
        when_to_apply: 'research tasks',
        scope: { domain: 'web' },
        source: 'success',
        domain: 'web',
        trigger: { persona: 'researcher', url_pattern: 'https://*', task_keywords: ['research', 'scrape'] },
        code: 'http_get | summarise',
      },
      {
        name: 'write_concise_summary',
        description: 'Write a short summary',
        when_to_apply: 'summaries',
        scope: { domain: 'text' },
        source: 'success',
        trigger: { persona: 'writer', url_pattern: '', task_keywords: ['summary'] },
        code: 'summarise --short',
      },
    ];
    assert.deepEqual(await c.result('skills.ingest_distilled', { skills: distilled }), { ingested: 2 });
    assert.equal((await c.result('skills.list', {})).length, 2);
    assert.deepEqual((await c.result('skills.list', { domain: 'text' })).map((s: { name: string }) => s.name), ['write_concise_summary']);
    for (let i = 0; i < 4; i++) await c.result('skill.report', { name: 'scrape_and_summarize', outcome: 'success' });
    for (let i = 0; i < 3; i++) await c.result('skill.report', { name: 'scrape_and_summarize', outcome: 'fail' });
    for (let i = 0; i < 2; i++) await c.result('skill.report', { name: 'write_concise_summary', outcome: 'success' });
    assert.deepEqual(await c.result('skills.domains_needing_evolution', { threshold: 0.6 }), ['web']);
    assert.deepEqual(await c.result('skills.domains_needing_evolution', {}), ['web']);
    assert.deepEqual(await c.result('skills.ingest_distilled', [distilled[0]]), { ingested: 1 }, 'a bare array is accepted too');
  });

  test('methods that need a model say so when none is available', async () => {
    const c = await server.authed();
    await c.result('skill.ingest', { name: 'needs_fixing', code: 'x' });
    const params: Record<string, unknown> = {
      'skills.distill': { events: [] },
      'skills.evolve': { events: [], domain: 'web' },
    };
    for (const method of ['skills.distill', 'skills.evolve']) {
      const err = await c.error(method, params[method]);
      assert.equal(err.code, -32603);
      assert.match(err.message, new RegExp(`^${method.replace('.', '\\.')} needs an inference provider`));
      assert.deepEqual(err.data, { kind: 'unavailable', reason: 'inference_unavailable' });
    }
  });

  test('skill.repair is null for a healthy skill, and for a broken one when no model can repair it', async () => {
    const c = await server.authed({ params: { memory_namespace: 'repair-null' } });
    await c.result('skill.ingest', { name: 'needs_fixing', code: 'x' });
    assert.equal(await c.result('skill.repair', { skill_name: 'needs_fixing' }), null);
    for (let i = 0; i < 3; i++) await c.result('skill.report', { skill_name: 'needs_fixing', outcome: 'error' });
    assert.equal((await c.result('skills.list', {}))[0].degraded, true);
    assert.equal(await c.result('skill.repair', { skill_name: 'needs_fixing' }), null);
    assert.match((await c.error('skill.repair', { skill_name: 'ghost' })).message, /unknown skill 'ghost'/);
  });

  test('skills live in the session\'s memory scope', async () => {
    const a = await server.authed({ params: { memory_namespace: 'skills-a' } });
    const b = await server.authed({ params: { memory_namespace: 'skills-b' } });
    await a.result('skill.ingest', { name: 'only_a', code: 'x', task_keywords: ['deploy'] });
    assert.equal(await b.result('skill.find', { task: 'deploy' }), null);
    assert.equal((await a.result('skill.find', { task: 'deploy' })).length, 1);
  });
});
