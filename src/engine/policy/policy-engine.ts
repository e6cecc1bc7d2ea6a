import { shortId } from '../ir.js';
import type { StateLookup } from '../preconditions.js';
import { compilePolicy, describePolicy, evaluatePolicy, PolicyError, type Policy, type PolicySpec, type PolicySubject } from './rules.js';

/** Where a policy lives: the connection's own set, or a sub-context from `openSession`. */
export type PolicyScope = 'global' | { session_id: string };

/** One denial: which policy and why. */
export interface PolicyDenial {
  policy_name: string;
  reason: string;
}

export interface PolicyLimits {
  /** Most policies held at once, all scopes together. */
  maxPolicies: number;
  /** Most open sub-contexts. */
  maxSessions: number;
}

export const DEFAULT_POLICY_LIMITS: PolicyLimits = { maxPolicies: 4096, maxSessions: 1024 };

interface Entry {
  /** Registration order across every scope. */
  seq: number;
  policy: Policy;
}

/**
 * The policies checked before an action dispatches, stacked for one proposal: the global ones
 * first, then the sub-context's. Frozen when taken, so registrations made while a proposal runs
 * apply to the next proposal.
 */
export class PolicySet {
  static readonly empty = new PolicySet([]);

  constructor(readonly policies: readonly Policy[]) {}

  get size(): number {
    return this.policies.length;
  }

  /** Every policy that denies the subject (all of them, not just the first). */
  check(subject: PolicySubject, state: StateLookup): PolicyDenial[] {
    if (this.policies.length === 0) return NONE;
    let out: PolicyDenial[] | undefined;
    for (const policy of this.policies) {
      const reason = evaluatePolicy(policy, subject, state);
      if (reason !== null) (out ??= []).push({ policy_name: policy.name, reason });
    }
    return out ?? NONE;
  }
}

const NONE: PolicyDenial[] = [];

/**
 * One connection's policy engine: a global set plus any number of sub-contexts opened with
 * `open()`. A proposal naming a sub-context is checked against the global set and that
 * sub-context's; other sub-contexts do not apply.
 */
export class PolicyEngine {
  private readonly global: Entry[] = [];
  private readonly sessions = new Map<string, Entry[]>();
  private nextSeq = 0;
  private total = 0;

  constructor(
    /** The connection's own runtime session id; naming it selects the global set. */
    readonly runtimeSessionId: string,
    private readonly limits: PolicyLimits = DEFAULT_POLICY_LIMITS,
  ) {}

  /** Open a policy sub-context and return its id. */
  open(): string {
    if (this.sessions.size >= this.limits.maxSessions) {
      throw new PolicyError(`too many policy sessions: at most ${this.limits.maxSessions} open at once`, 'limit', undefined, this.limits.maxSessions);
    }
    let id = `sess-${shortId()}`;
    while (this.sessions.has(id)) id = `sess-${shortId()}`;
    this.sessions.set(id, []);
    return id;
  }

  /** Drop a sub-context and its policies; false when the id is unknown. */
  close(sessionId: string): boolean {
    const entries = this.sessions.get(sessionId);
    if (entries === undefined) return false;
    this.total -= entries.length;
    this.sessions.delete(sessionId);
    return true;
  }

  has(sessionId: string): boolean {
    return sessionId === this.runtimeSessionId || this.sessions.has(sessionId);
  }

  /** The scope a session id names; throws for an id that is neither this connection's nor open. */
  scopeOf(sessionId?: string | null): PolicyScope {
    if (sessionId === undefined || sessionId === null || sessionId === this.runtimeSessionId) return 'global';
    if (!this.sessions.has(sessionId)) {
      throw new PolicyError(`unknown policy session '${sessionId}' (open one with session.policy.open)`, 'unknown_session', 'session_id');
    }
    return { session_id: sessionId };
  }

  /** Append a policy (no dedup by name). */
  register(spec: PolicySpec, sessionId?: string | null): PolicyScope {
    const scope = this.scopeOf(sessionId);
    const policy = compilePolicy(spec);
    if (this.total >= this.limits.maxPolicies) {
      throw new PolicyError(`too many policies: at most ${this.limits.maxPolicies} per connection`, 'limit', undefined, this.limits.maxPolicies);
    }
    this.entriesOf(scope).push({ seq: this.nextSeq++, policy });
    this.total++;
    return scope;
  }

  /** Check registrations without making them: throws what `register` would for any of them. */
  validate(specs: readonly PolicySpec[]): void {
    for (const spec of specs) compilePolicy(spec);
    if (this.total + specs.length > this.limits.maxPolicies) {
      throw new PolicyError(`too many policies: at most ${this.limits.maxPolicies} per connection`, 'limit', undefined, this.limits.maxPolicies);
    }
  }

  /**
   * Remove every policy called `name` from the global set and from the named sub-context, or
   * from every sub-context when none is named. Returns how many went; 0 is not an error.
   */
  unregister(name: string, sessionId?: string | null): { removed: number; scope: PolicyScope } {
    const scope = this.scopeOf(sessionId);
    let removed = removeNamed(this.global, name);
    if (scope === 'global') {
      for (const entries of this.sessions.values()) removed += removeNamed(entries, name);
    } else {
      removed += removeNamed(this.entriesOf(scope), name);
    }
    this.total -= removed;
    return { removed, scope };
  }

  /** The policies that apply in a scope, in registration order, with a one-line description each. */
  list(sessionId?: string | null): { policies: { name: string; description: string }[]; scope: PolicyScope } {
    const scope = this.scopeOf(sessionId);
    return {
      policies: this.stacked(scope).map((e) => ({ name: e.policy.name, description: describePolicy(e.policy) })),
      scope,
    };
  }

  /** The policies a proposal in this scope is checked against. */
  policySet(sessionId?: string | null): PolicySet {
    const entries = this.stacked(this.scopeOf(sessionId));
    return entries.length === 0 ? PolicySet.empty : new PolicySet(entries.map((e) => e.policy));
  }

  /** Policies held, all scopes together. */
  get size(): number {
    return this.total;
  }

  private entriesOf(scope: PolicyScope): Entry[] {
    return scope === 'global' ? this.global : (this.sessions.get(scope.session_id) as Entry[]);
  }

  private stacked(scope: PolicyScope): Entry[] {
    if (scope === 'global') return this.global;
    // Both lists are in registration order already; merge them by sequence number.
    const local = this.entriesOf(scope);
    const out: Entry[] = [];
    let i = 0;
    let j = 0;
    while (i < this.global.length || j < local.length) {
      const g = this.global[i];
      const l = local[j];
      if (l === undefined || (g !== undefined && g.seq < l.seq)) {
        out.push(g as Entry);
        i++;
      } else {
        out.push(l);
        j++;
      }
    }
    return out;
  }
}

function removeNamed(entries: Entry[], name: string): number {
  let kept = 0;
  for (const e of entries) if (e.policy.name !== name) entries[kept++] = e;
  const removed = entries.length - kept;
  entries.length = kept;
  return removed;
}

/** A plain state object as a StateLookup (verify walks simulated state held in one). */
export function recordLookup(state: Record<string, unknown>): StateLookup {
  return (key) => (Object.hasOwn(state, key) ? { present: true, value: state[key] } : { present: false, value: null });
}
