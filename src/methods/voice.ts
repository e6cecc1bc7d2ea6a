import { z } from 'zod';
import { defineMethod, type MethodSpec } from '../contract/index.js';
import { CarError } from '../util/errors.js';

const sessionId = z.string().min(1).max(128);

export const audioSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('pcm_push'), sample_rate: z.number().int().min(4000).max(192_000), channels: z.number().int().min(1).max(8) }),
  z.object({ kind: z.literal('file'), path: z.string().min(1).max(4096) }),
]);

const sttOptions = z
  .object({ provider: z.string().min(1).max(64).optional(), language: z.string().min(1).max(32).optional() })
  .loose()
  .optional();

const providersList = defineMethod({
  name: 'voice.providers.list',
  summary: 'Speech providers (stt and tts) with whether each can run here, and why not.',
  params: z.object({}).loose().nullish(),
  result: z.array(z.object({ id: z.string(), kind: z.enum(['stt', 'tts']), available: z.boolean(), description: z.string(), reason: z.string().optional() })),
  handler: (_p, ctx) => ctx.state.voice.providers(),
});

const transcribeStart = defineMethod({
  name: 'voice.transcribe_stream.start',
  summary:
    'Open a transcription session on pushed PCM (JSON push or binary frames when the id is 32 hex digits) or a WAV file; voice.event notifications go to this connection only.',
  params: z.object({ session_id: sessionId.optional(), audio_source: audioSource, options: sttOptions }).loose(),
  handler: async (p, ctx) => {
    const s = await ctx.state.voice.startTranscription({
      sessionId: p.session_id,
      owner: ctx.session.clientId,
      source: p.audio_source,
      provider: p.options?.provider,
      options: { language: p.options?.language },
      sink: ctx.session.voiceSink,
    });
    return { session_id: s.id, provider: s.provider, audio_source: p.audio_source };
  },
});

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

const transcribePush = defineMethod({
  name: 'voice.transcribe_stream.push',
  summary: 'Feed base64 s16le PCM (at the session rate and channel count) to a pcm_push session.',
  params: z.object({ session_id: sessionId, pcm_b64: z.string().regex(B64, 'must be base64') }).loose(),
  handler: (p, ctx) => {
    const pcm = Buffer.from(p.pcm_b64, 'base64');
    if (pcm.length % 2 !== 0) throw new CarError('invalid', 'pcm_b64 must hold whole 16-bit samples', { field: 'pcm_b64' });
    ctx.state.voice.push(ctx.session.clientId, p.session_id, pcm);
    return { accepted: pcm.length };
  },
});

const transcribeStop = defineMethod({
  name: 'voice.transcribe_stream.stop',
  summary: 'End a session: waits for the last words and answers with the final transcript and its segments.',
  params: z.object({ session_id: sessionId }).loose(),
  handler: (p, ctx) => ctx.state.voice.stop(ctx.session.clientId, p.session_id),
});

const sessionsList = defineMethod({
  name: 'voice.sessions.list',
  summary: "This connection's open transcription sessions.",
  params: z.object({}).loose().nullish(),
  handler: (_p, ctx) => ctx.state.voice.listSessions(ctx.session.clientId),
});

const ttsOptions = z
  .object({
    provider: z.string().min(1).max(64).optional(),
    voice: z.string().min(1).max(64).regex(/^[\w.+-]+$/, 'letters, digits, . + - and _ only').optional(),
    rate: z.number().min(40).max(600).optional(),
    binary_frames: z.boolean().optional(),
  })
  .loose()
  .optional();

const ttsStart = defineMethod({
  name: 'voice.tts_stream.start',
  summary: 'Speak text as a stream: tts_chunk voice.events {stream_id, seq, audio_b64, format, is_final}, or binary frames with binary_frames.',
  params: z.object({ stream_id: sessionId.optional(), text: z.string(), options: ttsOptions, binary_frames: z.boolean().optional() }).loose(),
  handler: (p, ctx) => {
    const binary = p.options?.binary_frames ?? p.binary_frames ?? false;
    const s = ctx.state.voice.startSynthesis({
      streamId: p.stream_id,
      owner: ctx.session.clientId,
      text: p.text,
      provider: p.options?.provider,
      options: { voice: p.options?.voice, rate: p.options?.rate },
      binary,
      sink: ctx.session.voiceSink,
    });
    return { stream_id: s.id, provider: s.provider.id, binary_frames: binary, format: 'pcm_s16le' };
  },
});

const ttsCancel = defineMethod({
  name: 'voice.tts_stream.cancel',
  summary: 'Stop a running synthesis stream of this connection; {stream_id, cancelled: false} when there is none by that id.',
  params: z.object({ stream_id: sessionId }).loose(),
  handler: (p, ctx) => ({ stream_id: p.stream_id, cancelled: ctx.state.voice.cancelSynthesis(ctx.session.clientId, p.stream_id) }),
});

const ttsList = defineMethod({
  name: 'voice.tts_stream.list',
  summary: "This connection's synthesis streams (running, and recently finished): their ids in streams, each stream's state in details.",
  params: z.object({}).loose().nullish(),
  handler: (_p, ctx) => {
    const details = ctx.state.voice.listSynthesis(ctx.session.clientId);
    return { streams: details.map((d) => d.stream_id), details };
  },
});

/** Methods that need speaker models or Apple/NVIDIA engines this daemon does not have. */
const UNSUPPORTED = ['voice.enroll_speaker', 'voice.list_enrollments', 'voice.remove_enrollment', 'voice.prepare_parakeet', 'voice.prepare_diarizer'];

function unsupported(name: string): MethodSpec {
  return defineMethod({
    name,
    summary: `${name}: needs a speaker or diarization model this daemon does not ship; answers "unsupported on this platform".`,
    params: z.object({}).loose().nullish(),
    handler() {
      throw new CarError('unavailable', `'${name}' is not supported on this platform (${process.platform}): no speaker enrollment or diarization engine is available`, {
        detail: { reason: 'unsupported_platform' },
      });
    },
  });
}

export const voiceMethods: MethodSpec[] = [
  providersList,
  transcribeStart,
  transcribePush,
  transcribeStop,
  sessionsList,
  ttsStart,
  ttsCancel,
  ttsList,
  ...UNSUPPORTED.map(unsupported),
];
