import type { FactInput } from '../memory/types.js';
import type { Logger } from '../util/logger.js';
import type { VoiceEvent, VoiceEventSink } from '../voice/types.js';
import type { ServerChannel } from './channel.js';

/**
 * A voice stream's events as `voice.event {session_id, event}` notifications, and its audio as
 * binary frames, to the one connection that started the stream.
 */
export class WsVoiceEventSink implements VoiceEventSink {
  constructor(readonly channel: ServerChannel) {}

  send(sessionId: string, event: VoiceEvent): void {
    this.channel.notify('voice.event', { session_id: sessionId, event });
  }

  sendFrame(frame: Uint8Array): boolean {
    return this.channel.sendBinary(frame);
  }
}

/** What the ingest sink needs of a memory graph. */
export interface IngestTarget {
  addFact(fact: FactInput, origin?: string | null): Promise<unknown>;
}

/**
 * A meeting's fan-out sink: every `transcript` event's text becomes a conversation fact in the
 * session's memory graph, and every event goes on to `next` unchanged. Ingestion runs in order in
 * the background; `drain()` resolves once all of it is in the graph.
 */
export class WsMemgineIngestSink implements VoiceEventSink {
  private pending: Promise<void> = Promise.resolve();
  /** Facts added so far. */
  ingested = 0;

  constructor(
    private readonly next: VoiceEventSink,
    private readonly graph: IngestTarget,
    private readonly meeting: { id: string; title: string },
    private readonly origin: string,
    private readonly logger: Logger,
  ) {}

  send(sessionId: string, event: VoiceEvent): void {
    if (event.type === 'transcript' && typeof event.text === 'string' && event.text.trim() !== '') {
      const fact: FactInput = {
        subject: `meeting: ${this.meeting.title}`,
        body: event.text,
        kind: 'pattern',
        memory_type: 'conversation',
        source: 'meeting',
        tags: ['meeting', this.meeting.id, String(event.role ?? 'unknown')],
      };
      this.pending = this.pending
        .then(() => this.graph.addFact(fact, this.origin))
        .then(
          () => void this.ingested++,
          (err: unknown) => this.logger.warn({ err, meeting_id: this.meeting.id }, 'meeting transcript not ingested into memory'),
        );
    }
    this.next.send(sessionId, event);
  }

  sendFrame(frame: Uint8Array): boolean {
    return this.next.sendFrame(frame);
  }

  drain(): Promise<void> {
    return this.pending;
  }
}
