import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appendDurable, ensureDir, openAppend, writeFileAtomic } from '../util/durable-file.js';
import { CarError } from '../util/errors.js';
import type { VoiceService } from './service.js';
import type { AudioSource } from './stt-session.js';
import type { VoiceEvent, VoiceEventSink } from './types.js';

/** One transcript line of a meeting. */
export interface MeetingSegment {
  text: string;
  role: string;
  start_ms: number;
  end_ms: number;
  session_id: string;
}

export interface MeetingRecord {
  id: string;
  title: string;
  started_at: string;
  stopped_at: string | null;
  status: 'recording' | 'stopped' | 'interrupted';
  audio_source: AudioSource;
  voice_session_ids: string[];
  language: string | null;
  /** The model `meeting.stop {summarize: true}` uses; null routes by capability. */
  model: string | null;
  summary?: string;
  summary_model?: string;
  summary_omitted_reason?: string;
}

export interface MeetingLimits {
  /** Meetings recording at once. */
  maxActive: number;
  /** Finished meetings kept in memory when there is no meetings directory. */
  maxStoredInMemory: number;
}

export const DEFAULT_MEETING_LIMITS: MeetingLimits = { maxActive: 8, maxStoredInMemory: 256 };

const MEETING_ID = /^[A-Za-z0-9_.-]{1,128}$/;

export function defaultMeetingTitle(at: Date): string {
  return `Meeting ${at.toISOString().slice(0, 16).replace('T', ' ')}`;
}

export function newMeetingId(): string {
  return `meeting-${new Date().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
}

export interface StartMeeting {
  id: string;
  title?: string | undefined;
  owner: string;
  source: AudioSource;
  provider?: string | undefined;
  language?: string | undefined;
  model?: string | undefined;
  /** Where events go after they are recorded (the client that started it). */
  upstream: VoiceEventSink;
  /** Put a sink in front of the recorder (memory ingestion): ingest → persist → upstream. */
  front?: (recorder: VoiceEventSink) => VoiceEventSink & { drain(): Promise<void> };
}

interface Active {
  record: MeetingRecord;
  owner: string;
  segments: MeetingSegment[];
  /** Transcript appends in flight, in order. */
  writes: Promise<void>;
  front: (VoiceEventSink & { drain(): Promise<void> }) | null;
  writeError: unknown;
}

/**
 * Meetings: one transcription session per meeting whose transcript is recorded (appended and
 * fsynced per segment to `<dir>/<id>/transcript.jsonl`, metadata in `meeting.json`) on its way to
 * the client. Ids are daemon-wide; the files outlive the daemon.
 */
export class MeetingService {
  private readonly active = new Map<string, Active>();
  /** Finished meetings, when there is no directory to read them back from. */
  private readonly finished = new Map<string, { record: MeetingRecord; segments: MeetingSegment[] }>();

  constructor(
    private readonly voice: VoiceService,
    private readonly dir: string | null,
    private readonly limits: MeetingLimits = DEFAULT_MEETING_LIMITS,
  ) {}

  get meetingsDir(): string | null {
    return this.dir;
  }

  async start(req: StartMeeting): Promise<MeetingRecord> {
    if (!MEETING_ID.test(req.id)) throw new CarError('invalid', 'id must be 1-128 letters, digits, dot, dash or underscore', { field: 'id' });
    if (this.active.has(req.id) || (await this.exists(req.id))) throw new CarError('conflict', `meeting '${req.id}' already exists`, { field: 'id' });
    if (this.active.size >= this.limits.maxActive) {
      throw new CarError('limit', `too many meetings recording (limit ${this.limits.maxActive})`, { limit: this.limits.maxActive, detail: { reason: 'meetings' } });
    }
    const startedAt = new Date().toISOString();
    const record: MeetingRecord = {
      id: req.id,
      title: req.title ?? defaultMeetingTitle(new Date(startedAt)),
      started_at: startedAt,
      stopped_at: null,
      status: 'recording',
      audio_source: req.source,
      voice_session_ids: [],
      language: req.language ?? null,
      model: req.model ?? null,
    };
    const entry: Active = { record, owner: req.owner, segments: [], writes: Promise.resolve(), front: null, writeError: null };
    this.active.set(req.id, entry);
    try {
      if (this.dir !== null) {
        await ensureDir(join(this.dir, req.id));
        await this.writeRecord(record);
      }
      const recorder = this.recorder(entry, req.upstream);
      entry.front = req.front?.(recorder) ?? null;
      const session = await this.voice.startTranscription({
        sessionId: randomUUID().replaceAll('-', ''),
        owner: req.owner,
        source: req.source,
        provider: req.provider,
        options: { language: req.language },
        sink: entry.front ?? recorder,
      });
      record.voice_session_ids.push(session.id);
      if (this.dir !== null) await this.writeRecord(record);
    } catch (err) {
      this.active.delete(req.id);
      throw err;
    }
    return { ...record };
  }

  /** Record every transcript segment, then pass each event on unchanged. */
  private recorder(entry: Active, upstream: VoiceEventSink): VoiceEventSink {
    return {
      send: (sessionId: string, event: VoiceEvent) => {
        if (event.type === 'transcript') {
          const seg: MeetingSegment = {
            text: String(event.text),
            role: String(event.role ?? 'unknown'),
            start_ms: Number(event.start_ms ?? 0),
            end_ms: Number(event.end_ms ?? 0),
            session_id: sessionId,
          };
          entry.segments.push(seg);
          if (this.dir !== null) entry.writes = entry.writes.then(() => this.appendSegment(entry.record.id, seg)).catch((err) => void (entry.writeError ??= err));
        }
        upstream.send(sessionId, { ...event, meeting_id: entry.record.id });
      },
      sendFrame: (frame) => upstream.sendFrame(frame),
    };
  }

  private async appendSegment(id: string, seg: MeetingSegment): Promise<void> {
    const { fh } = await openAppend(join(this.dir!, id, 'transcript.jsonl'));
    try {
      await appendDurable(fh, Buffer.from(`${JSON.stringify(seg)}\n`, 'utf8'));
    } finally {
      await fh.close();
    }
  }

  private writeRecord(record: MeetingRecord): Promise<number> {
    return writeFileAtomic(join(this.dir!, record.id, 'meeting.json'), `${JSON.stringify(record, null, 2)}\n`);
  }

  /** The meeting's own connection, or anyone's? Only the starter may stop it. */
  private own(owner: string, id: string): Active {
    const entry = this.active.get(id);
    if (!entry || entry.owner !== owner) throw new CarError('not_found', `no meeting '${id}' recording on this connection`, { field: 'meeting_id' });
    return entry;
  }

  /** Stop recording: the last words are transcribed, recorded and ingested before this resolves. */
  async stop(owner: string, id: string): Promise<{ record: MeetingRecord; segments: MeetingSegment[] }> {
    const entry = this.own(owner, id);
    for (const sid of entry.record.voice_session_ids) await this.voice.stop(owner, sid).catch(() => undefined);
    return this.finish(entry, 'stopped');
  }

  private async finish(entry: Active, status: 'stopped' | 'interrupted'): Promise<{ record: MeetingRecord; segments: MeetingSegment[] }> {
    await entry.writes;
    await entry.front?.drain();
    this.active.delete(entry.record.id);
    entry.record.status = status;
    entry.record.stopped_at = new Date().toISOString();
    if (entry.writeError) throw new CarError('unavailable', `meeting transcript could not be written (${(entry.writeError as NodeJS.ErrnoException).code ?? 'EIO'})`);
    await this.save(entry.record, entry.segments);
    return { record: { ...entry.record }, segments: [...entry.segments] };
  }

  /** Write (or rewrite, with a summary) a finished meeting's metadata. */
  async save(record: MeetingRecord, segments: MeetingSegment[]): Promise<void> {
    if (this.dir !== null) {
      await this.writeRecord(record);
      return;
    }
    this.finished.delete(record.id);
    this.finished.set(record.id, { record: { ...record }, segments });
    while (this.finished.size > this.limits.maxStoredInMemory) this.finished.delete(this.finished.keys().next().value!);
  }

  /** A connection went away: its meetings end as `interrupted`, keeping what was said. */
  async closeOwner(owner: string): Promise<void> {
    for (const entry of [...this.active.values()]) {
      if (entry.owner === owner) await this.finish(entry, 'interrupted').catch(() => undefined);
    }
  }

  async get(id: string): Promise<{ record: MeetingRecord; segments: MeetingSegment[] }> {
    if (!MEETING_ID.test(id)) throw new CarError('invalid', 'meeting_id is not a meeting id', { field: 'meeting_id' });
    const live = this.active.get(id);
    if (live) return { record: { ...live.record }, segments: [...live.segments] };
    const kept = this.finished.get(id);
    if (kept) return { record: { ...kept.record }, segments: [...kept.segments] };
    if (this.dir !== null) {
      try {
        const record = JSON.parse(await readFile(join(this.dir, id, 'meeting.json'), 'utf8')) as MeetingRecord;
        const lines = await readFile(join(this.dir, id, 'transcript.jsonl'), 'utf8').catch(() => '');
        const segments = lines
          .split('\n')
          .filter((l) => l.trim() !== '')
          .flatMap((l) => {
            try {
              return [JSON.parse(l) as MeetingSegment];
            } catch {
              return []; // a torn last line after a crash
            }
          });
        return { record, segments };
      } catch {
        // fall through
      }
    }
    throw new CarError('not_found', `no meeting '${id}'`, { field: 'meeting_id' });
  }

  private async exists(id: string): Promise<boolean> {
    if (this.finished.has(id)) return true;
    if (this.dir === null) return false;
    try {
      await readFile(join(this.dir, id, 'meeting.json'));
      return true;
    } catch {
      return false;
    }
  }

  /** Every meeting, newest first. */
  async list(): Promise<MeetingRecord[]> {
    const out = new Map<string, MeetingRecord>();
    for (const { record } of this.finished.values()) out.set(record.id, { ...record });
    if (this.dir !== null) {
      const names = await readdir(this.dir).catch(() => [] as string[]);
      for (const name of names) {
        if (!MEETING_ID.test(name) || out.has(name)) continue;
        try {
          out.set(name, JSON.parse(await readFile(join(this.dir, name, 'meeting.json'), 'utf8')) as MeetingRecord);
        } catch {
          // not a meeting directory
        }
      }
    }
    for (const { record } of this.active.values()) out.set(record.id, { ...record });
    return [...out.values()].sort((a, b) => b.started_at.localeCompare(a.started_at));
  }
}
