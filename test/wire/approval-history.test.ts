import assert from 'node:assert/strict';
import test from 'node:test';
import { ServerStateConfig } from '../../src/index.js';
import { startServer, type TestServer } from '../helpers/server.js';

type Row = { id: string; status: string };

test('maxApprovalHistory: decided approvals stay listed up to the bound; one more pushes out the oldest, pending ones are never pushed out', async (t) => {
  assert.equal(new ServerStateConfig().maxApprovalHistory, 200);
  assert.throws(() => new ServerStateConfig({ maxApprovalHistory: 0 }), RangeError);
  const server: TestServer = await startServer({ maxApprovalHistory: 2 });
  t.after(() => server.close());
  const c = await server.authed();
  const raise = async (title: string): Promise<string> => ((await c.result('host.request_approval', { title })) as Row).id;
  const listed = async (): Promise<Row[]> => ((await c.result('host.approvals', {})) as { approvals: Row[] }).approvals;
  const waiting = await raise('still pending');
  const decided: string[] = [];
  for (const title of ['one', 'two']) {
    const id = await raise(title);
    await c.result('host.resolve_approval', { approval_id: id, approved: true });
    decided.push(id);
  }
  assert.deepEqual((await listed()).map((a) => a.id).sort(), [waiting, ...decided].sort(), 'exactly at the bound: all kept');
  const third = await raise('three');
  await c.result('host.resolve_approval', { approval_id: third, approved: false });
  const after = await listed();
  assert.deepEqual(after.map((a) => a.id).sort(), [waiting, decided[1]!, third].sort(), 'one over: the oldest decided one is gone');
  assert.equal(after.find((a) => a.id === waiting)!.status, 'pending');
  const gone = await c.error('host.resolve_approval', { approval_id: decided[0], approved: true });
  assert.match(gone.message, /unknown approval/);
});
