import { CarError } from '../util/errors.js';
import type { VoiceEvent, VoiceEventSink } from './types.js';

/**
 * The default voice prompt overlay: what makes a model's answer fit for speaking. `null` (or no
 * overlay) means this one, `""` turns it off, any other string replaces it.
 */
export const DEFAULT_VOICE_PROMPT_OVERLAY =
  'You are speaking with the user by voice. Your reply will be read aloud, so: answer in one to three short sentences, ' +
  'under 500 characters; use plain words with no markdown, lists, code, links or emoji; say numbers and times the way ' +
  'a person would; do not ask clarifying questions, make the most sensible assumption and answer; if the request needs ' +
  'a tool or a lookup, say briefly what you are doing instead of guessing the result.';

export function resolveOverlay(overlay: string | null | undefined): string | null {
  if (overlay === null || overlay === undefined) return DEFAULT_VOICE_PROMPT_OVERLAY;
  return overlay === '' ? null : overlay;
}

export type BridgeKind = 'email' | 'calendar' | 'search' | 'unknown';

const BRIDGES: readonly { kind: BridgeKind; pattern: RegExp; phrase: string }[] = [
  { kind: 'email', pattern: /\b(e-?mails?|inbox|mail|reply to|unread)\b/i, phrase: 'Let me check your email.' },
  { kind: 'calendar', pattern: /\b(calendar|schedule|meetings?|appointments?|agenda|free time|tomorrow|next week)\b/i, phrase: 'Let me look at your calendar.' },
  { kind: 'search', pattern: /\b(search|look up|google|find out|latest|news|weather|price of)\b/i, phrase: 'Let me look that up.' },
  { kind: 'unknown', pattern: /\b(send|remind me|book|create|open|run|schedule|set an? (alarm|timer|reminder)|turn (on|off)|call)\b/i, phrase: 'One moment, I am on it.' },
];

/** A tool-likely utterance gets a fixed bridge phrase instead of the fast track. */
export function bridgeFor(utterance: string): { kind: BridgeKind; phrase: string } | null {
  for (const b of BRIDGES) if (b.pattern.test(utterance)) return { kind: b.kind, phrase: b.phrase };
  return null;
}

/** The two tracks of one turn, supplied by whoever runs the models. */
export interface TurnTracks {
  /** Stream a quick answer; `onDelta` per piece of text. Resolves with the whole text. */
  fast(signal: AbortSignal, onDelta: (text: string) => void): Promise<string>;
  /** The substantive turn (tools allowed). Resolves with its final text. */
  sidecar(signal: AbortSignal): Promise<string>;
}

interface Current {
  id: number;
  abort: AbortController;
  sessionId: string;
  sink: VoiceEventSink;
  done: boolean;
}

/**
 * Two-track voice turns, one current turn per connection: a fast model answers at once (or a
 * bridge phrase plays when the utterance is tool-likely) while a sidecar does the real work,
 * awaited up to its timeout. A new turn or a cancel (barge-in) supersedes the current one: its
 * work is aborted and whatever it still produces is dropped.
 */
export class VoiceTurns {
  private readonly counters = new Map<string, number>();
  private readonly current = new Map<string, Current>();

  dispatch(owner: string, req: { sessionId: string; utterance: string; sidecarTimeoutMs: number }, tracks: TurnTracks, sink: VoiceEventSink): number {
    if (req.utterance.trim() === '') throw new CarError('invalid', 'utterance is empty', { field: 'utterance' });
    this.supersede(owner);
    const id = (this.counters.get(owner) ?? 0) + 1;
    this.counters.set(owner, id);
    const turn: Current = { id, abort: new AbortController(), sessionId: req.sessionId, sink, done: false };
    this.current.set(owner, turn);
    void this.run(owner, turn, req.utterance, req.sidecarTimeoutMs, tracks);
    return id;
  }

  private emit(owner: string, turn: Current, type: string, fields: Record<string, unknown> = {}): void {
    if (this.current.get(owner) !== turn || turn.abort.signal.aborted) return;
    const event: VoiceEvent = { type, turn_id: turn.id, ...fields };
    turn.sink.send(turn.sessionId, event);
  }

  private async run(owner: string, turn: Current, utterance: string, timeoutMs: number, tracks: TurnTracks): Promise<void> {
    const signal = turn.abort.signal;
    const bridge = bridgeFor(utterance);
    const fast = bridge
      ? Promise.resolve(this.emit(owner, turn, 'voice.turn.bridge', { kind: bridge.kind, phrase: bridge.phrase }))
      : tracks.fast(signal, (text) => this.emit(owner, turn, 'voice.turn.fast_delta', { text })).then(
          (text) => this.emit(owner, turn, 'voice.turn.fast_done', { text }),
          (err: unknown) => this.emit(owner, turn, 'voice.turn.error', { track: 'fast', error: messageOf(err) }),
        );
    const sidecarAbort = new AbortController();
    const onAbort = (): void => sidecarAbort.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const err = new CarError('timeout', `the sidecar did not answer within ${timeoutMs} ms`);
        sidecarAbort.abort(err);
        reject(err);
      }, timeoutMs);
    });
    const sidecar = Promise.race([tracks.sidecar(sidecarAbort.signal), timeout]).then(
      (text) => this.emit(owner, turn, 'voice.turn.sidecar', { text }),
      (err: unknown) => this.emit(owner, turn, 'voice.turn.error', { track: 'sidecar', error: messageOf(err) }),
    );
    await Promise.all([fast, sidecar]);
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    turn.done = true;
    if (this.current.get(owner) === turn) this.current.delete(owner);
  }

  /** Abort the connection's running turn, telling its client; false when none was running. */
  private supersede(owner: string): Current | null {
    const turn = this.current.get(owner);
    if (!turn || turn.done) return null;
    turn.sink.send(turn.sessionId, { type: 'voice.turn.cancelled', turn_id: turn.id });
    this.current.delete(owner);
    turn.abort.abort(new CarError('conflict', `voice turn ${turn.id} was cancelled`));
    return turn;
  }

  /** Barge-in: the current turn (if any) is cancelled and every late result of it dropped. */
  cancel(owner: string): { cancelled: boolean; turn_id: number | null } {
    const turn = this.supersede(owner);
    // Bumped either way, so a result already on its way for an older id never plays.
    this.counters.set(owner, (this.counters.get(owner) ?? 0) + 1);
    return { cancelled: turn !== null, turn_id: turn?.id ?? null };
  }

  closeOwner(owner: string): void {
    this.current.get(owner)?.abort.abort(new CarError('conflict', 'connection closed'));
    this.current.delete(owner);
    this.counters.delete(owner);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
