import { randomUUID } from 'node:crypto';
import { HostSubscribers, type HostEventSink } from './subscribers.js';
import {
  HostError,
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
import { isObject as isRecord } from '../util/values.js';

/** Events the ring keeps for `host.events` and the subscribe snapshot, unless told otherwise. */
export const MAX_HOST_EVENTS = 500;

export interface HostStateOptions {
  /** Events the ring keeps (default 500). */
  maxEvents?: number;
  /** Events one subscriber may have waiting between two drains (default 4096). */
  subscriberQueue?: number;
}

export type ApprovalOutcome = 'approved' | 'denied' | 'timeout' | 'aborted';

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
  private readonly approvals = new Map<string, HostApproval>();
  private readonly ring: HostEvent[] = [];
  private sequence = 0;
  private readonly subscribers: HostSubscribers;
  /** Callers parked in `waitForResolution`, per approval id; removed on resolve, timeout or abort. */
  private readonly waiters = new Map<string, Set<(outcome: ApprovalOutcome) => void>>();
  private readonly maxEvents: number;

  constructor(options: HostStateOptions = {}) {
    this.maxEvents = options.maxEvents ?? MAX_HOST_EVENTS;
    this.subscribers = new HostSubscribers(options.subscriberQueue);
  }

  // ---- subscribers -------------------------------------------------------------------------

  /** Snapshot and registration in one step: every later event reaches the sink, no earlier one does. */
  subscribe(clientId: string, sink: HostEventSink): HostSnapshot {
    this.subscribers.add(clientId, sink);
    return {
      agents: this.listAgents(),
      devices: this.listDevices(),
      approvals: this.listApprovals(),
      events: [...this.ring],
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

  // ---- events ------------------------------------------------------------------------------

  recordEvent(kind: string, agentId: string | null, message: string | null, payload: unknown = {}): HostEvent {
    const event: HostEvent = {
      id: `event-${randomUUID()}`,
      sequence: ++this.sequence,
      timestamp: now(),
      kind,
      agent_id: agentId,
      message,
      payload: payload ?? {},
    };
    this.ring.push(event);
    if (this.ring.length > this.maxEvents) this.ring.shift();
    this.subscribers.publish(event);
    return event;
  }

  /** The newest `limit` events, oldest first. */
  events(limit = 100): HostEvent[] {
    return limit <= 0 ? [] : this.ring.slice(-limit);
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
    this.agents.set(id, agent);
    this.recordEvent('agent.registered', id, `${agent.name} registered`, { agent });
    return agent;
  }

  unregisterAgent(caller: string, agentId: string): void {
    this.ownedAgent(caller, agentId);
    this.agents.delete(agentId);
    this.recordEvent('agent.unregistered', agentId, null, {});
  }

  setStatus(caller: string, input: SetStatusInput): HostAgent {
    const agent = this.ownedAgent(caller, input.agent_id);
    const previous = agent.status;
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
    this.devices.set(id, device);
    this.recordEvent('device.updated', null, `${device.name} registered`, { device });
    return device;
  }

  updateDevice(caller: string, input: UpdateDeviceInput): HostDevice {
    const device = this.devices.get(input.device_id);
    if (!device) throw new HostError(`unknown device '${input.device_id}'`, 'not_found');
    if (device.session_id !== caller) throw new HostError(`device '${device.id}' is owned by another session`);
    if (input.name !== undefined) device.name = input.name;
    if (input.platform !== undefined) device.platform = input.platform;
    if (input.capabilities !== undefined) device.capabilities = input.capabilities;
    if (input.status !== undefined) device.status = input.status;
    if (input.metadata !== undefined) device.metadata = input.metadata;
    device.updated_at = now();
    this.recordEvent('device.updated', null, null, { device });
    return device;
  }

  // ---- approvals ---------------------------------------------------------------------------

  listApprovals(): HostApproval[] {
    return [...this.approvals.values()];
  }

  getApproval(id: string): HostApproval | undefined {
    return this.approvals.get(id);
  }

  /** `caller` null makes a system approval: no owner, resolvable by any authenticated session. */
  createApproval(caller: string | null, input: ApprovalInput): HostApproval {
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
    this.approvals.set(approval.id, approval);
    const agent = approval.agent_id === null ? undefined : this.agents.get(approval.agent_id);
    if (agent) {
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
    const approval = this.approvals.get(approvalId);
    if (!approval) throw new HostError(`unknown approval '${approvalId}'`, 'not_found');
    if (approval.client_id !== null && approval.client_id !== caller) {
      throw new HostError(`approval '${approvalId}' was requested by another session`);
    }
    if (approval.status !== 'pending') return approval;
    approval.status = approved ? 'approved' : 'denied';
    approval.resolved_at = now();
    approval.resolved_by = caller;
    approval.notes = notes ?? null;
    this.recordEvent('approval.resolved', approval.agent_id, approval.title, { approval });
    this.wake(approvalId, approved ? 'approved' : 'denied');
    return approval;
  }

  /**
   * Park until the approval is resolved, `timeoutMs` passes (the row stays pending) or `signal`
   * aborts. No polling: resolution wakes the waiter directly; the timer exists only while waiting.
   */
  waitForResolution(approvalId: string, timeoutMs: number, signal?: AbortSignal): Promise<ApprovalOutcome> {
    const approval = this.approvals.get(approvalId);
    if (!approval) return Promise.resolve('aborted');
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

  /** A connection went away: stop streaming to it and drop the approvals it raised and left pending. */
  dropSession(clientId: string): void {
    this.subscribers.remove(clientId);
    for (const approval of [...this.approvals.values()]) {
      if (approval.client_id !== clientId || approval.status !== 'pending') continue;
      this.approvals.delete(approval.id);
      this.recordEvent('approval.resolved', approval.agent_id, approval.title, {
        approval: { ...approval, status: 'expired' },
        reason: 'requesting session disconnected',
      });
      this.wake(approval.id, 'aborted');
    }
  }
}
