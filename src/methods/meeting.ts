import { z } from 'zod';
import { defineMethod, type MethodContext, type MethodSpec } from '../contract/index.js';
import { CarError } from '../util/errors.js';
import { defaultMeetingTitle, newMeetingId, type MeetingRecord, type MeetingSegment } from '../voice/index.js';
import { recordMetering } from './inference-common.js';
import { scopeOf } from './memory-common.js';
import { audioSource } from './voice.js';

const meetingId = z.string().min(1).max(128);

const SUMMARY_SYSTEM =
  'You summarize meeting transcripts. Write a short plain-text summary: the topics, any decisions, and action items with owners when named. Use only what the transcript says.';

function transcriptOf(segments: readonly MeetingSegment[]): string {
  return segments.map((s) => s.text).join(' ');
}

function view(record: MeetingRecord, segments: readonly MeetingSegment[]): Record<string, unknown> {
  return { ...record, transcript: transcriptOf(segments), segments };
}

/** A summary from a configured model, or the reason there is none (a meeting stops either way). */
async function summarize(
  ctx: MethodContext,
  segments: readonly MeetingSegment[],
  model: string | null,
): Promise<Pick<MeetingRecord, 'summary' | 'summary_model' | 'summary_omitted_reason'>> {
  if (segments.length === 0) return { summary_omitted_reason: 'the transcript is empty' };
  const lines = segments.map((s) => `[${s.role}] ${s.text}`).join('\n');
  try {
    const { result, metering } = await ctx.state.admission.withPermit(
      () =>
        ctx.state.inference.generate(
          { system: SUMMARY_SYSTEM, messages: [{ role: 'user', content: `Transcript:\n${lines}` }], max_tokens: 512 },
          { model, signal: ctx.signal, intent: { task: 'summarize' } },
        ),
      ctx.signal,
    );
    recordMetering(ctx, metering, 'meeting.stop');
    return { summary: result.text.trim(), summary_model: result.model_used };
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    return { summary_omitted_reason: `no model could summarize: ${err instanceof Error ? err.message : String(err)}` };
  }
}

const meetingStart = defineMethod({
  name: 'meeting.start',
  summary:
    'Start recording a meeting from an audio_source (pcm_push or a WAV file): its transcript is persisted and ingested into this session\'s memory; events flow as voice.event.',
  params: z
    .object({
      id: meetingId.optional(),
      audio_source: audioSource.optional(),
      sources: z.array(z.string().max(32)).max(8).optional(),
      title: z.string().min(1).max(512).optional(),
      model: z.string().min(1).max(256).optional(),
      language: z.string().min(1).max(32).optional(),
      persist_audio: z.boolean().optional(),
      diarizer: z.unknown().optional(),
      enrolled: z.unknown().optional(),
      options: z.object({ provider: z.string().min(1).max(64).optional() }).loose().optional(),
    })
    .loose(),
  handler: async (p, ctx) => {
    if (p.audio_source === undefined) {
      const capture = (p.sources ?? ['mic']).join(', ');
      throw new CarError('unavailable', `capturing ${capture} audio is not supported on this platform (${process.platform}); pass audio_source {kind: "pcm_push" | "file"}`, {
        field: 'audio_source',
        detail: { reason: 'unsupported_platform' },
      });
    }
    if (p.persist_audio === true) throw new CarError('unavailable', 'persist_audio is not supported by this daemon: only the transcript is kept', { field: 'persist_audio' });
    if ((p.diarizer !== undefined && p.diarizer !== false && p.diarizer !== null) || (p.enrolled !== undefined && p.enrolled !== false && p.enrolled !== null)) {
      throw new CarError('unavailable', `speaker diarization and enrollment are not supported on this platform (${process.platform})`, {
        detail: { reason: 'unsupported_platform' },
      });
    }
    const id = p.id ?? newMeetingId();
    const graph = await scopeOf(ctx);
    const title = p.title ?? defaultMeetingTitle(new Date());
    const record = await ctx.state.meetings.start({
      id,
      title,
      owner: ctx.session.clientId,
      source: p.audio_source,
      provider: p.options?.provider,
      language: p.language,
      model: p.model,
      upstream: ctx.session.voiceSink,
      front: (recorder) => ctx.session.memgineIngestSink(recorder, graph, { id, title }),
    });
    return { id: record.id, title: record.title, started_at: record.started_at, voice_session_ids: record.voice_session_ids };
  },
});

const meetingStop = defineMethod({
  name: 'meeting.stop',
  summary: 'Stop a meeting this connection started: the final transcript and segments, and a summary when asked (or the reason it was omitted).',
  params: z.object({ meeting_id: meetingId, summarize: z.boolean().optional(), model: z.string().min(1).max(256).optional() }).loose(),
  handler: async (p, ctx) => {
    const { record, segments } = await ctx.state.meetings.stop(ctx.session.clientId, p.meeting_id);
    if (p.summarize === true) {
      Object.assign(record, await summarize(ctx, segments, p.model ?? record.model));
      await ctx.state.meetings.save(record, segments);
    }
    return view(record, segments);
  },
});

const meetingList = defineMethod({
  name: 'meeting.list',
  summary: 'Every meeting (recording and finished, persisted ones included), newest first.',
  params: z.object({}).loose().nullish(),
  handler: (_p, ctx) => ctx.state.meetings.list(),
});

const meetingGet = defineMethod({
  name: 'meeting.get',
  summary: 'One meeting with its transcript and segments.',
  params: z.object({ meeting_id: meetingId }).loose(),
  handler: async (p, ctx) => {
    const { record, segments } = await ctx.state.meetings.get(p.meeting_id);
    return view(record, segments);
  },
});

export const meetingMethods: MethodSpec[] = [meetingStart, meetingStop, meetingList, meetingGet];
