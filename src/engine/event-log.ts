import { randomUUID } from 'node:crypto';

/** One thing the runtime did, as recorded in a session's event log. */
export interface RuntimeEvent {
  /** Position in this log, from 0; never reused. */
  seq: number;
  id: string;
  kind: string;
  timestamp: string;
  proposal_id?: string;
  action_id?: string;
  data: Record<string, unknown>;
}

export interface EventFields {
  proposal_id?: string | undefined;
  action_id?: string | undefined;
  data?: Record<string, unknown>;
}

/** A session's append-only record of what the engine did. */
export class EventLog {
  private readonly events: RuntimeEvent[] = [];
  private nextSeq = 0;

  append(kind: string, fields: EventFields = {}): RuntimeEvent {
    const event: RuntimeEvent = {
      seq: this.nextSeq++,
      id: randomUUID(),
      kind,
      timestamp: new Date().toISOString(),
      data: fields.data ?? {},
    };
    if (fields.proposal_id !== undefined) event.proposal_id = fields.proposal_id;
    if (fields.action_id !== undefined) event.action_id = fields.action_id;
    this.events.push(event);
    return event;
  }

  get count(): number {
    return this.events.length;
  }

  /** Oldest first. */
  all(): readonly RuntimeEvent[] {
    return this.events;
  }
}
