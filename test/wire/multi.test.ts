import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CarClient } from '../../src/client/index.js';
import { AimockServer } from '../helpers/aimock.js';
import { modelsFile, openaiRow } from '../helpers/inference.js';
import { AUTH_TOKEN, startServer, type TestServer } from '../helpers/server.js';

type Spec = { name: string; system_prompt: string; tools: string[]; max_turns: number; metadata: Record<string, unknown>; [k: string]: unknown };
const agent = (name: string, extra: Partial<Spec> = {}): Spec => ({ name, system_prompt: `you are ${name}`, tools: [], max_turns: 1, metadata: { domain: 'test' }, ...extra });

interface Call {
  spec: Spec;
  task: string;
}

/** A caller that serves multi.run_agent with `answer`, recording every call. */
async function caller(server: TestServer, answer: (c: Call) => unknown | Promise<unknown>): Promise<{ client: CarClient; calls: Call[] }> {
  const client = await CarClient.connect({ url: server.url, token: AUTH_TOKEN });
  const calls: Call[] = [];
  client.onRequest('multi.run_agent', async (params) => {
    const c = params as Call;
    calls.push(c);
    return answer(c);
  });
  return { client, calls };
}

const out = (name: string, answer: string, extra: Record<string, unknown> = {}) => ({ name, answer, turns: 1, tool_calls: 0, duration_ms: 1, error: null, ...extra });

describe('multi.* patterns through the caller\'s multi.run_agent', () => {
  let server: TestServer;
  const clients: CarClient[] = [];
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  });
  async function use(answer: (c: Call) => unknown | Promise<unknown>) {
    const c = await caller(server, answer);
    clients.push(c.client);
    return c;
  }

  test('swarm parallel: every agent runs at once (a barrier only all of them can pass), specs reach the caller unchanged', async () => {
    const n = 8;
    let arrived = 0;
    let release!: () => void;
    const barrier = new Promise<void>((r) => (release = r));
    const { client, calls } = await use(async (c) => {
      if (++arrived === n) release();
      await barrier;
      return out(c.spec.name, `answer of ${c.spec.name}`);
    });
    const specs = Array.from({ length: n }, (_, i) => agent(`p${i}`, { role: 'researcher', model: 'm-1', cache_control: { type: 'ephemeral' } }));
    const r = await client.call<any>('multi.swarm', { mode: 'parallel', agents: specs, task: 'T' });
    assert.equal(r.mode, 'parallel');
    assert.deepEqual(r.outputs.map((o: any) => o.answer), specs.map((s) => `answer of ${s.name}`));
    assert.deepEqual(calls.map((c) => c.spec).sort((a, b) => a.name.localeCompare(b.name)), specs, 'AgentSpec unchanged, extra fields included');
    assert.ok(calls.every((c) => c.task === 'T'));
    assert.match(r.final_answer, /\[p0\]\nanswer of p0/);
  });

  test('swarm sequential sees the answers so far; hybrid revises after reading the others; a synthesizer merges', async () => {
    const { client, calls } = await use((c) => out(c.spec.name, c.spec.name === 'syn' ? 'merged' : `${c.spec.name}:${c.task.length}`));
    const seq = await client.call<any>('multi.swarm', { mode: 'sequential', agents: [agent('a'), agent('b'), agent('c')], task: 'T', synthesizer: agent('syn') });
    assert.deepEqual(calls.slice(0, 3).map((c) => c.spec.name), ['a', 'b', 'c']);
    assert.equal(calls[0]!.task, 'T');
    assert.match(calls[1]!.task, /\[a\]\na:1/);
    assert.match(calls[2]!.task, /\[b\]/);
    assert.equal(seq.final_answer, 'merged');
    assert.match(calls[3]!.task, /Answers to combine/);
    calls.length = 0;
    const hybrid = await client.call<any>('multi.swarm', { mode: 'hybrid', agents: [agent('x'), agent('y')], task: 'T' });
    assert.equal(calls.length, 4, 'a parallel round, then one revision each');
    assert.match(calls[2]!.task, /Your first answer/);
    assert.equal(hybrid.outputs.length, 2);
  });

  test('pipeline: each stage gets the previous answer; a failed stage is reported and its input passed on', async () => {
    const { client, calls } = await use((c) => (c.spec.name === 'broken' ? out('broken', '', { error: 'timeout' }) : { name: c.spec.name, response: `${c.spec.name}(${c.task})`, tool_calls: [{}, {}] }));
    const r = await client.call<any>('multi.pipeline', { stages: [agent('scrape'), agent('broken'), agent('sum')], task: 'topic' });
    assert.deepEqual(calls.map((c) => c.task), ['topic', 'scrape(topic)', 'scrape(topic)']);
    assert.deepEqual(r.stages.map((s: any) => [s.name, s.error]), [['scrape', null], ['broken', 'timeout'], ['sum', null]]);
    assert.equal(r.stages[0].tool_calls, 2, 'an array of tool calls is counted; response is an alias of answer');
    assert.equal(r.final_answer, 'sum(scrape(topic))');
  });

  test('supervisor: rounds until the reviewer says DONE; max_rounds bounds it', async () => {
    let reviews = 0;
    const { client } = await use((c) => (c.spec.name === 'boss' ? out('boss', ++reviews < 2 ? 'dig deeper' : 'DONE: the answer is 42') : out(c.spec.name, `${c.spec.name} on ${c.task}`)));
    const r = await client.call<any>('multi.supervisor', { workers: [agent('w1'), agent('w2')], supervisor: agent('boss'), task: 'Q' });
    assert.equal(r.rounds.length, 2);
    assert.equal(r.rounds[1].instruction, 'dig deeper');
    assert.equal(r.final_answer, 'the answer is 42');
    reviews = -100;
    const capped = await client.call<any>('multi.supervisor', { workers: [agent('w1')], supervisor: agent('boss'), task: 'Q', max_rounds: 2 });
    assert.equal(capped.rounds.length, 2);
  });

  test('map_reduce: the mapper per item in parallel, the reducer over all of them', async () => {
    const { client, calls } = await use((c) => out(c.spec.name, c.spec.name === 'reduce' ? 'reduced' : c.task.split('Item:\n')[1]!.toUpperCase()));
    const r = await client.call<any>('multi.map_reduce', { mapper: agent('map'), reducer: agent('reduce'), items: ['a', 'b', { k: 1 }], task: 'upper' });
    assert.deepEqual(r.map_outputs.map((o: any) => o.answer), ['A', 'B', '{"K":1}']);
    assert.equal(r.final_answer, 'reduced');
    assert.match(calls.at(-1)!.task, /\[map\]\nA/);
  });

  test('vote: the most common answer wins', async () => {
    const answers: Record<string, string> = { v1: 'Paris', v2: 'paris.', v3: 'Lyon' };
    const { client } = await use((c) => out(c.spec.name, answers[c.spec.name]!));
    const r = await client.call<any>('multi.vote', { agents: [agent('v1'), agent('v2'), agent('v3')], task: 'capital?' });
    assert.equal(r.winner, 'Paris');
    assert.deepEqual(r.votes, { Paris: 2, Lyon: 1 });
  });

  test('tournament: single elimination with byes, a fresh judge per match, ranking best to worst', async () => {
    const strength: Record<string, number> = { c1: 1, c2: 5, c3: 3, c4: 2, c5: 4 };
    const { client, calls } = await use((c) => {
      if (c.spec.name !== 'judge') return out(c.spec.name, `answer ${strength[c.spec.name]}`);
      const [, a, b] = /Competitor A \((\w+)\)[\s\S]*Competitor B \((\w+)\)/.exec(c.task)!;
      const pick = strength[a!]! >= strength[b!]! ? 'A' : 'B';
      return out('judge', pick);
    });
    const r = await client.call<any>('multi.tournament', { competitors: ['c1', 'c2', 'c3', 'c4', 'c5'].map((n) => agent(n)), judge: agent('judge'), task: 'best?' });
    assert.deepEqual(Object.keys(r).sort(), ['budget_used', 'candidates', 'matches', 'ranking', 'task', 'winner_answer', 'winner_name']);
    assert.equal(r.winner_name, 'c2');
    assert.equal(r.winner_answer, 'answer 5');
    assert.equal(r.matches.length, 4, 'five competitors, four matches');
    assert.equal(calls.filter((c) => c.spec.name === 'judge').length, 4, 'a judge run per match');
    assert.deepEqual(r.matches[0], { round: 1, a: 'c1', b: 'c2', winner: 'c2', judge_answer: 'B' });
    assert.equal(r.ranking[0], 'c2');
    assert.equal(r.ranking.length, 5);
    assert.equal(r.ranking.at(-1), r.matches.find((m: any) => m.round === 1 && m.winner !== 'c2' && [m.a, m.b].includes('c1')) ? 'c1' : r.ranking.at(-1));
  });

  test('tournament: the judge naming a competitor wins over A/B', async () => {
    const { client } = await use((c) => out(c.spec.name, c.spec.name === 'judge' ? 'I prefer beta' : c.spec.name));
    const r = await client.call<any>('multi.tournament', { competitors: [agent('alpha'), agent('beta')], judge: agent('judge'), task: 't' });
    assert.equal(r.winner_name, 'beta');
    assert.deepEqual(r.ranking, ['beta', 'alpha']);
  });

  test('subtask: granted tools are a subset of main.tools; the main agent writes the final answer', async () => {
    const { client, calls } = await use((c) => {
      if (c.spec.name === 'main' && c.task.includes('spawn_subtask')) {
        return out('main', JSON.stringify({ subtasks: [{ task: 'read the file', tools: ['read_file', 'rm_rf'] }, { task: 'count words' }] }));
      }
      if (c.spec.name === 'main') return out('main', `final from: ${c.task.includes('read the file') ? 'subtasks' : '?'}`);
      return out(c.spec.name, `did ${c.task} with [${c.spec.tools.join(',')}]`);
    });
    const r = await client.call<any>('multi.subtask', { main: agent('main', { tools: ['read_file', 'grep'] }), task: 'summarise' });
    assert.deepEqual(Object.keys(r).sort(), ['budget_used', 'final_answer', 'plan', 'subtasks', 'task']);
    assert.equal(r.final_answer, 'final from: subtasks');
    assert.deepEqual(r.subtasks[0].tools, ['read_file']);
    assert.deepEqual(r.subtasks[0].denied_tools, ['rm_rf']);
    assert.deepEqual(r.subtasks[1].tools, []);
    assert.ok(calls.filter((c) => c.spec.name !== 'main').every((c) => c.spec.tools.every((t) => ['read_file', 'grep'].includes(t))));
  });

  test('budget: once max_agents is reached no agent starts (refused ones are outputs with error); a refused synthesizer falls back', async () => {
    const { client, calls } = await use((c) => out(c.spec.name, `a-${c.spec.name}`, { usage: { input_tokens: 10, output_tokens: 5 } }));
    const r = await client.call<any>('multi.swarm', { mode: 'sequential', agents: [agent('s1'), agent('s2'), agent('s3')], task: 'T', synthesizer: agent('syn'), budget: { max_agents: 2 } });
    assert.deepEqual(r.outputs.map((o: any) => o.error === null), [true, true, false]);
    assert.match(r.outputs[2].error, /budget exhausted: max_agents \(2\)/);
    assert.equal(r.synthesizer_fallback, true);
    assert.match(r.final_answer, /a-s1/);
    assert.equal(calls.length, 2);
    assert.deepEqual(r.budget_used, { agents: 2, input_tokens: 20, output_tokens: 10, cost_usd: 0 });
    calls.length = 0;
    const tokens = await client.call<any>('multi.pipeline', { stages: [agent('t1'), agent('t2'), agent('t3')], task: 'T', budget: { max_total_tokens: 15 } });
    assert.deepEqual(tokens.stages.map((s: any) => s.error === null), [true, false, false], 'the first run used 15 tokens: nothing more starts');
    const metered = await client.call<any>('events.query', { kinds: ['InferenceMetered'] });
    assert.ok(metered.events.some((e: any) => e.data.provider === 'multi.run_agent' && e.data.tokens_in === 10), 'reported usage is metered');
  });

  test('every agent run is registered with the host: running, then completed or errored', async () => {
    const host = await server.connect();
    await host.result('session.auth', { host_token: 'host' });
    await host.result('server.handshake', { protocol_version: 2 });
    await host.result('host.subscribe', {});
    const { client } = await use((c) => (c.spec.name === 'bad' ? out('bad', '', { error: 'boom' }) : out(c.spec.name, 'fine')));
    await client.call('multi.swarm', { mode: 'parallel', agents: [agent('good'), agent('bad')], task: 'T' });
    const statuses = new Map<string, string[]>();
    while (![...statuses.values()].filter((s) => s.includes('completed') || s.includes('errored')).length || statuses.size < 2 || [...statuses.values()].some((s) => !s.includes('completed') && !s.includes('errored'))) {
      const f = await host.next();
      if (f.method !== 'host.event' || f.params.kind !== 'agent.status_changed') continue;
      const name = f.params.agent_id as string;
      statuses.set(name, [...(statuses.get(name) ?? []), f.params.payload.status]);
    }
    const lists = [...statuses.values()].map((s) => s.join('>')).sort();
    assert.deepEqual(lists, ['running>completed', 'running>errored']);
  });

  test('a caller error or a failed callback is that agent\'s error, not the call\'s', async () => {
    const { client } = await use((c) => {
      if (c.spec.name === 'thrower') throw new Error('runner crashed');
      return out(c.spec.name, 'ok');
    });
    const r = await client.call<any>('multi.vote', { agents: [agent('thrower'), agent('fine')], task: 'T' });
    assert.match(r.outputs[0].error, /runner crashed/);
    assert.equal(r.winner, 'ok');
  });
});

describe('multi.* on the daemon\'s own inference when the caller does not serve multi.run_agent', () => {
  let server: TestServer;
  let mock: AimockServer;
  let models: ReturnType<typeof modelsFile>;
  before(async () => {
    mock = await AimockServer.start([
      { match: { userMessage: 'look it up', hasToolResult: true }, response: { content: 'found it: 42' } },
      { match: { userMessage: 'look it up' }, response: { toolCalls: [{ name: 'lookup', arguments: { q: 'answer' } }] } },
      { match: { userMessage: 'say hi' }, response: { content: 'hi there', usage: { prompt_tokens: 7, completion_tokens: 3 } } },
    ]);
    models = modelsFile([openaiRow('local', mock.v1)]);
    server = await startServer({ modelsPath: models.path });
  });
  after(async () => {
    await server.close();
    await mock.stop();
    models.cleanup();
  });

  test('the AgentSpec runs as a tool-using loop over the caller\'s registered tools, metered', async () => {
    const client = await CarClient.connect({ url: server.url, token: AUTH_TOKEN });
    const seen: unknown[] = [];
    client.serveTools({ lookup: (args) => (seen.push(args), { value: 42 }) });
    await client.tools.register([{ name: 'lookup', description: 'look something up', parameters: { type: 'object', properties: { q: { type: 'string' } } } }]);
    const r = await client.call<any>('multi.pipeline', { stages: [agent('finder', { tools: ['lookup'], max_turns: 3 })], task: 'look it up' });
    assert.equal(r.stages[0].answer, 'found it: 42');
    assert.equal(r.stages[0].tool_calls, 1);
    assert.equal(r.stages[0].turns, 2);
    assert.deepEqual(seen, [{ q: 'answer' }]);
    const plain = await client.call<any>('multi.swarm', { mode: 'parallel', agents: [agent('greeter')], task: 'say hi' });
    assert.equal(plain.outputs[0].answer, 'hi there');
    assert.deepEqual(plain.budget_used, { agents: 1, input_tokens: 7, output_tokens: 3, cost_usd: 0 });
    const metered = await client.call<any>('events.query', { kinds: ['InferenceMetered'] });
    assert.ok(metered.count >= 3);
    await client.close();
  });

  test('a tool the spec does not grant is refused to the model, not run', async () => {
    const client = await CarClient.connect({ url: server.url, token: AUTH_TOKEN });
    let ran = false;
    client.serveTools({ lookup: () => ((ran = true), {}) });
    await client.tools.register([{ name: 'lookup', parameters: { type: 'object' } }]);
    const r = await client.call<any>('multi.pipeline', { stages: [agent('nogrant', { tools: [], max_turns: 2 })], task: 'look it up' });
    assert.equal(ran, false);
    assert.equal(r.stages[0].tool_calls, 1);
    await client.close();
  });
});

describe('multi.* with neither a runner nor a model', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());
  test('each agent fails with a clear error; the call itself answers', async () => {
    const client = await CarClient.connect({ url: server.url, token: AUTH_TOKEN });
    const r = await client.call<any>('multi.pipeline', { stages: [agent('lonely')], task: 'x' });
    assert.match(r.stages[0].error, /does not serve multi.run_agent and no model is configured/);
    await client.close();
  });
});
