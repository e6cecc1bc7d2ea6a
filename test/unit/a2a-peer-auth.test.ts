import assert from 'node:assert/strict';
import { readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import test, { describe } from 'node:test';
import { PeerMessageLog } from '../../src/a2a/peer-log.js';
import {
  PEER_SIGNATURE_HEADER,
  PEER_TIMESTAMP_HEADER,
  ReplayGuard,
  decodePeerKey,
  signPeerRequest,
  verifyPeerRequest,
  type PeerVerifyOptions,
  type SignedRequest,
} from '../../src/a2a/peer-signature.js';
import { PeerStore } from '../../src/a2a/peers.js';
import { ephemeralKey, fingerprint } from '../../src/a2a/signing-key.js';
import { tempDir } from '../helpers/temp.js';

const NOW = 1_800_000_000_000;
const req = (body = '{"jsonrpc":"2.0"}'): SignedRequest => ({ method: 'POST', host: '127.0.0.1:8731', path: '/', body: Buffer.from(body) });

function options(trusted: string[], over: Partial<PeerVerifyOptions> = {}): PeerVerifyOptions {
  return { isTrusted: (k) => trusted.includes(k), maxAgeMs: 60_000, replay: new ReplayGuard(100, 60_000), now: NOW, ...over };
}

describe('peer request signatures', () => {
  const key = ephemeralKey();
  const trusted = [key.publicKeyBase64];

  test('a signed request from a trusted key verifies: subject car-peer:<fingerprint>, claim car_peer_key = the full key', async () => {
    const headers = signPeerRequest(key, req(), NOW);
    const id = await verifyPeerRequest(headers, req(), options(trusted));
    assert.ok(!('status' in id), JSON.stringify(id));
    assert.equal(id.subject, `car-peer:${key.kid}`);
    assert.equal(id.claims.car_peer_key, key.publicKeyBase64);
    assert.equal(id.fingerprint, fingerprint(Buffer.from(key.publicKeyBase64, 'base64')));
  });

  test('unsigned, tampered (body, path, method, host), forged and malformed requests are 401', async () => {
    const headers = signPeerRequest(key, req(), NOW);
    const refused = async (h: Record<string, string>, r: SignedRequest) => {
      const out = await verifyPeerRequest(h, r, options(trusted));
      assert.ok('status' in out, 'refused');
      return out;
    };
    assert.equal((await refused({}, req())).status, 401);
    assert.equal((await refused(headers, req('{"jsonrpc":"2.0","x":1}'))).status, 401);
    assert.equal((await refused(headers, { ...req(), path: '/a2a' })).status, 401);
    assert.equal((await refused(headers, { ...req(), method: 'PUT' })).status, 401);
    assert.equal((await refused(headers, { ...req(), host: '127.0.0.1:9999' })).status, 401);
    const other = ephemeralKey();
    const forged = { ...headers, [PEER_SIGNATURE_HEADER]: signPeerRequest(other, req(), NOW)[PEER_SIGNATURE_HEADER]! };
    assert.match((await refused(forged, req())).reason, /does not verify/);
    assert.equal((await refused({ ...headers, 'x-car-peer-key': 'AAAA' }, req())).status, 401);
    assert.equal((await refused({ ...headers, [PEER_TIMESTAMP_HEADER]: 'soon' }, req())).status, 401);
  });

  test('a key no peer holds is 403, even with a valid signature', async () => {
    const stranger = ephemeralKey();
    const out = await verifyPeerRequest(signPeerRequest(stranger, req(), NOW), req(), options(trusted));
    assert.deepEqual('status' in out && out.status, 403);
  });

  test('a2aPeerSignatureMaxAgeMs: a timestamp exactly at the window is taken, one ms past it (either way) is 401', async () => {
    for (const [skew, ok] of [
      [60_000, true],
      [-60_000, true],
      [60_001, false],
      [-60_001, false],
    ] as const) {
      const out = await verifyPeerRequest(signPeerRequest(key, req(), NOW + skew), req(), options(trusted));
      assert.equal(!('status' in out), ok, `skew ${skew}: ${JSON.stringify(out)}`);
      if (!ok) assert.match((out as { reason: string }).reason, /from this daemon's clock/);
    }
  });

  test('the same signed request twice: the second is a replay (401)', async () => {
    const o = options(trusted);
    const headers = signPeerRequest(key, req(), NOW);
    assert.ok(!('status' in (await verifyPeerRequest(headers, req(), o))));
    const again = await verifyPeerRequest(headers, req(), o);
    assert.ok('status' in again && again.status === 401 && /replayed/.test(again.reason));
  });

  test('a2aPeerMaxNonces: at the bound a new request waits (503); nonces age out after twice the window', () => {
    const guard = new ReplayGuard(2, 1000);
    assert.equal(guard.admit('a', 0), 'ok');
    assert.equal(guard.admit('b', 10), 'ok');
    assert.equal(guard.admit('c', 20), 'full');
    assert.equal(guard.admit('a', 1999), 'replayed');
    assert.equal(guard.admit('c', 2000), 'ok', 'a aged out');
    assert.equal(guard.size, 2);
  });

  test('decodePeerKey takes base64 and base64url of 32 bytes only', () => {
    const raw = Buffer.from(key.publicKeyBase64, 'base64');
    assert.deepEqual(decodePeerKey(key.publicKeyBase64), raw);
    assert.deepEqual(decodePeerKey(raw.toString('base64url')), raw);
    assert.equal(decodePeerKey(Buffer.alloc(31).toString('base64')), null);
    assert.equal(decodePeerKey('not a key'), null);
  });
});

describe('PeerStore keys', () => {
  test('publicKey is kept (normalised to base64, with its fingerprint), looked up by key and URL; a bad or shared key is refused', async (t) => {
    const path = join(tempDir(t, 'car-peers-'), 'a2a-peers.json');
    const store = new PeerStore(path, 10);
    const key = ephemeralKey();
    const raw = Buffer.from(key.publicKeyBase64, 'base64');
    const peer = await store.add({ url: 'http://127.0.0.1:8731', publicKey: raw.toString('base64url'), allowUntrusted: false });
    assert.equal(peer.publicKey, key.publicKeyBase64);
    assert.equal(peer.fingerprint, key.kid);
    assert.equal((await store.byKey(key.publicKeyBase64))?.slug, peer.slug);
    assert.equal((await store.byUrl(new URL('http://127.0.0.1:8731/a2a')))?.slug, peer.slug);
    assert.equal(await store.byUrl(new URL('http://127.0.0.1:8732/')), undefined);
    await assert.rejects(store.add({ url: 'http://127.0.0.1:1', publicKey: 'short', allowUntrusted: false }), /publicKey/);
    await assert.rejects(store.add({ url: 'http://127.0.0.1:2', publicKey: key.publicKeyBase64, allowUntrusted: false }), /already peer/);
    const reread = new PeerStore(path, 10);
    assert.deepEqual(await reread.list(), [peer]);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  test('an a2a-peers.json of the earlier shape (no keys) still loads; an unreadable key is dropped, not the peer', async (t) => {
    const dir = tempDir(t, 'car-peers-');
    const path = join(dir, 'a2a-peers.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, JSON.stringify({ peers: [{ slug: 'a', url: 'http://127.0.0.1:1/' }, { slug: 'b', url: 'http://127.0.0.1:2/', publicKey: 'xx' }] }));
    assert.deepEqual(await new PeerStore(path, 10).list(), [
      { slug: 'a', url: 'http://127.0.0.1:1/' },
      { slug: 'b', url: 'http://127.0.0.1:2/' },
    ]);
  });
});

describe('peer-messages.jsonl', () => {
  test('lines are appended in call order, file 0600', async (t) => {
    const path = join(tempDir(t, 'car-peerlog-'), 'home', 'peer-messages.jsonl');
    const log = new PeerMessageLog(path, 1024);
    await Promise.all([1, 2, 3].map((n) => log.append({ n })));
    await log.close();
    assert.deepEqual(readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l).n), [1, 2, 3]);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  test('a2aPeerLogMaxBytes: a line that fits exactly stays; the next rotates to .1; the file never passes the bound', async (t) => {
    const path = join(tempDir(t, 'car-peerlog-'), 'peer-messages.jsonl');
    const line = (n: number) => ({ n, pad: 'x'.repeat(20) });
    const size = Buffer.byteLength(`${JSON.stringify(line(1))}\n`);
    const log = new PeerMessageLog(path, size * 3);
    for (const n of [1, 2, 3]) await log.append(line(n));
    assert.equal(statSync(path).size, size * 3, 'exactly at the bound, no rotation yet');
    assert.equal(existsSync(`${path}.1`), false);
    await log.append(line(4));
    assert.equal(statSync(path).size, size);
    assert.deepEqual(readFileSync(`${path}.1`, 'utf8').trim().split('\n').map((l) => JSON.parse(l).n), [1, 2, 3]);
    for (const n of [5, 6, 7]) await log.append(line(n));
    assert.deepEqual(readFileSync(`${path}.1`, 'utf8').trim().split('\n').map((l) => JSON.parse(l).n), [4, 5, 6], 'one older generation kept');
    assert.deepEqual(readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l).n), [7]);
    assert.equal(statSync(`${path}.1`).mode & 0o777, 0o600);
    await log.close();
  });

  test('a record larger than the whole bound is refused (kind limit) and nothing is written', async (t) => {
    const path = join(tempDir(t, 'car-peerlog-'), 'peer-messages.jsonl');
    const log = new PeerMessageLog(path, 64);
    await assert.rejects(log.append({ pad: 'y'.repeat(64) }), (err: { kind?: string; limit?: number }) => err.kind === 'limit' && err.limit === 64);
    await log.append({ ok: 1 });
    assert.equal(readFileSync(path, 'utf8'), '{"ok":1}\n');
    await log.close();
  });
});

describe('identities on the operator listener', () => {
  test('message metadata fills a2a_caller only (allow-listed keys), never a2a_caller_verified, and never with a car-peer:/peer: name', async () => {
    const { SendMessageRequest } = await import('@a2a-js/sdk');
    const { DefaultExecutionEventBus, RequestContext, ServerCallContext, UnauthenticatedUser } = await import('@a2a-js/sdk/server');
    const { CarAgentExecutor } = await import('../../src/a2a/executor.js');
    const proposals: Record<string, unknown>[] = [];
    const executor = new CarAgentExecutor({
      tools: () => [],
      submit: async (proposal) => {
        proposals.push(proposal);
        return { results: [{ action_id: 'a1', status: 'succeeded', output: null }] };
      },
      chat: null,
    });
    const request = SendMessageRequest.fromJSON({
      message: {
        messageId: 'm1',
        role: 'ROLE_USER',
        parts: [{ data: { tool: 'echo', parameters: {} } }],
        metadata: { caller_id: 'car-peer:0011223344556677', org_id: 'PEER:x', project_id: 'p1', tenant_id: 't1', a2a_caller_verified: { subject: 'car-peer:0011223344556677' }, extra: 'dropped' },
      },
    });
    const ctx = new RequestContext(request, 'task-1', 'ctx-1', new ServerCallContext({ user: new UnauthenticatedUser() }));
    await executor.execute(ctx, new DefaultExecutionEventBus());
    const context = proposals[0]!.context as Record<string, unknown>;
    assert.deepEqual(context.a2a_caller, { project_id: 'p1', tenant_id: 't1' });
    assert.equal('a2a_caller_verified' in context, false);
  });
});
