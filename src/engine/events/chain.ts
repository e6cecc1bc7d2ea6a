import { createHash } from 'node:crypto';
import type { RuntimeEvent } from '../event-log.js';
import { canonicalJson } from '../../util/canonical-json.js';

/** `prev_hash` of the first event chained after `events.chain.enable`. */
export const GENESIS_HASH = '0'.repeat(64);

export type ChainVerdict = { verified: number } | { tampered_at: number };

/** SHA-256 (hex) over the predecessor's hash and the canonical JSON of the event minus `hash`. */
export function eventHash(event: RuntimeEvent): string {
  const { hash: _ignored, ...body } = event;
  return createHash('sha256')
    .update(body.prev_hash ?? '')
    .update('\n')
    .update(canonicalJson(body))
    .digest('hex');
}

function isChained(event: RuntimeEvent): boolean {
  return event.hash !== undefined || event.prev_hash !== undefined;
}

/**
 * Walk the log oldest first and check every chained event: its hash matches its content and its
 * `prev_hash` is the hash of the chained event just before it. Events older than the first chained
 * one (appended before the chain was enabled) are not covered.
 *
 * The first chained event is the anchor. At position 0 its `prev_hash` is taken on trust, because
 * retention may have dropped its predecessor; anywhere else it must be the genesis hash. So an edit,
 * a deletion or a reorder anywhere is found, but cutting events off either end is not: a log
 * missing its oldest or newest events is indistinguishable from one that retention trimmed or
 * that simply stopped earlier. Positions in the verdict are 0-based, oldest first.
 */
export function verifyChain(events: readonly RuntimeEvent[]): ChainVerdict {
  let previous: string | null = null;
  let verified = 0;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    if (!isChained(event)) {
      if (previous !== null) return { tampered_at: i };
      continue;
    }
    if (typeof event.hash !== 'string' || typeof event.prev_hash !== 'string') return { tampered_at: i };
    if (previous === null ? i > 0 && event.prev_hash !== GENESIS_HASH : event.prev_hash !== previous) {
      return { tampered_at: i };
    }
    if (eventHash(event) !== event.hash) return { tampered_at: i };
    previous = event.hash;
    verified++;
  }
  return { verified };
}
