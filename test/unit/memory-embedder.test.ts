import assert from 'node:assert/strict';
import test from 'node:test';
import type { Embedder } from '../../src/memory/embedder.js';
import { MemoryEngine, reciprocalRankFusion } from '../../src/memory/engine.js';
import { MemoryScope } from '../../src/memory/scope.js';
import { MemoryService } from '../../src/memory/service.js';
import { words } from '../../src/memory/text.js';

/** A toy embedder: one dimension per concept, synonyms share it. */
const CONCEPTS = [
  ['car', 'automobile', 'vehicle'],
  ['cost', 'costs', 'price', 'expensive'],
  ['weather', 'rain', 'forecast'],
];
function fakeEmbedder(calls: string[][] = []): Embedder {
  return {
    dimensions: CONCEPTS.length,
    async embed(texts) {
      calls.push(texts);
      return texts.map((t) => {
        const v = new Float32Array(CONCEPTS.length);
        for (const w of words(t)) CONCEPTS.forEach((c, i) => c.includes(w) && (v[i]! += 1));
        return v;
      });
    },
  };
}

test('without an embedder, a paraphrase with no shared words finds nothing; with one, it does', async () => {
  const plain = new MemoryScope('shared', null, new MemoryEngine(), null);
  await plain.addFact({ subject: 'car', body: 'the car costs 30000 dollars' });
  await plain.addFact({ subject: 'forecast', body: 'rain tomorrow' });
  assert.deepEqual(await plain.query('how expensive is the automobile?'), []);

  const calls: string[][] = [];
  const smart = new MemoryScope('shared', null, new MemoryEngine(), null, fakeEmbedder(calls));
  await smart.addFact({ subject: 'car', body: 'the car costs 30000 dollars' });
  await smart.addFact({ subject: 'forecast', body: 'rain tomorrow' });
  const hits = await smart.query('how expensive is the automobile?');
  assert.equal(hits[0]!.node.subject, 'car');
  assert.ok(!hits.some((h) => h.node.subject === 'forecast'));
  assert.equal(smart.engine.vectors!.size, 2);
  assert.ok(calls.flat().includes('how expensive is the automobile?'));
});

test('a failing embedder costs similarity only', async () => {
  const broken: Embedder = { dimensions: 3, embed: async () => Promise.reject(new Error('provider down')) };
  const scope = new MemoryScope('shared', null, new MemoryEngine(), null, broken);
  await scope.addFact({ subject: 'alpha', body: 'first letter' });
  assert.equal((await scope.query('alpha'))[0]!.node.subject, 'alpha');
  const svc = new MemoryService({ memoryDir: null });
  await (await svc.shared()).addFact({ subject: 'alpha', body: 'first letter' });
  assert.equal((await (await svc.shared()).query('alpha'))[0]!.node.subject, 'alpha');
  await svc.useEmbedder(fakeEmbedder());
  assert.equal((await (await svc.shared()).query('alpha'))[0]!.node.subject, 'alpha', 'facts added before the embedder are embedded on first use');
  assert.equal((await svc.shared()).engine.vectors!.size, 1);
});

test('with an embedder, graph, lexical and vector rankings are fused by reciprocal rank', async () => {
  assert.deepEqual(
    [...reciprocalRankFusion([[1, 2, 3], [2, 1], [2]])].map(([ix, v]) => [ix, Math.round(v * 1e4)]),
    [
      [1, Math.round((1 / 61 + 1 / 62) * 1e4)],
      [2, Math.round((1 / 62 + 1 / 61 + 1 / 61) * 1e4)],
      [3, Math.round((1 / 63) * 1e4)],
    ],
  );
  const scope = new MemoryScope('shared', null, new MemoryEngine(), null, fakeEmbedder());
  await scope.addFact({ subject: 'fleet', body: 'the delivery van is a vehicle we lease' });
  await scope.addFact({ subject: 'fleet notes', body: 'van tyres are replaced every winter' });
  await scope.addFact({ subject: 'budget', body: 'the automobile price went up' });
  // "van" matches two facts lexically; the vector signal (car ~ vehicle ~ automobile) decides.
  const hits = await scope.query('which van car do we have?');
  assert.equal(hits[0]!.node.body, 'the delivery van is a vehicle we lease', 'first in both lexical and vector rankings');
  assert.ok(hits.some((h) => h.node.body === 'the automobile price went up'), 'found by the vector signal alone');
  // A superseded fact stays below its successor whatever the vectors say.
  await scope.addFact({ subject: 'company car', body: 'Model: a red automobile, a vehicle, a car' });
  await scope.addFact({ subject: 'company car', body: 'Model: a grey hatchback' });
  const cars = (await scope.query('company car model')).map((h) => h.node.body);
  assert.ok(cars.indexOf('Model: a grey hatchback') < cars.indexOf('Model: a red automobile, a vehicle, a car'));
});
