import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { after, before, describe } from 'node:test';
import { decodeFrame, encodeFrame, FrameType } from '../../src/voice/index.js';
import type { Frame, RawClient } from '../helpers/raw-client.js';
import { useServer } from '../helpers/server.js';
import { FOX, needs, pcmOf, recovered, silence, speak, to48kStereo } from '../helpers/speech.js';
import { removeTempDir, tempDir } from '../helpers/temp.js';

const hexId = (): string => randomUUID().replaceAll('-', '');

/** `voice.event` notifications until one satisfies `last` (all of them, in order). */
async function voiceEvents(c: RawClient, last: (event: Frame) => boolean): Promise<Frame[]> {
  const out: Frame[] = [];
  for (;;) {
    const f = await c.next();
    if (f.method !== 'voice.event') continue;
    out.push(f.params);
    if (last(f.params.event)) return out;
  }
}

function pcmFrame(id: string, seq: number, pcm: Buffer): Buffer {
  return encodeFrame({ type: FrameType.PcmIn, id, seq: BigInt(seq), format: 0, payload: pcm });
}

describe('voice over the wire', () => {
  const server = useServer();
  let dir: string;
  before(() => {
    dir = tempDir('car-voice-wire-');
  });
  after(() => removeTempDir(dir));

  test('voice.providers.list reports each provider with kind, available and a description', async () => {
    const c = await server.authed();
    const list = await c.result('voice.providers.list', {});
    assert.deepEqual(
      list.map((p: Frame) => `${p.kind}:${p.id}`),
      ['stt:local', 'tts:local', 'tts:flite', 'tts:espeak-ng'],
    );
    for (const p of list) {
      assert.equal(typeof p.available, 'boolean');
      assert.equal(typeof p.description, 'string');
    }
  });

  test('file source: TTS speech written as WAV is transcribed; events only reach the starting connection', { skip: needs('pocketsphinx', 'flite') }, async () => {
    const c = await server.authed();
    const other = await server.authed();
    const file = join(dir, 'fox.wav');
    writeFileSync(file, speak(FOX));
    const started = await c.result('voice.transcribe_stream.start', { session_id: 'file-1', audio_source: { kind: 'file', path: file } });
    assert.deepEqual(started, { session_id: 'file-1', provider: 'local', audio_source: { kind: 'file', path: file } });
    const events = await voiceEvents(c, (e) => e.type === 'done');
    assert.ok(events.every((e) => e.session_id === 'file-1'));
    const types = events.map((e) => e.event.type);
    assert.deepEqual(types.slice(0, 3), ['speech_start', 'speech_end', 'transcript']);
    const transcript = events.find((e) => e.event.type === 'transcript')!.event;
    assert.equal(transcript.role, 'unknown');
    assert.equal(typeof transcript.duration_ms, 'number');
    const stop = await c.result('voice.transcribe_stream.stop', { session_id: 'file-1' });
    const words = recovered(FOX, stop.transcript);
    assert.ok(['quick', 'brown', 'fox'].every((w) => words.includes(w)), `recovered: ${stop.transcript}`);
    // The other connection saw nothing and cannot touch the session.
    assert.equal(other.pendingFrames, 0);
    assert.ok(!other.received.some((f: Frame) => f.method === 'voice.event'));
  });

  test('JSON push: base64 PCM chunks, then stop answers with the final transcript', { skip: needs('pocketsphinx', 'flite') }, async () => {
    const c = await server.authed();
    const { pcm } = pcmOf(speak(FOX));
    await c.result('voice.transcribe_stream.start', { session_id: 'json-1', audio_source: { kind: 'pcm_push', sample_rate: 16000, channels: 1 } });
    assert.deepEqual((await c.result('voice.sessions.list', {})).map((s: Frame) => [s.session_id, s.state]), [['json-1', 'running']]);
    for (let at = 0; at < pcm.length; at += 8000) {
      const r = await c.result('voice.transcribe_stream.push', { session_id: 'json-1', pcm_b64: pcm.subarray(at, at + 8000).toString('base64') });
      assert.equal(r.accepted, Math.min(8000, pcm.length - at));
    }
    await c.result('voice.transcribe_stream.push', { session_id: 'json-1', pcm_b64: silence(400).toString('base64') });
    const stop = await c.result('voice.transcribe_stream.stop', { session_id: 'json-1' });
    assert.ok(['quick', 'brown', 'fox'].every((w) => recovered(FOX, stop.transcript).includes(w)), stop.transcript);
    assert.ok(stop.segments.length >= 1);
    assert.deepEqual(await c.result('voice.sessions.list', {}), []);
    const gone = await c.error('voice.transcribe_stream.push', { session_id: 'json-1', pcm_b64: Buffer.alloc(4).toString('base64') });
    assert.equal(gone.code, -32603);
    assert.match(gone.message, /no voice session 'json-1' on this connection/);
  });

  test('binary frames: 48 kHz stereo PCM resampled on the way in is recognised', { skip: needs('pocketsphinx', 'flite') }, async () => {
    const c = await server.authed();
    const id = hexId();
    const stereo = to48kStereo(pcmOf(speak(FOX)).pcm);
    await c.result('voice.transcribe_stream.start', { session_id: id, audio_source: { kind: 'pcm_push', sample_rate: 48000, channels: 2 } });
    let seq = 0;
    for (let at = 0; at < stereo.length; at += 19200) c.ws.send(pcmFrame(id, seq++, stereo.subarray(at, at + 19200)), { binary: true });
    c.ws.send(pcmFrame(id, seq++, silence(400, 48000, 2)), { binary: true });
    const stop = await c.result('voice.transcribe_stream.stop', { session_id: id });
    assert.ok(['quick', 'brown', 'fox'].every((w) => recovered(FOX, stop.transcript).includes(w)), stop.transcript);
    assert.equal(stop.audio_bytes, stereo.length + silence(400, 48000, 2).length);
    assert.equal(c.pendingFrames, c.received.filter((f: Frame) => f.method === 'voice.event').length, 'no error replies to the frames');
  });

  test('malformed frames (short, unknown type, unknown session, replayed seq) are answered; the connection stays open', async () => {
    const c = await server.authed();
    const errorOf = async (frame: Buffer): Promise<Frame> => {
      c.ws.send(frame, { binary: true });
      for (;;) {
        const f = await c.next();
        if (f.id === null && f.error) return f.error;
      }
    };
    const short = await errorOf(Buffer.alloc(10));
    assert.equal(short.code, -32600);
    assert.match(short.message, /10 bytes is shorter than the 26-byte header/);
    const unknownType = Buffer.from(pcmFrame(hexId(), 0, Buffer.alloc(2)));
    unknownType[0] = 0x09;
    assert.match((await errorOf(unknownType)).message, /unknown type 0x09/);
    const stranger = hexId();
    const unknown = await errorOf(pcmFrame(stranger, 0, Buffer.alloc(2)));
    assert.equal(unknown.code, -32603);
    assert.match(unknown.message, new RegExp(`no voice session '${stranger}'`));
    const id = hexId();
    await c.result('voice.transcribe_stream.start', { session_id: id, audio_source: { kind: 'pcm_push', sample_rate: 16000, channels: 1 } });
    c.ws.send(pcmFrame(id, 5, silence(10)), { binary: true });
    const replay = await errorOf(pcmFrame(id, 5, silence(10)));
    assert.equal(replay.code, -32602);
    assert.match(replay.message, /seq 5 .* is not after 5/);
    // Someone else's session is not reachable by frame either.
    const other = await server.authed();
    const foreign = await new Promise<Frame>((resolve) => {
      other.ws.send(pcmFrame(id, 6, silence(10)), { binary: true });
      void other.next().then(resolve);
    });
    assert.match(foreign.error.message, /no voice session/);
    assert.equal(await c.result('state.exists', { key: 'k' }), false);
    await c.result('voice.transcribe_stream.stop', { session_id: id });
  });

  test('TTS as JSON tts_chunk events: seq from 0, base64 PCM, a final empty chunk; the audio transcribes back', { skip: needs('pocketsphinx', 'flite') }, async () => {
    const c = await server.authed();
    const r = await c.result('voice.tts_stream.start', { stream_id: 'say-1', text: FOX, options: { provider: 'flite' } });
    assert.deepEqual(r, { stream_id: 'say-1', provider: 'flite', binary_frames: false, format: 'pcm_s16le' });
    const events = await voiceEvents(c, (e) => e.type === 'tts_chunk' && e.is_final);
    const chunks = events.map((e) => e.event);
    assert.deepEqual(chunks.map((e) => e.seq), chunks.map((_e, i) => i));
    assert.ok(chunks.every((e) => e.stream_id === 'say-1' && e.format === 'pcm_s16le' && e.sample_rate === 16000));
    assert.equal(chunks.at(-1)!.audio_b64, '');
    const audio = Buffer.concat(chunks.map((e) => Buffer.from(e.audio_b64, 'base64')));
    await c.result('voice.transcribe_stream.start', { session_id: 'back', audio_source: { kind: 'pcm_push', sample_rate: 16000, channels: 1 } });
    await c.result('voice.transcribe_stream.push', { session_id: 'back', pcm_b64: Buffer.concat([audio, silence(300)]).toString('base64') });
    const stop = await c.result('voice.transcribe_stream.stop', { session_id: 'back' });
    assert.ok(['quick', 'brown', 'fox'].every((w) => recovered(FOX, stop.transcript).includes(w)), stop.transcript);
    const listed = await c.result('voice.tts_stream.list', {});
    assert.ok(listed.streams.includes('say-1'));
    assert.equal(listed.details.find((s: Frame) => s.stream_id === 'say-1').state, 'done');
  });

  test('TTS with binary_frames: 0x02 chunks then 0x03, no JSON chunks; cancel of an unknown id is {cancelled: false}', { skip: needs('flite') }, async () => {
    const c = await server.authed();
    const id = hexId();
    await c.result('voice.tts_stream.start', { stream_id: id, text: 'hello from the binary path', options: { binary_frames: true } });
    const frames = (await c.waitBinary((fs) => fs.some((f) => f[0] === FrameType.TtsEnd))).map((f) => decodeFrame(f));
    assert.ok(frames.length >= 2);
    assert.ok(frames.every((f) => f.id === id));
    assert.deepEqual(frames.map((f) => f.seq), frames.map((_f, i) => BigInt(i)));
    assert.ok(frames.slice(0, -1).every((f) => f.type === FrameType.TtsChunk && f.format === 0 && f.payload.length > 0));
    assert.equal(frames.at(-1)!.type, FrameType.TtsEnd);
    assert.equal(frames.at(-1)!.payload.length, 0);
    assert.ok(!c.received.some((f: Frame) => f.method === 'voice.event' && f.params.event.type === 'tts_chunk'));
    assert.deepEqual(await c.result('voice.tts_stream.cancel', { stream_id: 'nope' }), { stream_id: 'nope', cancelled: false });
    const bad = await c.error('voice.tts_stream.start', { stream_id: 'not-hex', text: 'x', binary_frames: true });
    assert.equal(bad.code, -32602);
    assert.match(bad.message, /stream_id must be 32 lowercase hex digits/);
  });

  test('a running synthesis can be cancelled', { skip: needs('flite') }, async () => {
    const c = await server.authed();
    const long = 'this sentence is long enough to take a while to speak. '.repeat(40);
    await c.result('voice.tts_stream.start', { stream_id: 'long', text: long });
    const cancelled = await c.result('voice.tts_stream.cancel', { stream_id: 'long' });
    const listed = (await c.result('voice.tts_stream.list', {})).details.find((s: Frame) => s.stream_id === 'long');
    if (cancelled.cancelled) assert.equal(listed.state, 'cancelled');
    else assert.equal(listed.state, 'done');
  });

  test('unknown providers and platform-only methods are refused clearly', async () => {
    const c = await server.authed();
    const stt = await c.error('voice.transcribe_stream.start', { audio_source: { kind: 'pcm_push', sample_rate: 16000, channels: 1 }, options: { provider: 'whisper' } });
    assert.equal(stt.code, -32602);
    assert.match(stt.message, /unknown STT provider 'whisper'/);
    const tts = await c.error('voice.tts_stream.start', { text: 'x', options: { provider: 'polly' } });
    assert.match(tts.message, /unknown TTS provider 'polly'/);
    const rel = await c.error('voice.transcribe_stream.start', { audio_source: { kind: 'file', path: 'rel.wav' } });
    assert.match(rel.message, /absolute path/);
    for (const m of ['voice.enroll_speaker', 'voice.prepare_diarizer', 'voice.prepare_parakeet', 'voice.list_enrollments', 'voice.remove_enrollment']) {
      const e = await c.error(m, {});
      assert.equal(e.code, -32603);
      assert.match(e.message, /not supported on this platform/);
    }
  });
});

describe('voice limits at their bounds', () => {
  const server = useServer({ maxVoiceSessions: 2, maxVoiceSessionAudioBytes: 32_000, maxTtsTextBytes: 64, maxTtsStreams: 1, maxVoiceBufferedBytes: 16_000 });
  const push = { kind: 'pcm_push', sample_rate: 16000, channels: 1 };

  test('maxVoiceSessions: the session past the bound is refused; closing the connection frees them', { skip: needs('pocketsphinx') }, async () => {
    const c = await server.authed();
    await c.result('voice.transcribe_stream.start', { session_id: 'a', audio_source: push });
    await c.result('voice.transcribe_stream.start', { session_id: 'b', audio_source: push });
    const e = await c.error('voice.transcribe_stream.start', { session_id: 'c', audio_source: push });
    assert.equal(e.code, -32603);
    assert.match(e.message, /too many voice sessions open \(limit 2\)/);
    assert.equal((e.data as Frame).limit, 2);
    await c.close();
    const d = await server.authed();
    await d.result('voice.transcribe_stream.start', { session_id: 'c', audio_source: push });
    await d.result('voice.transcribe_stream.stop', { session_id: 'c' });
  });

  test('maxVoiceSessionAudioBytes: exactly the bound is taken, one more sample is refused', { skip: needs('pocketsphinx') }, async () => {
    const c = await server.authed();
    await c.result('voice.transcribe_stream.start', { session_id: 'cap', audio_source: push });
    await c.result('voice.transcribe_stream.push', { session_id: 'cap', pcm_b64: Buffer.alloc(16_000).toString('base64') });
    await c.result('voice.transcribe_stream.push', { session_id: 'cap', pcm_b64: Buffer.alloc(16_000).toString('base64') });
    const e = await c.error('voice.transcribe_stream.push', { session_id: 'cap', pcm_b64: Buffer.alloc(2).toString('base64') });
    assert.match(e.message, /reached its audio limit of 32000 bytes/);
    assert.equal((e.data as Frame).reason, 'voice_audio_bytes');
    const big = Buffer.alloc(16_002).toString('base64');
    await c.result('voice.transcribe_stream.start', { session_id: 'buf', audio_source: push });
    const b = await c.error('voice.transcribe_stream.push', { session_id: 'buf', pcm_b64: big });
    assert.equal((b.data as Frame).reason, 'voice_buffer_full');
    await c.result('voice.transcribe_stream.stop', { session_id: 'cap' });
    await c.result('voice.transcribe_stream.stop', { session_id: 'buf' });
  });

  test('maxTtsTextBytes and maxTtsStreams', { skip: needs('flite') }, async () => {
    const c = await server.authed();
    const over = await c.error('voice.tts_stream.start', { text: 'x'.repeat(65) });
    assert.equal((over.data as Frame).limit, 64);
    assert.equal((over.data as Frame).field, 'text');
    await c.result('voice.tts_stream.start', { stream_id: 'one', text: 'y'.repeat(64) });
    const busy = await c.error('voice.tts_stream.start', { stream_id: 'two', text: 'hello' });
    // The first one may have finished already on a fast machine; then the second is accepted.
    if (busy.code !== undefined) assert.match(busy.message, /too many synthesis streams running \(limit 1\)/);
  });
});
