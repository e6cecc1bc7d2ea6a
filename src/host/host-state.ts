import { randomUUID } from 'node:crypto';
import { HostSubscribers, type HostEventSink } from './subscribers.js';
import {
  HostError,
  type AgentStatus,
  type ApprovalInput,
  type HostAgent,
  type HostApproval,
  type HostDevice,
  type HostEvent,
  type RegisterAgentInput,
  type RegisterDeviceInput,
  type SetStatusInput,
  type UpdateDeviceInput,
} from './types.js';
import { CarError } from '../util/errors.js';
import { isObject as isRecord } from '../util/values.js';
import { jsonBytesUpTo } from '../util/json-size.js';

/** Events the ring keeps for `host.events` and the subscribe snapshot, unless told otherwise. */
export const MAX_HOST_EVENTS = 500;
/** Bytes (JSON) of all events the ring keeps together, unless told otherwise. */
export const MAX_HOST_EVENT_BYTES = 4 * 1024 * 1024;
/** Approvals one session may have waiting at once (raised by it, or by its gated calls). */
export const MAX_PENDING_APPROVALS_PER_SESSION = 64;
/** Agents and devices one session may register, together. */
export const MAX_HOST_REGISTRATIONS_PER_SESSION = 256;
/** Decided or expired approvals kept for `host.approvals`, newest last. */
export const MAX_APPROVAL_HISTORY = 200;
/** Bytes of JSON one registered agent or device may hold (metadata, display, names, capabilities together). */
export const MAX_HOST_RECORD_BYTES = 64 * 1024;
/** Bytes of a client's host event payload (its JSON) and of its message, each. */
export const MAX_HOST_EVENT_PAYLOAD_BYTES = 1024 * 1024;

export interface HostStateOptions {
  /** Events the ring keeps (default 500). */
  maxEvents?: number;
  /** Bytes of JSON the ring keeps, all events together (default 4 MiB); the newest event always stays. */
  maxEventBytes?: number;
  /** Events one subscriber may have waiting between two drains (default 4096). */
  subscriberQueue?: number;
  /** Bytes one subscriber may have queued and unread before it is dropped (default 4 MiB). */
  subscriberBytes?: number;
  /** Bytes all subscribers together may have queued and unread; past it the biggest backlogs are dropped (default 64 MiB). */
  subscribersTotalBytes?: number;
  /** Agents and devices one session may have registered together (default 256). */
  maxRegistrationsPerSession?: number;
  /** Pending approvals per session (default 64); one more is refused with kind `limit`. */
  maxPendingApprovalsPerSession?: number;
  /** Resolved and expired approvals remembered (default 200). */
  maxApprovalHistory?: number;
  /** Bytes of JSON one agent or device may hold (default 64 KiB); past it the write is refused with kind `limit`. */
  maxRecordBytes?: number;
  /** Bytes of the payload (JSON) and of the message of one client event (default 1 MiB), each. */
  maxEventPayloadBytes?: number;
}

export type ApprovalOutcome = 'approved' | 'denied' | 'timeout' | 'aborted';

interface RingEntry {
  event: HostEvent;
  bytes: number;
}

function jsonBytes(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return 0;
  }
}

export interface HostSnapshot {
  agents: HostAgent[];
  devices: HostDevice[];
  approvals: HostApproval[];
  events: HostEvent[];
  /** Sequence of the newest event in the snapshot (0 when none yet); the stream continues after it. */
  event_sequence: number;
}

const now = (): string => new Date().toISOString();
const ownedElsewhere = (id: string): HostError => new HostError(`agent '${id}' is owned by another session`);

/**
 * What a host UI sees of the daemon: registered agents and devices, approvals, and the last
 * events. In memory only. Sessions are named by client id; `null` as a caller means the daemon.
 */
export class HostState {
  private readonly agents = new Map<string, HostAgent>();
  private readonly devices = new Map<string, HostDevice>();
  /** Approvals waiting for a decision. */
  private readonly pending = new Map<string, HostApproval>();
  /** What an agent was doing before an approval made it wait, restored once none is pending. */
  private readonly statusBeforeApproval = new Map<string, AgentStatus>();
  /** Decided and expired approvals, oldest first, bounded. */
  private readonly history = new Map<string, HostApproval>();
  /** The session each approval belongs to: its `client_id`, or the session whose gated call raised it. */
  private readonly owners = new Map<string, string | null>();
  private readonly pendingBySession = new Map<string, number>();
  private readonly ring: RingEntry[] = [];
  private ringBytes = 0;
  private sequence = 0;
  private readonly subscribers: HostSubscribers;
  /** Callers parked in `waitForResolution`, per approval id; removed on resolve, timeout or abort. */
  private readonly waiters = new Map<string, Set<(outcome: ApprovalOutcome) => void>>();
  private readonly maxEvents: number;
  private readonly maxEventBytes: number;
  private readonly maxPendingPerSession: number;
  private readonly maxHistory: number;
  private readonly maxRegistrations: number;
  private readonly maxRecordBytes: number;
  private readonly maxEventPayloadBytes: number;
  /** Agents plus devices registered, per owning session. */
  private readonly registrations = new Map<string, number>();

  constructor(options: HostStateOptions = {}) {
    this.maxEvents = options.maxEvents ?? MAX_HOST_EVENTS;
    this.maxEventBytes = options.maxEventBytes ?? MAX_HOST_EVENT_BYTES;
    this.maxPendingPerSession = options.maxPendingApprovalsPerSession ?? MAX_PENDING_APPROVALS_PER_SESSION;
    this.maxHistory = options.maxApprovalHistory ?? MAX_APPROVAL_HISTORY;
    this.maxRegistrations = options.maxRegistrationsPerSession ?? MAX_HOST_REGISTRATIONS_PER_SESSION;
    this.maxRecordBytes = options.maxRecordBytes ?? MAX_HOST_RECORD_BYTES;
    this.maxEventPayloadBytes = options.maxEventPayloadBytes ?? MAX_HOST_EVENT_PAYLOAD_BYTES;
    this.subscribers = new HostSubscribers({
      queueCapacity: options.subscriberQueue,
      maxBytes: options.subscriberBytes,
      maxTotalBytes: options.subscribersTotalBytes,
    });
  }

  // ---- subscribers -------------------------------------------------------------------------

  /** Snapshot and registration in one step: every later event reaches the sink, no earlier one does. */
  subscribe(clientId: string, sink: HostEventSink): HostSnapshot {
    this.subscribers.add(clientId, sink);
    return {
      agents: this.listAgents(),
      devices: this.listDevices(),
      approvals: this.listApprovals(),
      events: this.ring.map((e) => e.event),
      event_sequence: this.sequence,
    };
  }

  unsubscribe(clientId: string): boolean {
    return this.subscribers.remove(clientId);
  }

  isSubscribed(clientId: string): boolean {
    return this.subscribers.has(clientId);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  lostEvents(clientId: string): number {
    return this.subscribers.lostBy(clientId);
  }

  /** Subscribers dropped so far for overflowing a byte bound. */
  get overflowedSubscribers(): number {
    return this.subscribers.overflowed;
  }

  /** Count one more agent or device for `caller`, refusing one past the bound. */
  private register(caller: string): void {
    const n = this.registrations.get(caller) ?? 0;
    if (n >= this.maxRegistrations) {
      throw new CarError('limit', `this session already registered ${n} agents and devices (limit ${this.maxRegistrations})`, {
        limit: this.maxRegistrations,
      });
    }
    this.registrations.set(caller, n + 1);
  }

  private unregister(caller: string): void {
    const n = (this.registrations.get(caller) ?? 1) - 1;
    if (n > 0) this.registrations.set(caller, n);
    else this.registrations.delete(caller);
  }

  /**
   * Refuse a client's event whose payload JSON or message passes `maxEventPayloadBytes`, before
   * anything copies it: the check stops counting at the bound, whatever the size.
   */
  private checkEvent(message: string | null | undefined, payload: unknown): void {
    const max = this.maxEventPayloadBytes;
    for (const [field, bytes] of [
      ['message', typeof message === 'string' ? (message.length > max ? message.length : Buffer.byteLength(message)) : 0],
      ['payload', jsonBytesUpTo(payload, max)],
    ] as const) {
      if (bytes > max) {
        throw new CarError('limit', `the event's ${field} is over ${max} bytes${field === 'payload' ? ' of JSON' : ''}; send less, or a reference to it`, {
          field,
          limit: max,
        });
      }
    }
  }

  /** An event a client sends (`host.notify`): bounded by `maxEventPayloadBytes`, then recorded. */
  notify(kind: string, agentId: string | null, message: string | null, payload: unknown = {}): HostEvent {
    this.checkEvent(message, payload);
    return this.recordEvent(kind, agentId, message, payload);
  }

  /** Refuse an agent or device whose JSON would pass `maxRecordBytes`, naming its biggest field. */
  private checkRecord(what: 'agent' | 'device' | 'approval', record: HostAgent | HostDevice | HostApproval): void {
    const max = this.maxRecordBytes;
    const bytes = jsonBytesUpTo(record, max);
    if (bytes <= max) return;
    let field = 'metadata';
    let most = -1;
    for (const [key, value] of Object.entries(record)) {
      const n = jsonBytesUpTo(value, max);
      if (n >= most) [field, most] = [key, n];
    }
    throw new CarError('limit', `${what} '${record.id}' would be over ${max} bytes of JSON (most of it in ${field}); one ${what} may hold at most ${max}`, {
      field,
      limit: max,
    });
  }

  // ---- events ------------------------------------------------------------------------------

  /** Events are history: the payload is copied and frozen, so later changes to an agent or approval never rewrite it. */
  recordEvent(kind: string, agentId: string | null, message: string | null, payload: unknown = {}): HostEvent {
    const event: HostEvent = deepFreeze({
      id: `event-${randomUUID()}`,
      sequence: ++this.sequence,
      timestamp: now(),
      kind,
      agent_id: agentId,
      message,
      payload: structuredClone(payload ?? {}),
    });
    const bytes = jsonBytes(event);
    this.ring.push({ event, bytes });
    this.ringBytes += bytes;
    while (this.ring.length > 1 && (this.ring.length > this.maxEvents || this.ringBytes > this.maxEventBytes)) {
      this.ringBytes -= this.ring.shift()!.bytes;
    }
    this.subscribers.publish(event, bytes);
    return event;
  }

  /** The newest `limit` events, oldest first. */
  events(limit = 100): HostEvent[] {
    return limit <= 0 ? [] : this.ring.slice(-limit).map((e) => e.event);
  }

  /** Events the ring holds and their JSON bytes. */
  get ringSize(): { events: number; bytes: number } {
    return { events: this.ring.length, bytes: this.ringBytes };
  }

  // ---- agents ------------------------------------------------------------------------------

  listAgents(): HostAgent[] {
    return [...this.agents.values()];
  }

  getAgent(id: string): HostAgent | undefined {
    return this.agents.get(id);
  }

  registerAgent(caller: string, input: RegisterAgentInput): HostAgent {
    const id = input.id ?? `agent-${randomUUID()}`;
    const existing = this.agents.get(id);
    if (existing && existing.session_id !== caller) throw ownedElsewhere(id);
    const at = now();
    const agent: HostAgent = {
      id,
      name: input.name,
      kind: input.kind,
      capabilities: input.capabilities ?? [],
      project: input.project ?? null,
      pid: input.pid ?? null,
      display: input.display ?? null,
      metadata: input.metadata ?? {},
      status: existing?.status ?? 'idle',
      current_task: existing?.current_task ?? null,
      session_id: caller,
      registered_at: existing?.registered_at ?? at,
      updated_at: at,
    };
    this.checkRecord('agent', agent);
    if (!existing) this.register(caller);
    this.agents.set(id, agent);
    this.recordEvent('agent.registered', id, `${agent.name} registered`, { agent });
    return agent;
  }

  /** False when no such agent is registered; an agent another session owns is an error. */
  unregisterAgent(caller: string, agentId: string): boolean {
    if (!this.agents.has(agentId)) return false;
    this.ownedAgent(caller, agentId);
    this.agents.delete(agentId);
    this.statusBeforeApproval.delete(agentId);
    this.unregister(caller);
    this.recordEvent('agent.unregistered', agentId, null, {});
    return true;
  }

  setStatus(caller: string, input: SetStatusInput): HostAgent {
    const agent = this.ownedAgent(caller, input.agent_id);
    this.checkRecord('agent', { ...agent, status: input.status, current_task: input.current_task ?? agent.current_task });
    this.checkEvent(input.message, input.payload);
    const previous = agent.status;
    this.statusBeforeApproval.delete(agent.id);
    agent.status = input.status;
    if (input.current_task !== undefined) agent.current_task = input.current_task;
    agent.updated_at = now();
    this.recordEvent('agent.status_changed', agent.id, input.message ?? null, {
      ...(isRecord(input.payload) ? input.payload : input.payload === undefined ? {} : { value: input.payload }),
      status: agent.status,
      previous_status: previous,
      current_task: agent.current_task,
    });
    return agent;
  }

  private ownedAgent(caller: string, agentId: string): HostAgent {
    const agent = this.agents.get(agentId);
    if (!agent) throw new HostError(`unknown agent '${agentId}'`, 'not_found');
    if (agent.session_id !== caller) throw ownedElsewhere(agentId);
    return agent;
  }

  // ---- devices -----------------------------------------------------------------------------

  listDevices(): HostDevice[] {
    return [...this.devices.values()];
  }

  registerDevice(caller: string, input: RegisterDeviceInput): HostDevice {
    const id = input.id ?? `device-${randomUUID()}`;
    const existing = this.devices.get(id);
    if (existing && existing.session_id !== caller) throw new HostError(`device '${id}' is owned by another session`);
    const device: HostDevice = {
      id,
      name: input.name,
      platform: input.platform,
      capabilities: input.capabilities ?? [],
      status: input.status ?? 'online',
      session_id: caller,
      updated_at: now(),
      metadata: input.metadata ?? {},
    };
    this.checkRecord('device', device);
    if (!existing) this.register(caller);
    this.devices.set(id, device);
    this.recordEvent('device.updated', null, `${device.name} registered`, { device });
    return device;
  }

  updateDevice(caller: string, input: UpdateDeviceInput): HostDevice {
    const device = this.devices.get(input.device_id);
    if (!device) throw new HostError(`unknown device '${input.device_id}'`, 'not_found');
    if (device.session_id !== caller) throw new HostError(`device '${device.id}' is owned by another session`);
    const next: HostDevice = {
      ...device,
      name: input.name ?? device.name,
      platform: input.platform ?? device.platform,
      capabilities: input.capabilities ?? device.capabilities,
      status: input.status ?? device.status,
      metadata: input.metadata ?? device.metadata,
      updated_at: now(),
    };
    this.checkRecord('device', next);
    Object.assign(device, next);
    this.recordEvent('device.updated', null, null, { device });
    return device;
  }

  // ---- approvals ---------------------------------------------------------------------------

  /** Pending approvals, then the remembered decided and expired ones. */
  listApprovals(): HostApproval[] {
    return [...this.pending.values(), ...this.history.values()];
  }

  getApproval(id: string): HostApproval | undefined {
    return this.pending.get(id) ?? this.history.get(id);
  }

  /** The session an approval belongs to (its raiser, also for gate approvals); null for the daemon's own. */
  ownerOf(id: string): string | null {
    return this.owners.get(id) ?? null;
  }

  /** Approvals waiting for a decision, for one session or in all. */
  pendingCount(session?: string): number {
    return session === undefined ? this.pending.size : (this.pendingBySession.get(session) ?? 0);
  }

  /**
   * `caller` null makes a system approval: no owner, resolvable by any authenticated session.
   * `raisedBy` is the session a system approval is raised for (a gated call's connection): it
   * counts against that session's pending bound and goes when that session closes.
   */
  createApproval(caller: string | null, input: ApprovalInput, raisedBy: string | null = caller): HostApproval {
    if (input.agent_id !== undefined && caller !== null) {
      const agent = this.agents.get(input.agent_id);
      if (agent && agent.session_id !== caller) throw ownedElsewhere(input.agent_id);
    }
    const approval: HostApproval = {
      id: `approval-${randomUUID()}`,
      agent_id: input.agent_id ?? null,
      client_id: caller,
      action: input.action ?? input.title,
      details: input.details ?? input.description ?? null,
      title: input.title,
      description: input.description ?? null,
      context: input.context ?? null,
      required_approvals: input.required_approvals ?? 1,
      options: ['approve', 'deny'],
      status: 'pending',
      created_at: now(),
      resolved_at: null,
      resolved_by: null,
      notes: null,
    };
    if (caller !== null) this.checkRecord('approval', approval);
    if (raisedBy !== null) {
      const open = this.pendingBySession.get(raisedBy) ?? 0;
      if (open >= this.maxPendingPerSession) {
        throw new CarError(
          'limit',
          `this session already has ${open} approvals waiting (limit ${this.maxPendingPerSession}); wait for one to be decided`,
          { limit: this.maxPendingPerSession },
        );
      }
      this.pendingBySession.set(raisedBy, open + 1);
    }
    this.pending.set(approval.id, approval);
    this.owners.set(approval.id, raisedBy);
    const agent = approval.agent_id === null ? undefined : this.agents.get(approval.agent_id);
    if (agent) {
      if (agent.status !== 'waiting_for_approval') this.statusBeforeApproval.set(agent.id, agent.status);
      agent.status = 'waiting_for_approval';
      agent.updated_at = approval.created_at;
    }
    this.recordEvent('approval.requested', approval.agent_id, approval.title, { approval });
    return approval;
  }

  /**
   * First writer wins: a row already resolved comes back unchanged. An owned approval may only be
   * resolved by the session that raised it.
   */
  resolveApproval(caller: string, approvalId: string, approved: boolean, notes?: string): HostApproval {
    const approval = this.getApproval(approvalId);
    if (!approval) throw new HostError(`unknown approval '${approvalId}'`, 'not_found');
    if (approval.client_id !== null && approval.client_id !== caller) {
      throw new HostError(`approval '${approvalId}' was requested by another session`);
    }
    if (approval.status !== 'pending') return approval;
    this.settle(approval, approved ? 'approved' : 'denied', caller, notes ?? null);
    this.recordEvent('approval.resolved', approval.agent_id, approval.title, { approval });
    this.resumeAgent(approval);
    this.wake(approvalId, approved ? 'approved' : 'denied');
    return approval;
  }

  /** Nobody decided in time, or whoever waited went away: the approval leaves the pending set. */
  expireApproval(approvalId: string, reason: string): void {
    const approval = this.pending.get(approvalId);
    if (!approval) return;
    this.settle(approval, 'expired', null, reason);
    this.recordEvent('approval.resolved', approval.agent_id, approval.title, { approval, reason });
    this.resumeAgent(approval);
    this.wake(approvalId, 'aborted');
  }

  /** The agent this approval held goes back to what it was doing once nothing else holds it. */
  private resumeAgent(approval: HostApproval): void {
    const id = approval.agent_id;
    const agent = id === null ? undefined : this.agents.get(id);
    if (!agent || agent.status !== 'waiting_for_approval') return;
    for (const other of this.pending.values()) if (other.agent_id === id) return;
    const status = this.statusBeforeApproval.get(agent.id) ?? 'running';
    this.statusBeforeApproval.delete(agent.id);
    agent.status = status;
    agent.updated_at = now();
    this.recordEvent('agent.status_changed', agent.id, null, {
      status,
      previous_status: 'waiting_for_approval',
      current_task: agent.current_task,
      approval_id: approval.id,
    });
  }

  /** Move a pending approval to the bounded history with its final status. */
  private settle(approval: HostApproval, status: Exclude<HostApproval['status'], 'pending'>, by: string | null, notes: string | null): void {
    approval.status = status;
    approval.resolved_at = now();
    approval.resolved_by = by;
    approval.notes = notes;
    this.pending.delete(approval.id);
    const owner = this.owners.get(approval.id);
    if (owner !== null && owner !== undefined) {
      const open = (this.pendingBySession.get(owner) ?? 1) - 1;
      if (open > 0) this.pendingBySession.set(owner, open);
      else this.pendingBySession.delete(owner);
    }
    this.history.set(approval.id, approval);
    while (this.history.size > this.maxHistory) {
      const oldest = this.history.keys().next().value as string;
      this.history.delete(oldest);
      this.owners.delete(oldest);
    }
  }

  /**
   * Park until the approval is resolved, `timeoutMs` passes or `signal` aborts (the last waiter to
   * give up expires the row). No polling: resolution wakes the waiter directly; the timer exists only while waiting.
   */
  waitForResolution(approvalId: string, timeoutMs: number, signal?: AbortSignal): Promise<ApprovalOutcome> {
    const approval = this.getApproval(approvalId);
    if (!approval) return Promise.resolve('aborted');
    if (approval.status === 'expired') return Promise.resolve('aborted');
    if (approval.status !== 'pending') return Promise.resolve(approval.status);
    if (signal?.aborted) return Promise.resolve('aborted');
    return new Promise((resolve) => {
      let set = this.waiters.get(approvalId);
      if (!set) this.waiters.set(approvalId, (set = new Set()));
      const waiters = set;
      const finish = (outcome: ApprovalOutcome): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        waiters.delete(finish);
        if (waiters.size === 0 && this.waiters.get(approvalId) === waiters) this.waiters.delete(approvalId);
        // The last waiter gave up: nobody can act on a decision any more, so the approval expires.
        if ((outcome === 'timeout' || outcome === 'aborted') && !this.waiters.has(approvalId)) {
          this.expireApproval(approvalId, outcome === 'timeout' ? `not decided within ${timeoutMs} ms` : 'the waiting call was abandoned');
        }
        resolve(outcome);
      };
      const onAbort = (): void => finish('aborted');
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      waiters.add(finish);
    });
  }

  /** Callers currently parked on approvals (for tests and status). */
  get waitingCount(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }

  private wake(approvalId: string, outcome: ApprovalOutcome): void {
    const set = this.waiters.get(approvalId);
    if (!set) return;
    for (const finish of [...set]) finish(outcome);
  }

  // ---- sessions ----------------------------------------------------------------------------

  /**
   * A connection went away: stop streaming to it, expire the approvals it left pending, forget its
   * decided ones, and remove the agents and devices it registered.
   */
  dropSession(clientId: string): void {
    this.subscribers.remove(clientId);
    for (const approval of [...this.pending.values()]) {
      if (this.owners.get(approval.id) === clientId) this.expireApproval(approval.id, 'requesting session disconnected');
    }
    for (const id of [...this.history.keys()]) {
      if (this.owners.get(id) !== clientId) continue;
      this.history.delete(id);
      this.owners.delete(id);
    }
    for (const agent of [...this.agents.values()]) {
      if (agent.session_id !== clientId) continue;
      this.agents.delete(agent.id);
      this.statusBeforeApproval.delete(agent.id);
      this.unregister(clientId);
      this.recordEvent('agent.unregistered', agent.id, `${agent.name} left with its session`, { reason: 'session closed' });
    }
    for (const device of [...this.devices.values()]) {
      if (device.session_id !== clientId) continue;
      this.devices.delete(device.id);
      this.unregister(clientId);
      this.recordEvent('device.removed', null, `${device.name} left with its session`, { device_id: device.id, reason: 'session closed' });
    }
  }
}

function deepFreeze<T>(value: T, depth = 0): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value) || depth > 64) return value;
  for (const v of Object.values(value)) deepFreeze(v, depth + 1);
  return Object.freeze(value);
}
