import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { after, before, describe } from 'node:test';
import { AimockServer } from '../helpers/aimock.js';
import { modelsFile, openaiRow } from '../helpers/inference.js';
import { delay, type Frame, type RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { FOX, needs, pcmOf, recovered, silence, speak } from '../helpers/speech.js';
import { removeTempDir, tempDir } from '../helpers/temp.js';

const SUMMARY = 'A fox jumped over a dog. No decisions were made.';

async function untilDone(c: RawClient): Promise<Frame[]> {
  const out: Frame[] = [];
  for (;;) {
    const f = await c.next();
    if (f.method !== 'voice.event') continue;
    out.push(f.params);
    if (f.params.event.type === 'done') return out;
  }
}

describe('meetings over the wire', () => {
  let dir: string;
  let mock: AimockServer;
  let files: ReturnType<typeof modelsFile>;
  let server: TestServer;
  before(async () => {
    dir = tempDir('car-meetings-');
    mock = await AimockServer.start([{ match: { endpoint: 'chat' }, response: { content: SUMMARY } }]);
    files = modelsFile([openaiRow('summarizer', mock.v1)]);
    server = await startServer({ meetingsDir: join(dir, 'meetings'), modelsPath: files.path, maxActiveMeetings: 2 });
  });
  after(async () => {
    await server.close();
    await mock.stop();
    files.cleanup();
    removeTempDir(dir);
  });

  test('a meeting from pushed PCM: transcript persisted, ingested into memory (memory.query finds it), summarized', { skip: needs('pocketsphinx', 'flite') }, async () => {
    const c = await server.authed();
    const started = await c.result('meeting.start', {
      id: 'standup-1',
      title: 'Morning standup',
      audio_source: { kind: 'pcm_push', sample_rate: 16000, channels: 1 },
      model: 'summarizer',
    });
    assert.equal(started.id, 'standup-1');
    assert.equal(started.title, 'Morning standup');
    assert.equal(typeof started.started_at, 'string');
    assert.equal(started.voice_session_ids.length, 1);
    const sid = started.voice_session_ids[0];
    assert.match(sid, /^[0-9a-f]{32}$/);
    const { pcm } = pcmOf(speak(FOX));
    await c.result('voice.transcribe_stream.push', { session_id: sid, pcm_b64: Buffer.concat([pcm, silence(400)]).toString('base64') });
    const listed = await c.result('meeting.list', {});
    assert.equal(listed.find((m: Frame) => m.id === 'standup-1').status, 'recording');

    const stopped = await c.result('meeting.stop', { meeting_id: 'standup-1', summarize: true });
    assert.equal(stopped.status, 'stopped');
    assert.ok(['quick', 'brown', 'fox'].every((w) => recovered(FOX, stopped.transcript).includes(w)), stopped.transcript);
    assert.equal(stopped.summary, SUMMARY);
    assert.equal(stopped.summary_model, 'summarizer');
    assert.ok(stopped.segments.length >= 1);
    // Events reached the client with the meeting named, untouched otherwise.
    const events = c.received.filter((f: Frame) => f.method === 'voice.event').map((f: Frame) => f.params);
    const transcript = events.find((e: Frame) => e.event.type === 'transcript');
    assert.equal(transcript.session_id, sid);
    assert.equal(transcript.event.meeting_id, 'standup-1');

    // What was said is in this session's memory graph.
    const hits = await c.result('memory.query', { query: 'brown fox' });
    const hit = hits.find((h: Frame) => /fox/.test(h.body));
    assert.ok(hit, `memory.query found no fox in ${JSON.stringify(hits)}`);
    assert.equal(hit.subject, 'meeting: Morning standup');

    // Persisted under the meetings dir, 0600 files in a 0700 dir.
    const mdir = join(dir, 'meetings', 'standup-1');
    const meta = JSON.parse(readFileSync(join(mdir, 'meeting.json'), 'utf8'));
    assert.equal(meta.status, 'stopped');
    assert.equal(meta.summary, SUMMARY);
    const lines = readFileSync(join(mdir, 'transcript.jsonl'), 'utf8').trim().split('\n');
    assert.equal(lines.length, stopped.segments.length);
    assert.equal(statSync(mdir).mode & 0o777, 0o700);
    assert.equal(statSync(join(mdir, 'meeting.json')).mode & 0o777, 0o600);
    assert.equal(statSync(join(mdir, 'transcript.jsonl')).mode & 0o777, 0o600);

    // Any client can read it back, and so can a daemon started later on the same directory.
    const other = await server.authed();
    const got = await other.result('meeting.get', { meeting_id: 'standup-1' });
    assert.equal(got.transcript, stopped.transcript);
    const later = await startServer({ meetingsDir: join(dir, 'meetings') });
    try {
      const d = await later.authed();
      const again = await d.result('meeting.get', { meeting_id: 'standup-1' });
      assert.equal(again.transcript, stopped.transcript);
      assert.equal(again.summary, SUMMARY);
      assert.ok((await d.result('meeting.list', {})).some((m: Frame) => m.id === 'standup-1'));
    } finally {
      await later.close();
    }
  });

  test('a meeting from a WAV file; summarize without a working model says why it was omitted', { skip: needs('pocketsphinx', 'flite') }, async () => {
    const c = await server.authed();
    const wav = join(dir, 'fox.wav');
    writeFileSync(wav, speak(FOX));
    const started = await c.result('meeting.start', { audio_source: { kind: 'file', path: wav } });
    assert.match(started.id, /^meeting-/);
    assert.match(started.title, /^Meeting /);
    await untilDone(c);
    const stopped = await c.result('meeting.stop', { meeting_id: started.id, summarize: true, model: 'no-such-model' });
    assert.ok(recovered(FOX, stopped.transcript).includes('fox'), stopped.transcript);
    assert.equal(stopped.summary, undefined);
    assert.match(stopped.summary_omitted_reason, /no model could summarize: .*no-such-model/);
  });

  test('an empty meeting stops with the reason for no summary; stop twice is not found', { skip: needs('pocketsphinx') }, async () => {
    const c = await server.authed();
    const started = await c.result('meeting.start', { audio_source: { kind: 'pcm_push', sample_rate: 16000, channels: 1 } });
    const stopped = await c.result('meeting.stop', { meeting_id: started.id, summarize: true });
    assert.equal(stopped.transcript, '');
    assert.equal(stopped.summary_omitted_reason, 'the transcript is empty');
    const again = await c.error('meeting.stop', { meeting_id: started.id });
    assert.match(again.message, /no meeting .* recording on this connection/);
  });

  test('maxActiveMeetings: the meeting past the bound is refused; a disconnect ends its meetings as interrupted', { skip: needs('pocketsphinx') }, async () => {
    const c = await server.authed();
    const push = { kind: 'pcm_push', sample_rate: 16000, channels: 1 };
    await c.result('meeting.start', { id: 'm-a', audio_source: push });
    await c.result('meeting.start', { id: 'm-b', audio_source: push });
    const e = await c.error('meeting.start', { id: 'm-c', audio_source: push });
    assert.match(e.message, /too many meetings recording \(limit 2\)/);
    assert.equal((e.data as Frame).limit, 2);
    const dup = await (await server.authed()).error('meeting.start', { id: 'm-a', audio_source: push });
    assert.match(dup.message, /meeting 'm-a' already exists/);
    await c.close();
    const d = await server.authed();
    for (let i = 0; ; i++) {
      const m = await d.result('meeting.get', { meeting_id: 'm-a' });
      if (m.status === 'interrupted') break;
      await delay(5);
      assert.ok(i < 10_000);
    }
    await d.result('meeting.start', { id: 'm-c', audio_source: push });
    await d.result('meeting.stop', { meeting_id: 'm-c' });
  });

  test('capture and speaker methods this platform lacks answer "unsupported on this platform"', async () => {
    const c = await server.authed();
    const mic = await c.error('meeting.start', { sources: ['mic', 'system'] });
    assert.equal(mic.code, -32603);
    assert.match(mic.message, /capturing mic, system audio is not supported on this platform/);
    const diar = await c.error('meeting.start', { audio_source: { kind: 'pcm_push', sample_rate: 16000, channels: 1 }, diarizer: true });
    assert.match(diar.message, /not supported on this platform/);
    const bad = await c.error('meeting.get', { meeting_id: '../etc' });
    assert.equal(bad.code, -32602);
    assert.equal(existsSync(join(dir, 'etc')), false);
  });
});
