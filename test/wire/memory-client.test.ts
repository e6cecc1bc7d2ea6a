import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { after, before } from 'node:test';
import { CarClient, RemoteError } from '../../src/client/index.js';
import * as mem from '../../src/client/memory.js';
import { AUTH_TOKEN, startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let memoryDir: string;
const clients: CarClient[] = [];

before(async () => {
  memoryDir = mkdtempSync(join(tmpdir(), 'car-memory-client-'));
  server = await startServer({ memoryDir });
});
after(async () => {
  for (const c of clients) c.close();
  await server.close();
  rmSync(memoryDir, { recursive: true, force: true });
});

async function connect(memoryNamespace?: string): Promise<mem.RpcCall> {
  const client = await CarClient.connect({ url: server.url, token: AUTH_TOKEN, memoryNamespace });
  clients.push(client);
  return (method, params) => client.call(method, params);
}

test('E3 through the typed helpers: facts, query, context, skills, outcomes, persist and reload', async () => {
  const call = await connect('e3');
  await mem.addFact(call, 'project_language', 'TypeScript', 'pattern');
  await mem.addFact(call, 'framework', 'React', 'pattern');
  await mem.addFact(call, 'test_runner', 'vitest', 'pattern');
  await mem.addFact(call, 'style_rule', 'no implicit any', 'constraint');
  assert.equal(await mem.factCount(call), 4);

  const hits = await mem.queryFacts(call, 'what language is this project in?', 3);
  assert.equal(hits[0]!.subject, 'project_language');
  assert.ok(hits[0]!.confidence > 0);

  const ctx = await mem.buildContext(call, 'The user wants to add a new component. What conventions apply?', 8192);
  assert.match(ctx.slice(0, 280), /## Constraints/);
  assert.match(ctx.slice(0, 280), /## Facts/);

  await mem.ingestSkill(
    call,
    'add_component',
    'mkdir -p src/components/$Name && touch src/components/$Name/index.tsx src/components/$Name/$Name.test.tsx',
    'bash',
    'frontend-engineer',
    'file://*/components/',
    ['component', 'scaffold', 'new'],
    'Scaffold a new React component with test file',
  );
  assert.equal((await mem.listSkills(call)).length, 1);
  const found = await mem.findSkill(call, 'frontend-engineer', 'file:///src/components/Button/', 'add a new component called Button', 1);
  assert.ok(found !== null);
  assert.equal(found[0]!.name, 'add_component');
  assert.match(found[0]!.code, /^mkdir -p src\/components/);

  let stats;
  for (const o of ['success', 'success', 'fail', 'success'] as const) stats = await mem.reportOutcome(call, 'add_component', o);
  assert.deepEqual([stats!.success_count, stats!.fail_count, stats!.degraded], [3, 1, false]);

  assert.equal(await mem.persistMemory(call, 'e3/memory.json'), 4);
  const fresh = await connect('e3-fresh');
  const loaded = await mem.loadMemory(fresh, 'e3/memory.json');
  assert.equal(loaded, 4);
  assert.equal(await mem.factCount(fresh), loaded);
  assert.equal((await mem.listSkills(fresh)).length, 1, 'skills travel with the snapshot');
});

test('helpers for proactive memory, utility and skills evolution', async () => {
  const call = await connect('helpers');
  const saved = await mem.memorySaveProcedural(call, { subject: 'ci cache', body: 'clear the CI cache when installs fail' });
  assert.equal(saved.kind, 'procedural');
  const verdict = await mem.memoryIntervene(call, { query: 'installs fail in CI', trigger: { tool_error: true } });
  assert.equal(verdict.decision, 'inject');
  assert.equal((await mem.memoryMaintain(call)).saved, 0);
  assert.equal((await mem.memoryEvaluate(call, { cases: [{ id: '1', request: 'CI cache', relevant_fact_ids: [saved.id] }] })).cases.length, 1);
  assert.deepEqual(await mem.memoryUpdateStatus(call, { body: 'busy' }), { id: 'proactive-status:global', body: 'busy' });
  assert.equal((await mem.memoryDelete(call, { id: saved.id })).deleted, true);
  const before = await mem.memoryUtilityGet(call);
  assert.deepEqual(await mem.memoryUtilitySet(call, { utility_exploration: 1 }), { ...before, utility_exploration: 1 });
  await mem.memoryUtilitySet(call, before);
  assert.equal((await mem.consolidate(call)).facts_after, 0);
  assert.match(await mem.buildContextFast(call, 'anything'), /^## Identity/);
  assert.equal(await mem.ingestDistilledSkills(call, [{ name: 'd', code: 'x', domain: 'web' }]), 1);
  await mem.reportOutcome(call, 'd', 'fail');
  assert.deepEqual(await mem.domainsNeedingEvolution(call), ['web']);
  await assert.rejects(mem.distillSkills(call, []), (err: unknown) => err instanceof RemoteError && /needs an inference provider/.test(err.message));
  assert.equal(await mem.repairSkill(call, 'd'), null, 'a skill that is not broken needs no repair');
  await assert.rejects(mem.evolveSkills(call, [], 'web'), RemoteError);
});
