/** A tool the listener's card advertises as a skill. */
export interface A2aTool {
  name: string;
  description?: string;
}

/** Who sent a message, as far as the listener can tell (allow-listed metadata only). */
export interface A2aCaller {
  caller_id?: string;
  org_id?: string;
  project_id?: string;
  tenant_id?: string;
}

/**
 * What the A2A listener runs its work on. The daemon supplies it: `submit` passes a proposal
 * through the same gates as a client's `proposal.submit`; `chat` is the host's chat when the
 * operator shared the session's runtime.
 */
export interface A2aRuntime {
  /** The tools the card lists, one skill each. */
  tools(): readonly A2aTool[];
  /** Run `proposal` (the proposal IR as JSON); resolves to its ProposalResult, throws when a gate refuses it. */
  submit(proposal: Record<string, unknown>, signal: AbortSignal): Promise<unknown>;
  /** Hand free text to the host's chat and resolve to its reply; null when no chat is shared. */
  readonly chat: ((text: string, signal: AbortSignal) => Promise<string>) | null;
  /**
   * Take the A2UI payloads of an inbound message onto the host's surfaces, owned by its task and
   * context; resolves to what was applied (reported in the reply's metadata). Absent: A2UI parts are ignored.
   */
  readonly ingestA2ui?: (payloads: unknown[], owner: { taskId: string; contextId: string }) => Record<string, unknown>;
}

/** The caller metadata keys copied into `proposal.context.a2a_caller`. */
export const CALLER_KEYS = ['caller_id', 'org_id', 'project_id', 'tenant_id'] as const;
