import { randomUUID } from 'node:crypto';
import { open } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { CarError } from '../util/errors.js';
import { isFrameId } from './codec.js';
import { parseWavHeader } from './pcm.js';
import { DEFAULT_POCKETSPHINX_MODEL_DIR, PocketSphinxStt } from './stt-pocketsphinx.js';
import { SttSession, type AudioSource, type SttResult } from './stt-session.js';
import { localTtsProviders } from './tts-local.js';
import { TtsStream } from './tts-stream.js';
import type { ProviderInfo, SttOptions, SttProvider, TtsOptions, TtsProvider, VoiceEventSink } from './types.js';

export const DEFAULT_VOICE_SEARCH_PATH: readonly string[] = ['/usr/local/bin', '/usr/bin', '/bin'];

export interface VoiceLimits {
  /** Transcription sessions open at once, daemon-wide. */
  maxSessions: number;
  /** Audio bytes one transcription session takes in over its life (a file source: its size). */
  maxSessionAudioBytes: number;
  /** Converted audio waiting for the recognizer, per session. */
  maxBufferedBytes: number;
  /** Synthesis streams running at once, daemon-wide. */
  maxTtsStreams: number;
  /** Longest text (UTF-8 bytes) one synthesis stream speaks. */
  maxTtsTextBytes: number;
}

export const DEFAULT_VOICE_LIMITS: VoiceLimits = {
  maxSessions: 32,
  maxSessionAudioBytes: 512 * 1024 * 1024,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxTtsStreams: 32,
  maxTtsTextBytes: 64 * 1024,
};

export interface VoiceServiceOptions {
  limits?: Partial<VoiceLimits>;
  /** Directories searched for the engines' programs. */
  searchPath?: readonly string[];
  /** PocketSphinx's model directory (Debian: /usr/share/pocketsphinx/model/en-us). */
  pocketsphinxModelDir?: string;
  /** Extra providers (whisper-class, cloud): same interfaces, picked by `options.provider`. */
  sttProviders?: readonly SttProvider[];
  ttsProviders?: readonly TtsProvider[];
}

export interface StartTranscription {
  sessionId?: string | undefined;
  owner: string;
  source: AudioSource;
  provider?: string | undefined;
  options?: SttOptions;
  sink: VoiceEventSink;
  role?: string;
}

export interface StartSynthesis {
  streamId?: string | undefined;
  owner: string;
  text: string;
  provider?: string | undefined;
  options?: TtsOptions;
  binary: boolean;
  sink: VoiceEventSink;
}

/**
 * Speech in and out, free of any wire protocol: the providers, the transcription sessions (ids are
 * daemon-wide, each owned by the connection that started it) and the synthesis streams.
 */
export class VoiceService {
  readonly limits: VoiceLimits;
  private readonly stt = new Map<string, SttProvider>();
  private readonly tts = new Map<string, TtsProvider>();
  private readonly sessions = new Map<string, SttSession>();
  private readonly streams = new Map<string, TtsStream>();

  constructor(options: VoiceServiceOptions = {}) {
    this.limits = { ...DEFAULT_VOICE_LIMITS, ...options.limits };
    const searchPath = options.searchPath ?? DEFAULT_VOICE_SEARCH_PATH;
    for (const p of [new PocketSphinxStt(searchPath, options.pocketsphinxModelDir ?? DEFAULT_POCKETSPHINX_MODEL_DIR), ...(options.sttProviders ?? [])]) {
      this.stt.set(p.id, p);
    }
    for (const p of [...localTtsProviders(searchPath), ...(options.ttsProviders ?? [])]) this.tts.set(p.id, p);
  }

  providers(): ProviderInfo[] {
    return [...[...this.stt.values()].map((p) => p.info()), ...[...this.tts.values()].map((p) => p.info())];
  }

  private sttProvider(id = 'local'): SttProvider {
    const p = this.stt.get(id);
    if (!p) throw new CarError('invalid', `unknown STT provider '${id}' (known: ${[...this.stt.keys()].join(', ')})`, { field: 'options.provider' });
    return p;
  }

  private ttsProvider(id = 'local'): TtsProvider {
    const p = this.tts.get(id);
    if (!p) throw new CarError('invalid', `unknown TTS provider '${id}' (known: ${[...this.tts.keys()].join(', ')})`, { field: 'options.provider' });
    const info = p.info();
    if (!info.available) throw new CarError('unavailable', `TTS provider '${id}' is not available: ${info.reason}`, { field: 'options.provider' });
    return p;
  }

  /** Open a transcription session. A file source is read and fed at once; its `done` follows. */
  async startTranscription(req: StartTranscription): Promise<SttSession> {
    const id = req.sessionId ?? randomUUID().replaceAll('-', '');
    if (this.sessions.has(id)) throw new CarError('conflict', `voice session ${id} is already open`, { field: 'session_id' });
    if (this.sessions.size >= this.limits.maxSessions) {
      throw new CarError('limit', `too many voice sessions open (limit ${this.limits.maxSessions})`, { limit: this.limits.maxSessions, detail: { reason: 'voice_sessions' } });
    }
    const provider = this.sttProvider(req.provider);
    const file = req.source.kind === 'file' ? await this.readWav(req.source.path) : null;
    // Re-checked: the file read awaited.
    if (this.sessions.has(id)) throw new CarError('conflict', `voice session ${id} is already open`, { field: 'session_id' });
    if (this.sessions.size >= this.limits.maxSessions) {
      throw new CarError('limit', `too many voice sessions open (limit ${this.limits.maxSessions})`, { limit: this.limits.maxSessions, detail: { reason: 'voice_sessions' } });
    }
    let session: SttSession | undefined;
    const recognizer = provider.start(req.options ?? {}, {
      onSegment: (seg) => session?.segment(seg),
      onError: (message) => session?.fail(message),
    });
    const source: AudioSource = file === null ? req.source : { kind: 'pcm_push', sample_rate: file.sampleRate, channels: file.channels };
    session = new SttSession(id, req.owner, provider.id, source, recognizer, req.sink, {
      maxAudioBytes: this.limits.maxSessionAudioBytes,
      maxBufferedBytes: Math.max(this.limits.maxBufferedBytes, file?.pcm.length ?? 0),
    }, req.role);
    this.sessions.set(id, session);
    if (file !== null) {
      try {
        session.take(file.pcm);
      } catch (err) {
        session.kill();
        this.sessions.delete(id);
        throw err;
      }
      void session.finish();
    }
    return session;
  }

  private async readWav(path: string): Promise<{ pcm: Buffer; sampleRate: number; channels: number }> {
    if (!isAbsolute(path)) throw new CarError('invalid', 'audio_source.path must be an absolute path', { field: 'audio_source.path' });
    let data: Buffer;
    try {
      const fh = await open(path, 'r');
      try {
        const { size } = await fh.stat();
        if (size > this.limits.maxSessionAudioBytes + 1024) {
          throw new CarError('limit', `audio file is ${size} bytes; a voice session takes at most ${this.limits.maxSessionAudioBytes}`, {
            limit: this.limits.maxSessionAudioBytes,
            field: 'audio_source.path',
            detail: { reason: 'voice_audio_bytes' },
          });
        }
        data = await fh.readFile();
      } finally {
        await fh.close();
      }
    } catch (err) {
      if (err instanceof CarError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      throw new CarError(code === 'ENOENT' ? 'not_found' : 'invalid', `audio_source.path cannot be read (${code})`, { field: 'audio_source.path' });
    }
    const wav = parseWavHeader(data, 'audio_source.path');
    if (wav === null) throw new CarError('invalid', 'audio_source.path: truncated WAV header', { field: 'audio_source.path' });
    const end = Math.min(data.length, wav.dataOffset + wav.dataBytes);
    return { pcm: data.subarray(wav.dataOffset, end - ((end - wav.dataOffset) % 2)), sampleRate: wav.sampleRate, channels: wav.channels };
  }

  /** The session `id`, if `owner` holds it. */
  session(owner: string, id: string): SttSession {
    const s = this.sessions.get(id);
    if (!s || s.owner !== owner) throw new CarError('not_found', `no voice session '${id}' on this connection`, { field: 'session_id' });
    return s;
  }

  push(owner: string, id: string, pcm: Buffer, seq?: bigint): void {
    const s = this.session(owner, id);
    if (s.source.kind !== 'pcm_push') throw new CarError('conflict', `voice session ${id} does not take pushed audio`, { field: 'session_id' });
    s.push(pcm, seq);
  }

  /** End a session's audio, wait for its final transcript, and forget it. */
  async stop(owner: string, id: string): Promise<SttResult> {
    const s = this.session(owner, id);
    try {
      await s.finish();
    } finally {
      this.sessions.delete(id);
    }
    return s.result();
  }

  listSessions(owner: string): Record<string, unknown>[] {
    return [...this.sessions.values()].filter((s) => s.owner === owner).map((s) => s.describe());
  }

  get openSessions(): number {
    return this.sessions.size;
  }

  startSynthesis(req: StartSynthesis): TtsStream {
    const id = req.streamId ?? randomUUID().replaceAll('-', '');
    if (req.binary && !isFrameId(id)) {
      throw new CarError('invalid', 'stream_id must be 32 lowercase hex digits (a UUID without dashes) when binary_frames is on', { field: 'stream_id' });
    }
    const bytes = Buffer.byteLength(req.text, 'utf8');
    if (bytes > this.limits.maxTtsTextBytes) {
      throw new CarError('limit', `text is ${bytes} bytes; a synthesis stream speaks at most ${this.limits.maxTtsTextBytes}`, {
        field: 'text',
        limit: this.limits.maxTtsTextBytes,
        detail: { reason: 'tts_text_bytes' },
      });
    }
    if (req.text.trim().length === 0) throw new CarError('invalid', 'text is empty', { field: 'text' });
    const existing = this.streams.get(id);
    if (existing?.state === 'running') throw new CarError('conflict', `synthesis stream ${id} is already running`, { field: 'stream_id' });
    this.reapStreams();
    if (this.runningStreams >= this.limits.maxTtsStreams) {
      throw new CarError('limit', `too many synthesis streams running (limit ${this.limits.maxTtsStreams})`, { limit: this.limits.maxTtsStreams, detail: { reason: 'tts_streams' } });
    }
    const provider = this.ttsProvider(req.provider);
    const stream = new TtsStream(id, req.owner, provider, req.text, req.options ?? {}, req.binary, req.sink);
    this.streams.set(id, stream);
    void stream.done.then(() => this.reapStreams());
    return stream;
  }

  private get runningStreams(): number {
    let n = 0;
    for (const s of this.streams.values()) if (s.state === 'running') n++;
    return n;
  }

  /** Finished streams stay listed until the next start, and only while under the stream bound. */
  private reapStreams(): void {
    for (const [id, s] of this.streams) {
      if (this.streams.size <= this.limits.maxTtsStreams) break;
      if (s.state !== 'running') this.streams.delete(id);
    }
  }

  cancelSynthesis(owner: string, id: string): boolean {
    const s = this.streams.get(id);
    if (!s || s.owner !== owner) return false;
    return s.cancel();
  }

  listSynthesis(owner: string): Record<string, unknown>[] {
    return [...this.streams.values()].filter((s) => s.owner === owner).map((s) => s.describe());
  }

  /** A connection went away: its sessions and streams stop at once. */
  closeOwner(owner: string): void {
    for (const [id, s] of this.sessions) {
      if (s.owner !== owner) continue;
      s.kill();
      this.sessions.delete(id);
    }
    for (const [id, s] of this.streams) {
      if (s.owner !== owner) continue;
      s.cancel();
      this.streams.delete(id);
    }
  }
}
