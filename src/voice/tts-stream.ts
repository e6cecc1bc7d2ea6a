import { AudioFormat, encodeFrame, FrameType } from './codec.js';
import type { TtsOptions, TtsProvider, VoiceEventSink } from './types.js';

/** Largest audio chunk sent in one event or frame (a quarter second at 16 kHz). */
export const TTS_CHUNK_BYTES = 8000;

/**
 * One synthesis stream: the provider's audio cut into chunks and sent as `tts_chunk` events, or as
 * binary frames (0x02 chunks, 0x03 at the end, 0x04 on failure) when the client asked for them.
 */
export class TtsStream {
  readonly startedAt = new Date();
  state: 'running' | 'done' | 'failed' | 'cancelled' = 'running';
  seq = 0;
  audioBytes = 0;
  sampleRate = 0;
  private readonly abort = new AbortController();
  readonly done: Promise<void>;

  constructor(
    readonly id: string,
    readonly owner: string,
    readonly provider: TtsProvider,
    readonly text: string,
    options: TtsOptions,
    readonly binary: boolean,
    private readonly sink: VoiceEventSink,
  ) {
    this.done = provider.synthesize(text, options, { onAudio: (pcm, rate) => this.audio(pcm, rate) }, this.abort.signal).then(
      () => this.end(),
      (err: unknown) => this.failed(err),
    );
  }

  private audio(pcm: Buffer, rate: number): void {
    if (this.state !== 'running') return;
    this.sampleRate = rate;
    for (let at = 0; at < pcm.length; at += TTS_CHUNK_BYTES) this.chunk(pcm.subarray(at, at + TTS_CHUNK_BYTES), false);
  }

  private chunk(audio: Buffer, isFinal: boolean): void {
    const seq = this.seq++;
    this.audioBytes += audio.length;
    if (this.binary) {
      const type = isFinal ? FrameType.TtsEnd : FrameType.TtsChunk;
      this.sink.sendFrame(encodeFrame({ type, id: this.id, seq: BigInt(seq), format: AudioFormat.PcmS16le, payload: audio }));
      return;
    }
    this.sink.send(this.id, {
      type: 'tts_chunk',
      stream_id: this.id,
      seq,
      audio_b64: audio.toString('base64'),
      format: 'pcm_s16le',
      sample_rate: this.sampleRate,
      is_final: isFinal,
    });
  }

  private end(): void {
    if (this.state !== 'running') return;
    this.chunk(Buffer.alloc(0), true);
    this.state = 'done';
  }

  private failed(err: unknown): void {
    if (this.state !== 'running') return;
    this.state = 'failed';
    const message = err instanceof Error ? err.message : String(err);
    if (this.binary) {
      this.sink.sendFrame(encodeFrame({ type: FrameType.TtsError, id: this.id, seq: BigInt(this.seq++), format: 0, payload: Buffer.from(message, 'utf8') }));
    } else {
      this.sink.send(this.id, { type: 'error', stream_id: this.id, error: message });
    }
  }

  cancel(): boolean {
    if (this.state !== 'running') return false;
    this.state = 'cancelled';
    this.abort.abort();
    return true;
  }

  describe(): Record<string, unknown> {
    return {
      stream_id: this.id,
      provider: this.provider.id,
      state: this.state,
      binary_frames: this.binary,
      chunks: this.seq,
      audio_bytes: this.audioBytes,
      started_at: this.startedAt.toISOString(),
    };
  }
}
