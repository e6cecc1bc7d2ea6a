import { jsonEqual } from '../json-equal.js';
import type { RuntimeEvent } from '../event-log.js';
import { wireKind } from '../event-kinds.js';

/** How many events `events.query` returns when the caller sets no `limit`. */
export const DEFAULT_QUERY_LIMIT = 100;

/** Every field narrows the result; fields left out match everything. */
export interface EventFilter {
  /** Any of these kinds, in snake_case or PascalCase; an empty list is the same as leaving it out. */
  kinds?: readonly string[] | undefined;
  action_id?: string | undefined;
  proposal_id?: string | undefined;
  /** Epoch milliseconds, inclusive. */
  since?: number | undefined;
  /** Epoch milliseconds, exclusive. */
  until?: number | undefined;
  /** Top-level `data` fields that must be present and JSON-equal to these values. */
  data_matches?: Readonly<Record<string, unknown>> | undefined;
  /** Most events returned; 0 means no limit. Defaults to DEFAULT_QUERY_LIMIT. */
  limit?: number | undefined;
}

/** Matching events, newest first. */
export function queryEvents(events: readonly RuntimeEvent[], filter: EventFilter = {}): RuntimeEvent[] {
  const limit = filter.limit ?? DEFAULT_QUERY_LIMIT;
  const max = limit === 0 ? Infinity : limit;
  const kinds = filter.kinds !== undefined && filter.kinds.length > 0 ? new Set(filter.kinds.map(wireKind)) : null;
  const matches = filter.data_matches === undefined ? [] : Object.entries(filter.data_matches);
  const timed = filter.since !== undefined || filter.until !== undefined;
  const out: RuntimeEvent[] = [];
  for (let i = events.length - 1; i >= 0 && out.length < max; i--) {
    const event = events[i]!;
    if (kinds !== null && !kinds.has(wireKind(event.kind))) continue;
    if (filter.action_id !== undefined && event.action_id !== filter.action_id) continue;
    if (filter.proposal_id !== undefined && event.proposal_id !== filter.proposal_id) continue;
    if (timed) {
      const at = Date.parse(event.timestamp);
      if (filter.since !== undefined && !(at >= filter.since)) continue;
      if (filter.until !== undefined && !(at < filter.until)) continue;
    }
    if (!matches.every(([key, value]) => Object.hasOwn(event.data, key) && jsonEqual(event.data[key], value))) continue;
    out.push(event);
  }
  return out;
}
