import { CarError } from '../util/errors.js';
import { PcmConverter } from './pcm.js';
import type { Segment, SttRecognizer, VoiceEventSink } from './types.js';

export type AudioSource = { kind: 'pcm_push'; sample_rate: number; channels: number } | { kind: 'file'; path: string };

export interface SttSessionLimits {
  /** Audio bytes (as pushed) one session takes in over its life. */
  maxAudioBytes: number;
  /** Converted audio waiting for the recognizer; a push past it is refused. */
  maxBufferedBytes: number;
}

export type SttSessionState = 'running' | 'finishing' | 'done' | 'failed';

export interface SttResult {
  session_id: string;
  transcript: string;
  segments: Segment[];
  duration_ms: number;
  audio_bytes: number;
  error?: string;
}

/**
 * One transcription stream: audio in (pushed or read from a file), converted to what the
 * recognizer takes, and its segments out to the sink as `speech_start`, `speech_end`, `transcript`,
 * then `done` (or `error`).
 */
export class SttSession {
  readonly startedAt = new Date();
  state: SttSessionState = 'running';
  readonly segments: Segment[] = [];
  audioBytes = 0;
  private lastSeq: bigint | null = null;
  private error: string | undefined;
  private finished: Promise<void> | null = null;
  private readonly converter: PcmConverter;

  constructor(
    readonly id: string,
    /** The connection that started it; only it may push or stop. */
    readonly owner: string,
    readonly provider: string,
    readonly source: AudioSource,
    private readonly recognizer: SttRecognizer,
    private readonly sink: VoiceEventSink,
    private readonly limits: SttSessionLimits,
    /** Role of the voice in transcripts (`unknown` when nobody was enrolled). */
    private readonly role = 'unknown',
  ) {
    const rate = source.kind === 'pcm_push' ? source.sample_rate : 16_000;
    const channels = source.kind === 'pcm_push' ? source.channels : 1;
    this.converter = new PcmConverter(rate, channels);
  }

  /** Wired by the service: the recognizer's callbacks land here. */
  segment(seg: Segment): void {
    this.segments.push(seg);
    this.sink.send(this.id, { type: 'speech_start', session_id: this.id, offset_ms: seg.start_ms });
    this.sink.send(this.id, { type: 'speech_end', session_id: this.id, offset_ms: seg.end_ms });
    this.sink.send(this.id, {
      type: 'transcript',
      session_id: this.id,
      text: seg.text,
      duration_ms: seg.end_ms - seg.start_ms,
      role: this.role,
      start_ms: seg.start_ms,
      end_ms: seg.end_ms,
    });
  }

  fail(message: string): void {
    if (this.state === 'done' || this.state === 'failed') return;
    this.state = 'failed';
    this.error = message;
    this.sink.send(this.id, { type: 'error', session_id: this.id, error: message });
  }

  /** Pushed PCM (interleaved s16le at the source's rate); `seq` when it came in a binary frame. */
  push(pcm: Buffer, seq?: bigint): void {
    if (this.state !== 'running') throw new CarError('conflict', `voice session ${this.id} is ${this.state}, not accepting audio`, { field: 'session_id' });
    if (seq !== undefined) {
      if (this.lastSeq !== null && seq <= this.lastSeq) {
        throw new CarError('invalid', `frame seq ${seq} for session ${this.id} is not after ${this.lastSeq}`, { field: 'seq' });
      }
      this.lastSeq = seq;
    }
    this.take(pcm);
  }

  /** Feed audio, within the session's bounds. */
  take(pcm: Buffer): void {
    if (this.audioBytes + pcm.length > this.limits.maxAudioBytes) {
      throw new CarError('limit', `voice session ${this.id} reached its audio limit of ${this.limits.maxAudioBytes} bytes`, {
        limit: this.limits.maxAudioBytes,
        detail: { reason: 'voice_audio_bytes' },
      });
    }
    const converted = this.converter.push(pcm);
    if (this.recognizer.backlogBytes + converted.length > this.limits.maxBufferedBytes) {
      throw new CarError('limit', `voice session ${this.id} has ${this.recognizer.backlogBytes} bytes waiting for the recognizer; the bound is ${this.limits.maxBufferedBytes}`, {
        limit: this.limits.maxBufferedBytes,
        detail: { reason: 'voice_buffer_full' },
      });
    }
    this.audioBytes += pcm.length;
    if (converted.length > 0) this.recognizer.write(converted);
  }

  /** End of audio: wait for the last segments, then `done`. Idempotent. */
  finish(): Promise<void> {
    this.finished ??= (async () => {
      if (this.state === 'running') this.state = 'finishing';
      await this.recognizer.finish();
      if (this.state === 'failed') return;
      this.state = 'done';
      this.sink.send(this.id, { type: 'done', session_id: this.id, transcript: this.transcript, duration_ms: this.durationMs });
    })();
    return this.finished;
  }

  kill(): void {
    this.recognizer.kill();
    if (this.state === 'running' || this.state === 'finishing') this.state = 'failed';
  }

  get transcript(): string {
    return this.segments.map((s) => s.text).join(' ');
  }

  get durationMs(): number {
    return this.segments.length === 0 ? 0 : this.segments[this.segments.length - 1]!.end_ms;
  }

  result(): SttResult {
    return {
      session_id: this.id,
      transcript: this.transcript,
      segments: [...this.segments],
      duration_ms: this.durationMs,
      audio_bytes: this.audioBytes,
      ...(this.error !== undefined && { error: this.error }),
    };
  }

  describe(): Record<string, unknown> {
    return {
      session_id: this.id,
      provider: this.provider,
      audio_source: this.source,
      state: this.state,
      started_at: this.startedAt.toISOString(),
      audio_bytes: this.audioBytes,
      segments: this.segments.length,
    };
  }
}
