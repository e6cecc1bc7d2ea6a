import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { encodeFrame, FrameType, listenTcp, ServerState, ServerStateConfig, VoiceService, type VoiceEvent } from '../src/index.js';
import { parseWavHeader } from '../src/voice/index.js';
import { log } from './log.js';
import { formatNumber, formatRatio, formatTable } from './table.js';

/**
 * Voice: the local recognizer's real-time factor, time to the first synthesized chunk, and the
 * daemon's CPU per second of pushed audio for binary frames against base64 JSON (requests and
 * notifications), same audio, same run. CPU is this process's (daemon and client together; the
 * recognizer is a child process and not counted).
 */

export const VOICE_SETTINGS = { sttRepeats: 4, pushSeconds: 60, chunkMs: 100 } as const;

const SENTENCE = 'the quick brown fox jumps over the lazy dog while the band plays on';

function speech(text: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'car-bench-voice-'));
  try {
    execFileSync('/usr/bin/flite', ['-voice', 'kal16', '-t', text, '-o', join(dir, 's.wav')]);
    const wav = readFileSync(join(dir, 's.wav'));
    const info = parseWavHeader(wav)!;
    return wav.subarray(info.dataOffset, info.dataOffset + info.dataBytes);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function sttRealTimeFactor(voice: VoiceService, pcm: Buffer): Promise<{ audioS: number; wallS: number; words: number }> {
  const silence = Buffer.alloc(16000);
  const audio = Buffer.concat(Array.from({ length: VOICE_SETTINGS.sttRepeats }, () => [pcm, silence]).flat());
  const sink = { send: () => undefined, sendFrame: () => true };
  const t0 = performance.now();
  const s = await voice.startTranscription({ owner: 'bench', source: { kind: 'pcm_push', sample_rate: 16000, channels: 1 }, sink });
  for (let at = 0; at < audio.length; at += 3200) voice.push('bench', s.id, audio.subarray(at, at + 3200));
  const r = await voice.stop('bench', s.id);
  return { audioS: audio.length / 32000, wallS: (performance.now() - t0) / 1000, words: r.transcript.split(/\s+/).filter(Boolean).length };
}

async function ttsFirstChunk(voice: VoiceService, provider: string): Promise<{ firstMs: number; fullMs: number; audioS: number }> {
  let first = 0;
  let bytes = 0;
  let rate = 16000;
  const t0 = performance.now();
  const sink = {
    send: (_id: string, e: VoiceEvent) => {
      if (e.type !== 'tts_chunk' || e.is_final) return;
      if (first === 0) first = performance.now() - t0;
      bytes += Buffer.from(String(e.audio_b64), 'base64').length;
      rate = Number(e.sample_rate);
    },
    sendFrame: () => true,
  };
  const stream = voice.startSynthesis({ owner: 'bench', text: `${SENTENCE}. ${SENTENCE}.`, provider, binary: false, sink });
  await stream.done;
  return { firstMs: first, fullMs: performance.now() - t0, audioS: bytes / 2 / rate };
}

type Mode = 'binary frames' | 'JSON request' | 'JSON notification';

async function pushCost(url: string, mode: Mode, pcm: Buffer): Promise<number> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let next = 1;
  const waiting = new Map<number, () => void>();
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const f = JSON.parse((data as Buffer).toString('utf8')) as { id?: number; error?: unknown };
    if (f.error !== undefined && f.id === null) throw new Error(`push refused: ${JSON.stringify(f.error)}`);
    if (typeof f.id === 'number') waiting.get(f.id)?.();
  });
  const call = (method: string, params: unknown): Promise<void> =>
    new Promise((resolve) => {
      const id = next++;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  const id = crypto.randomUUID().replaceAll('-', '');
  await call('session.auth', { token: 'bench' });
  await call('voice.transcribe_stream.start', { session_id: id, audio_source: { kind: 'pcm_push', sample_rate: 16000, channels: 1 } });
  const chunk = (VOICE_SETTINGS.chunkMs / 1000) * 32000;
  const chunks: Buffer[] = [];
  for (let i = 0; chunks.length * chunk < VOICE_SETTINGS.pushSeconds * 32000; i = (i + chunk) % (pcm.length - chunk)) chunks.push(pcm.subarray(i, i + chunk));
  const cpu0 = process.cpuUsage();
  const pending: Promise<void>[] = [];
  chunks.forEach((c, seq) => {
    if (mode === 'binary frames') ws.send(encodeFrame({ type: FrameType.PcmIn, id, seq: BigInt(seq), format: 0, payload: c }));
    else if (mode === 'JSON request') pending.push(call('voice.transcribe_stream.push', { session_id: id, pcm_b64: c.toString('base64') }));
    else ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'voice.transcribe_stream.push', params: { session_id: id, pcm_b64: c.toString('base64') } }));
  });
  await Promise.all(pending);
  await call('voice.sessions.list', {});
  const used = process.cpuUsage(cpu0);
  await call('voice.transcribe_stream.stop', { session_id: id });
  ws.close();
  return (used.user + used.system) / VOICE_SETTINGS.pushSeconds;
}

export async function runVoiceBench(): Promise<void> {
  if (!existsSync('/usr/bin/pocketsphinx_continuous') || !existsSync('/usr/bin/flite')) {
    log('voice bench skipped: needs the Debian packages pocketsphinx, pocketsphinx-en-us and flite');
    return;
  }
  log('voice bench');
  const pcm = speech(SENTENCE);
  const voice = new VoiceService();
  const stt = await sttRealTimeFactor(voice, pcm);
  const tts = [await ttsFirstChunk(voice, 'flite')];
  const ttsNames = ['Flite (kal16)'];
  if (existsSync('/usr/bin/espeak-ng')) {
    tts.push(await ttsFirstChunk(voice, 'espeak-ng'));
    ttsNames.push('eSpeak NG');
  }
  const state = ServerState.embedded(new ServerStateConfig({ authToken: 'bench', maxVoiceSessionAudioBytes: 64 * 1024 * 1024 }));
  const listener = await listenTcp(state, { host: '127.0.0.1', port: 0 });
  const url = `ws://${listener.address}/`;
  const modes: Mode[] = ['binary frames', 'JSON request', 'JSON notification'];
  const cost: number[] = [];
  try {
    for (const m of modes) cost.push(await pushCost(url, m, pcm));
  } finally {
    await state.close();
    await listener.close();
  }
  console.log('\n## Voice\n');
  console.log(
    formatTable(
      ['recognizer', 'audio s', 'wall s', 'real-time factor', 'words'],
      [['PocketSphinx en-us', stt.audioS.toFixed(1), stt.wallS.toFixed(2), formatRatio(stt.wallS / stt.audioS), String(stt.words)]],
      ['left', 'right', 'right', 'right', 'right'],
    ),
  );
  console.log('');
  console.log(
    formatTable(
      ['synthesizer', 'first chunk ms', 'full stream ms', 'audio s'],
      tts.map((t, i) => [ttsNames[i]!, formatNumber(t.firstMs), formatNumber(t.fullMs), t.audioS.toFixed(2)]),
      ['left', 'right', 'right', 'right'],
    ),
  );
  console.log('');
  console.log(
    formatTable(
      [`push (${VOICE_SETTINGS.chunkMs} ms chunks, 16 kHz mono)`, 'CPU µs per s of audio', 'vs binary'],
      modes.map((m, i) => [m, formatNumber(cost[i]!), formatRatio(cost[i]! / cost[0]!)]),
      ['left', 'right', 'right'],
    ),
  );
}
