import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { agentTokenOf, hostTokenPath, RawClient, startDaemon, tempDir, type RunningDaemon } from './helpers.js';

interface Trace {
  run_id: string;
  agent_id: string;
  cursor: number;
  records: { kind: string; status?: string; index?: number; output?: string }[];
}

async function hostClient(t: test.TestContext, daemon: RunningDaemon, carHome: string): Promise<RawClient> {
  const c = await RawClient.connect(t, daemon.url);
  await c.result('session.auth', { host_token: readFileSync(hostTokenPath(carHome), 'utf8') });
  return c;
}

test('run traces are durable under $CAR_HOME/runs and readable after a restart', async (t) => {
  const carHome = tempDir(t);
  const first = await startDaemon(t, { carHome, args: ['--dream-interval', '0'] });
  const agent = await RawClient.connect(t, first.url);
  await agent.result('session.auth', { token: await agentTokenOf(t, first, carHome, 'e2e-agent'), agent_id: 'e2e-agent' });
  const { run_id } = (await agent.result('runs.start', { intent: 'survive a restart' })) as { run_id: string };
  const recorded = await agent.result('runs.record_turns', { run_id, turns: [{ tool: 'shell', output: 'ok' }, { prompt: 'next' }] });
  assert.deepEqual(recorded, { run_id, base_index: 0, count: 2, ok: true });

  // the dropped connection ends the run `incomplete` after the 250 ms grace
  const host = await hostClient(t, first, carHome);
  await host.result('runs.subscribe', { run_id });
  await agent.close();
  let ended: { record: { kind: string; status?: string } } | undefined;
  while (ended === undefined) {
    const frame = await host.next();
    if (frame.method === 'runs.trace.event' && frame.params.record.kind === 'ended') ended = frame.params;
  }
  assert.equal(ended.record.status, 'incomplete');
  const trace = (await host.result('runs.get_trace', { run_id })) as Trace;
  assert.equal(trace.records.at(-1)!.status, 'incomplete');
  await host.close();
  await first.stop();

  assert.deepEqual(readdirSync(join(carHome, 'runs')), ['e2e-agent']);
  assert.ok(existsSync(join(carHome, 'runs', 'e2e-agent', `${run_id}.jsonl`)));

  const second = await startDaemon(t, { carHome, args: ['--dream-interval', '0'] });
  const again = await hostClient(t, second, carHome);
  const after = (await again.result('runs.get_trace', { run_id })) as Trace;
  assert.equal(after.agent_id, 'e2e-agent');
  assert.deepEqual(after.records.map((r) => r.kind), ['started', 'turn', 'turn', 'ended']);
  assert.deepEqual(after.records.slice(1, 3).map((r) => r.index), [0, 1]);
  const list = (await again.result('runs.list', { agent_id: 'e2e-agent' })) as { runs: { run_id: string; status: string; turn_count: number }[] };
  assert.deepEqual(list.runs.map((r) => [r.run_id, r.status, r.turn_count]), [[run_id, 'incomplete', 2]]);
  again.close();
  await second.stop();
});
