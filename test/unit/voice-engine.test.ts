import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { describe } from 'node:test';
import { VoiceService, type VoiceEvent, type VoiceEventSink } from '../../src/voice/index.js';
import { FOX, needs, pcmOf, recovered, silence, speak } from '../helpers/speech.js';
import { removeTempDir, tempDir } from '../helpers/temp.js';

class CollectingSink implements VoiceEventSink {
  readonly events: { session: string; event: VoiceEvent }[] = [];
  readonly frames: Uint8Array[] = [];
  send(session: string, event: VoiceEvent): void {
    this.events.push({ session, event });
  }
  sendFrame(frame: Uint8Array): boolean {
    this.frames.push(frame);
    return true;
  }
  of(type: string): VoiceEvent[] {
    return this.events.filter((e) => e.event.type === type).map((e) => e.event);
  }
}

describe('voice engine with the Debian engines', () => {
  test('providers: local STT and TTS with descriptions; missing programs are unavailable with the package named', () => {
    const here = new VoiceService().providers();
    const ids = here.map((p) => `${p.kind}:${p.id}`);
    assert.deepEqual(ids, ['stt:local', 'tts:local', 'tts:flite', 'tts:espeak-ng']);
    for (const p of here) assert.ok(p.description.length > 10);
    const empty = tempDir('car-voice-path-');
    try {
      const none = new VoiceService({ searchPath: [empty], pocketsphinxModelDir: join(empty, 'model') }).providers();
      assert.ok(none.every((p) => p.available === false));
      assert.match(none[0]!.reason!, /pocketsphinx_continuous not found \(Debian package pocketsphinx\)/);
      assert.match(none[1]!.reason!, /flite or espeak-ng not found/);
    } finally {
      removeTempDir(empty);
    }
  });

  test('an unavailable provider is refused at start with a clear error', async () => {
    const empty = tempDir('car-voice-path-');
    try {
      const v = new VoiceService({ searchPath: [empty] });
      const sink = new CollectingSink();
      await assert.rejects(
        v.startTranscription({ owner: 'c', source: { kind: 'pcm_push', sample_rate: 16000, channels: 1 }, sink }),
        (err: Error & { kind?: string }) => err.kind === 'unavailable' && /STT provider 'local' is not available: pocketsphinx_continuous not found/.test(err.message),
      );
      assert.throws(
        () => v.startSynthesis({ owner: 'c', text: 'hi', binary: false, sink }),
        (err: Error & { kind?: string }) => err.kind === 'unavailable' && /TTS provider 'local' is not available/.test(err.message),
      );
      await assert.rejects(v.startTranscription({ owner: 'c', source: { kind: 'pcm_push', sample_rate: 16000, channels: 1 }, provider: 'whisper', sink }), /unknown STT provider 'whisper'/);
    } finally {
      removeTempDir(empty);
    }
  });

  test('Flite speech pushed through PocketSphinx comes back as words, with speech_start/end and done', { skip: needs('pocketsphinx', 'flite') }, async () => {
    const v = new VoiceService();
    const sink = new CollectingSink();
    const { pcm } = pcmOf(speak(FOX));
    const s = await v.startTranscription({ owner: 'c', source: { kind: 'pcm_push', sample_rate: 16000, channels: 1 }, sink });
    for (let at = 0; at < pcm.length; at += 3200) v.push('c', s.id, pcm.subarray(at, at + 3200));
    v.push('c', s.id, silence(500));
    const result = await v.stop('c', s.id);
    const words = recovered(FOX, result.transcript);
    assert.ok(words.length >= 6, `recovered ${words.join(' ')} from "${result.transcript}"`);
    assert.ok(['quick', 'brown', 'fox'].every((w) => words.includes(w)), result.transcript);
    assert.equal(sink.of('speech_start').length, result.segments.length);
    const t = sink.of('transcript')[0]!;
    assert.equal(t.role, 'unknown');
    assert.ok((t.duration_ms as number) > 500);
    assert.equal(sink.of('done').length, 1);
    assert.equal(v.openSessions, 0);
  });

  test('a WAV file source is read and transcribed; eSpeak NG synthesizes too', { skip: needs('pocketsphinx', 'flite', 'espeak') }, async () => {
    const dir = tempDir('car-voice-file-');
    try {
      const file = join(dir, 'fox.wav');
      writeFileSync(file, speak(FOX));
      const v = new VoiceService();
      const sink = new CollectingSink();
      const s = await v.startTranscription({ owner: 'c', source: { kind: 'file', path: file }, sink });
      const r = await v.stop('c', s.id);
      assert.ok(['quick', 'brown', 'fox'].every((w) => recovered(FOX, r.transcript).includes(w)), r.transcript);
      const t = v.startSynthesis({ owner: 'c', text: 'hello there', provider: 'espeak-ng', binary: false, sink });
      await t.done;
      const chunks = sink.of('tts_chunk');
      assert.ok(chunks.length >= 2);
      assert.equal(chunks.at(-1)!.is_final, true);
      assert.equal(chunks[0]!.sample_rate, 22050);
    } finally {
      removeTempDir(dir);
    }
  });
});
