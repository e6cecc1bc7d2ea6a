import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import test from 'node:test';
import { signPeerRequest } from '../../src/a2a/peer-signature.js';
import { ephemeralKey } from '../../src/a2a/signing-key.js';
import { authTokenPath, RawClient, startDaemon, tempDir, type RunningDaemon } from './helpers.js';

async function owner(t: test.TestContext, daemon: RunningDaemon, carHome: string): Promise<RawClient> {
  const client = await RawClient.connect(t, daemon.url);
  await client.result('session.auth', { token: readFileSync(authTokenPath(carHome), 'utf8') });
  await client.result('server.handshake', { protocol_version: 2 });
  return client;
}

/** Resolves to the connect error code, or 'connected'. */
function probe(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

test('the peer listener is off unless --a2a-peer-listen names it; with it, a trusted peer\'s signed message is acknowledged and in $CAR_HOME/peer-messages.jsonl', async (t) => {
  const carHome = tempDir(t);
  const plain = await startDaemon(t, { carHome });
  assert.equal(plain.listening.a2a_peer_listener, null);
  assert.equal(await probe(8731), 'ECONNREFUSED', 'nothing on the upstream default port');
  const c0 = await owner(t, plain, carHome);
  assert.equal(((await c0.result('a2a.identity', {})) as { peer_listener: unknown }).peer_listener, null);
  c0.close();
  assert.equal((await plain.stop()).code, 0);

  const daemon = await startDaemon(t, { carHome, args: ['--a2a-peer-listen', '127.0.0.1:0'] });
  const bound = String(daemon.listening.a2a_peer_listener);
  assert.match(bound, /^127\.0\.0\.1:\d+$/);
  const c = await owner(t, daemon, carHome);
  const friend = ephemeralKey();
  await c.result('a2a.peers.add', { url: 'http://127.0.0.1:1/', label: 'friend', publicKey: friend.publicKeyBase64 });
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'SendMessage', params: { message: { messageId: 'e2e-1', role: 'ROLE_USER', parts: [{ text: 'hi from e2e' }] } } });
  const unsigned = await fetch(`http://${bound}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(unsigned.status, 401);
  const headers = { 'content-type': 'application/json', ...signPeerRequest(friend, { method: 'POST', host: bound, path: '/', body: Buffer.from(body) }) };
  const res = await fetch(`http://${bound}/`, { method: 'POST', headers, body });
  const reply = (await res.json()) as { result: { task: { status: { message: { parts: { text: string }[] } } } } };
  assert.equal(reply.result.task.status.message.parts[0]!.text, 'Acknowledged.');
  const log = join(carHome, 'peer-messages.jsonl');
  const line = JSON.parse(readFileSync(log, 'utf8').trim());
  assert.equal(line.text, 'hi from e2e');
  assert.equal(line.subject, `car-peer:${friend.kid}`);
  assert.equal(statSync(log).mode & 0o777, 0o600);
  c.close();
  assert.equal((await daemon.stop()).code, 0);
});

test('--a2a-bind serves A2A from the start: the card is up, a2a.status reports it, and a second a2a.start is refused', async (t) => {
  const carHome = tempDir(t);
  const daemon = await startDaemon(t, { carHome, args: ['--a2a-bind', '127.0.0.1:0'] });
  const bound = String(daemon.listening.a2a_listener);
  assert.match(bound, /^127\.0\.0\.1:\d+$/);
  const card = (await (await fetch(`http://${bound}/.well-known/agent-card.json`)).json()) as { name: string; skills: { id: string }[] };
  assert.equal(typeof card.name, 'string');
  assert.ok(card.skills.length > 0, 'the filesystem tools are advertised as skills');
  const c = await owner(t, daemon, carHome);
  const status = (await c.result('a2a.status', {})) as { running: boolean; bound: string };
  assert.deepEqual([status.running, status.bound], [true, bound]);
  const again = await c.error('a2a.start', { bind: '127.0.0.1:0' });
  assert.match(again.message, /already running/);
  c.close();
  assert.equal((await daemon.stop()).code, 0);
});
