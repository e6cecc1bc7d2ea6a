import { CarError, type CarErrorKind, type CarErrorOptions } from '../../util/errors.js';
import { randomUUID } from 'node:crypto';
import type { ActionProposal } from '../ir.js';
import { filterMatches, type SupervisionFilter } from './filter.js';
import { buildIntent, type SupervisionIntent } from './intent.js';

export const DECISION_KINDS = ['allow', 'deny', 'escalate'] as const;
export type DecisionKind = (typeof DECISION_KINDS)[number];

export interface SupervisionDecision {
  kind: DecisionKind;
  reason?: string;
}

/** How a gated proposal's wait ended. */
export type SupervisionVerdict =
  | { outcome: 'allow'; intent: SupervisionIntent }
  | { outcome: 'deny'; intent: SupervisionIntent; reason: string }
  | { outcome: 'escalate'; intent: SupervisionIntent; reason: string }
  | { outcome: 'timeout'; intent: SupervisionIntent; timeoutMs: number };

export type DecideErrorCode = 'unknown' | 'decided' | 'timed_out' | 'reason_required';

const DECIDE_ERROR_KINDS: Readonly<Record<DecideErrorCode, CarErrorKind>> = {
  unknown: 'not_found',
  decided: 'conflict',
  timed_out: 'conflict',
  reason_required: 'invalid',
};

export class SupervisionError extends CarError {
  constructor(
    readonly code: DecideErrorCode,
    message: string,
    options: CarErrorOptions = {},
  ) {
    super(DECIDE_ERROR_KINDS[code], message, options);
    this.name = 'SupervisionError';
  }
}

/** A connection that watches proposals; `deliver` pushes one intent to it and must not block. */
export interface SupervisorHandle {
  filter: SupervisionFilter;
  deliver(intent: SupervisionIntent): void;
}

interface Waiting {
  intent: SupervisionIntent;
  settle(verdict: SupervisionVerdict): void;
}

/** How many finished intent ids are remembered by default, to tell "already decided" from "unknown". */
export const DEFAULT_SUPERVISION_HISTORY = 4096;

/**
 * The supervision gate: supervisors subscribe with a filter, every matching proposal becomes a
 * pending intent that blocks until a supervisor decides or the decision timeout passes. Holds no
 * timer while nothing waits.
 */
export class Supervisor {
  private readonly supervisors = new Map<string, SupervisorHandle>();
  private readonly waiting = new Map<string, Waiting>();
  private readonly finished = new Map<string, 'decided' | 'timed_out'>();

  constructor(
    readonly decisionTimeoutMs: number,
    private readonly historySize: number = DEFAULT_SUPERVISION_HISTORY,
  ) {}

  /** Add or replace a supervisor; returns how many are subscribed now. */
  subscribe(id: string, handle: SupervisorHandle): number {
    this.supervisors.set(id, handle);
    return this.supervisors.size;
  }

  /** Intents already waiting stay pending: they end by a decision from someone else or by timeout. */
  unsubscribe(id: string): boolean {
    return this.supervisors.delete(id);
  }

  get supervisorCount(): number {
    return this.supervisors.size;
  }

  /** Waiting intents, oldest first. */
  pending(): SupervisionIntent[] {
    return [...this.waiting.values()].map((w) => w.intent);
  }

  /**
   * Gate one proposal. Returns null at once when no supervisor's filter matches (the common case
   * with no supervisors costs one size check); otherwise the intent is delivered to every
   * matching supervisor and the promise settles on a decision, the timeout, or `signal`.
   */
  review(
    proposal: ActionProposal,
    origin: { sessionId?: string; scope?: unknown },
    signal?: AbortSignal,
  ): Promise<SupervisionVerdict> | null {
    if (this.supervisors.size === 0) return null;
    const intent = buildIntent(`intent-${randomUUID()}`, proposal, origin);
    const targets = [...this.supervisors.values()].filter((s) => filterMatches(s.filter, intent));
    if (targets.length === 0) return null;
    return new Promise<SupervisionVerdict>((resolve, reject) => {
      const finish = (mark: 'decided' | 'timed_out' | null): boolean => {
        if (!this.waiting.delete(intent.id)) return false;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (mark !== null) this.remember(intent.id, mark);
        return true;
      };
      const onAbort = (): void => {
        if (finish(null)) reject(signal?.reason ?? new Error('aborted'));
      };
      const timer = setTimeout(() => {
        if (finish('timed_out')) resolve({ outcome: 'timeout', intent, timeoutMs: this.decisionTimeoutMs });
      }, this.decisionTimeoutMs);
      this.waiting.set(intent.id, {
        intent,
        settle: (verdict) => {
          if (finish('decided')) resolve(verdict);
        },
      });
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      for (const target of targets) target.deliver(intent);
    });
  }

  /** Settle a waiting intent. Throws SupervisionError for bad input or an intent no longer waiting. */
  decide(intentId: string, decision: SupervisionDecision): void {
    const waiting = this.waiting.get(intentId);
    if (waiting === undefined) {
      const done = this.finished.get(intentId);
      const state = done ?? 'unknown';
      const detail = { intent_id: intentId, state };
      if (state === 'decided') throw new SupervisionError(state, `intent ${intentId} was already decided`, { detail });
      if (state === 'timed_out') throw new SupervisionError(state, `intent ${intentId} timed out before a decision`, { detail });
      throw new SupervisionError(state, `no pending intent ${intentId}`, { detail });
    }
    const reason = decision.reason?.trim();
    if (decision.kind === 'allow') return waiting.settle({ outcome: 'allow', intent: waiting.intent });
    if (reason === undefined || reason === '') {
      throw new SupervisionError('reason_required', `a ${decision.kind} decision needs a reason`, { field: 'decision.reason' });
    }
    const verdict: SupervisionVerdict =
      decision.kind === 'deny' ? { outcome: 'deny', intent: waiting.intent, reason } : { outcome: 'escalate', intent: waiting.intent, reason };
    waiting.settle(verdict);
  }

  private remember(id: string, mark: 'decided' | 'timed_out'): void {
    this.finished.set(id, mark);
    if (this.finished.size > this.historySize) {
      const oldest = this.finished.keys().next().value;
      if (oldest !== undefined) this.finished.delete(oldest);
    }
  }
}
