/**
 * The voice engine's vocabulary: events, sinks and the provider interfaces. Nothing here knows
 * how events reach a client; whoever starts a stream hands it a sink.
 */

/** One event of a voice stream or turn; `type` names it (`transcript`, `tts_chunk`, `voice.turn.sidecar`, …). */
export type VoiceEvent = { type: string } & Record<string, unknown>;

/**
 * Where a stream's events go. `sessionId` is the STT session, TTS stream or `''` for a turn not
 * tied to a session. `sendFrame` carries binary frames (already encoded) and returns false when
 * they cannot be delivered.
 */
export interface VoiceEventSink {
  send(sessionId: string, event: VoiceEvent): void;
  sendFrame(frame: Uint8Array): boolean;
}

export type ProviderKind = 'stt' | 'tts';

/** What `voice.providers.list` reports for each provider. */
export interface ProviderInfo {
  id: string;
  kind: ProviderKind;
  available: boolean;
  description: string;
  /** Why it is not available (the missing program or model), when it is not. */
  reason?: string;
}

/** One recognised stretch of speech. Times are from the start of the stream. */
export interface Segment {
  text: string;
  start_ms: number;
  end_ms: number;
}

export interface SttCallbacks {
  onSegment(segment: Segment): void;
  /** The recognizer failed; no more segments will come. */
  onError(message: string): void;
}

/** A running recognizer fed 16 kHz mono s16le PCM. */
export interface SttRecognizer {
  write(pcm: Buffer): void;
  /** Bytes written and not yet taken by the recognizer. */
  readonly backlogBytes: number;
  /** No more audio; resolves once every segment has been reported. */
  finish(): Promise<void>;
  /** Stop at once, dropping what is pending. */
  kill(): void;
}

export interface SttOptions {
  language?: string | undefined;
}

export interface SttProvider {
  readonly id: string;
  info(): ProviderInfo;
  start(options: SttOptions, callbacks: SttCallbacks): SttRecognizer;
}

export interface TtsOptions {
  voice?: string | undefined;
  /** Words per minute, where the engine supports it. */
  rate?: number | undefined;
}

/** Synthesized audio as it is produced: s16le PCM at `sampleRate`, mono. */
export interface TtsCallbacks {
  onAudio(pcm: Buffer, sampleRate: number): void;
}

export interface TtsProvider {
  readonly id: string;
  info(): ProviderInfo;
  /** Resolves when synthesis finished (every chunk delivered); rejects on failure or abort. */
  synthesize(text: string, options: TtsOptions, callbacks: TtsCallbacks, signal: AbortSignal): Promise<void>;
}
