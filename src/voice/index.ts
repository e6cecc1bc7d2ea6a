export * from './codec.js';
export * from './pcm.js';
export * from './types.js';
export * from './service.js';
export { SttSession, type AudioSource, type SttResult } from './stt-session.js';
export { TtsStream, TTS_CHUNK_BYTES } from './tts-stream.js';
export { PocketSphinxStt, DEFAULT_POCKETSPHINX_MODEL_DIR } from './stt-pocketsphinx.js';
export { localTtsProviders, FLITE_DEFAULT_VOICE } from './tts-local.js';
export { MeetingService, newMeetingId, defaultMeetingTitle, DEFAULT_MEETING_LIMITS, type MeetingRecord, type MeetingSegment, type MeetingLimits } from './meetings.js';
