import assert from 'node:assert/strict';
import { join } from 'node:path';
import test from 'node:test';
import { MeetingService, VoiceService, type SttCallbacks, type SttProvider, type SttRecognizer, type VoiceEventSink } from '../../src/voice/index.js';
import { installCrashFs } from '../helpers/crash-fs.js';
import { tempDir } from '../helpers/temp.js';

/** A recognizer that "hears" one fixed sentence per 100 bytes of audio: the provider interface without an engine. */
class CannedStt implements SttProvider {
  readonly id = 'canned';
  info() {
    return { id: this.id, kind: 'stt' as const, available: true, description: 'canned sentences for durability tests' };
  }
  start(_o: unknown, cb: SttCallbacks): SttRecognizer {
    let at = 0;
    return {
      write(pcm: Buffer) {
        for (let i = 0; i < pcm.length; i += 100, at += 1000) cb.onSegment({ text: `sentence ${at / 1000}`, start_ms: at, end_ms: at + 900 });
      },
      backlogBytes: 0,
      finish: () => Promise.resolve(),
      kill: () => undefined,
    };
  }
}

const quiet: VoiceEventSink = { send: () => undefined, sendFrame: () => true };

test('crash-fs: a stopped meeting survives a power cut (meeting.json atomically replaced and its directory fsynced; transcript lines fdatasynced)', async (t) => {
  const dir = tempDir(t, 'car-crash-');
  const fs = await installCrashFs(dir);
  try {
    const root = join(dir, 'meetings');
    const voice = new VoiceService({ sttProviders: [new CannedStt()] });
    const meetings = new MeetingService(voice, root);
    const rec = await meetings.start({ id: 'm1', title: 'T', owner: 'c', source: { kind: 'pcm_push', sample_rate: 16000, channels: 1 }, provider: 'canned', upstream: quiet });
    voice.push('c', rec.voice_session_ids[0]!, Buffer.alloc(300));
    const { segments } = await meetings.stop('c', 'm1');
    assert.equal(segments.length, 3);
    assert.ok(fs.fileSyncs > 0 && fs.dirSyncs > 0);
    fs.crash();
    const after = new MeetingService(new VoiceService(), root);
    const back = await after.get('m1');
    assert.equal(back.record.status, 'stopped');
    assert.deepEqual(back.segments.map((s) => s.text), ['sentence 0', 'sentence 1', 'sentence 2']);
  } finally {
    fs.uninstall();
  }
});
