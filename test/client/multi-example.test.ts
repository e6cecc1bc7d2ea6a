import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { CarClient, type MultiAgentSpec } from '../../src/client/index.js';
import { AUTH_TOKEN, useServer } from '../helpers/server.js';

/** The upstream multi-agent example (node/multi-agent.js, E4) as a client writes it, against an in-process daemon. */
describe('upstream example programs: multi-agent', () => {
  const server = useServer();

  test('E4 multi_agent: a seeded two-stage pipeline, per-stage errors, then the learning loop finds the weak domain', async (t) => {
    const car = await CarClient.connect({ url: server.url, token: AUTH_TOKEN });
    t.after(() => car.close());

    // The example's JS LCG, seed 42.
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1664525 + 1013904223) % 2 ** 32;
      return seed / 2 ** 32;
    };
    car.multi.registerAgentRunner((spec, task) => {
      const base = { name: spec.name, turns: 1, duration_ms: 1.0 };
      if (spec.name === 'web_scraper') {
        if (random() < 0.25) return { ...base, answer: '', tool_calls: 0, error: 'timeout' };
        return { ...base, answer: `scraped data for: ${task}`, tool_calls: 1, error: null };
      }
      if (spec.name === 'summarizer') return { ...base, answer: `summary: ${task.slice(0, 40)}...`, tool_calls: 0, error: null };
      return { ...base, answer: '(no-op)', tool_calls: 0, error: null };
    });
    const stages: MultiAgentSpec[] = [
      { name: 'web_scraper', system_prompt: 'scrape', tools: ['http_get'], max_turns: 3, metadata: { domain: 'web' } },
      { name: 'summarizer', system_prompt: 'summarise', tools: [], max_turns: 1, metadata: { domain: 'text' } },
    ];

    const counts = { success: 0, failure: 0 };
    let scraperFailures = 0;
    for (let i = 0; i < 6; i++) {
      const result = (await car.multi.pipeline(stages, `research topic #${i}`)) as { stages: { name: string; answer: string; error: string | null }[] };
      assert.deepEqual(result.stages.map((s) => s.name), ['web_scraper', 'summarizer'], 'both stages appear every round');
      for (const stage of result.stages) {
        if (stage.error === null) counts.success++;
        else counts.failure++;
      }
      const [scraper, summarizer] = result.stages;
      if (scraper!.error !== null) {
        scraperFailures++;
        assert.equal(scraper!.error, 'timeout');
        assert.equal(summarizer!.answer, `summary: research topic #${i}...`, 'the summarizer gets the task when the scraper failed');
      } else assert.equal(summarizer!.answer, `summary: ${`scraped data for: research topic #${i}`.slice(0, 40)}...`);
    }
    assert.equal(counts.success + counts.failure, 12);
    assert.equal(counts.failure, scraperFailures);
    assert.ok(scraperFailures >= 1 && scraperFailures < 6, `seeded failures (${scraperFailures})`);

    const ingested = await car.memory.ingestDistilledSkills([
      { name: 'scrape_and_summarize', code: 'http_get | summarize', domain: 'web', description: 'scrape a page, then summarise it' },
      { name: 'write_concise_summary', code: 'summarize --short', domain: 'text', description: 'a short summary' },
    ]);
    assert.equal(ingested, 2);
    assert.equal((await car.memory.listSkills()).length, 2);
    for (let i = 0; i < 4; i++) await car.memory.reportOutcome('scrape_and_summarize', 'success');
    for (let i = 0; i < 3; i++) await car.memory.reportOutcome('scrape_and_summarize', 'fail');
    for (let i = 0; i < 2; i++) await car.memory.reportOutcome('write_concise_summary', 'success');
    assert.deepEqual(await car.memory.domainsNeedingEvolution(0.6), ['web']);
  });
});
