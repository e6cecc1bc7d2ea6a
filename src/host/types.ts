import { CarError } from '../util/errors.js';

/** Wire shapes of the host surface (`host.*`, `host.event`). Plain JSON, snake_case fields. */

export const AGENT_STATUSES = [
  'idle',
  'running',
  'waiting_for_approval',
  'paused',
  'completed',
  'errored',
  'stopped',
] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

export interface HostAgent {
  id: string;
  name: string;
  kind: string;
  capabilities: string[];
  project: string | null;
  pid: number | null;
  display: unknown;
  metadata: Record<string, unknown>;
  status: AgentStatus;
  current_task: string | null;
  /** The owning connection's client id. */
  session_id: string;
  registered_at: string;
  updated_at: string;
}

export interface HostDevice {
  id: string;
  name: string;
  platform: string;
  capabilities: string[];
  status: string;
  session_id: string;
  updated_at: string;
  metadata: Record<string, unknown>;
}

/** `expired`: nobody decided before its waiter gave up (gate timeout, abandoned call, closed session). */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

export interface HostApproval {
  id: string;
  agent_id: string | null;
  /** The session that raised it; `null` for system (gate) approvals, which any session may resolve. */
  client_id: string | null;
  action: string;
  details: unknown;
  title: string;
  description: string | null;
  context: unknown;
  required_approvals: number;
  options: string[];
  status: ApprovalStatus;
  created_at: string;
  resolved_at: string | null;
  resolved_by: string | null;
  notes: string | null;
}

export interface HostEvent {
  id: string;
  /** Strictly increasing per daemon; a gap tells a subscriber it lost events. */
  sequence: number;
  timestamp: string;
  kind: string;
  agent_id: string | null;
  message: string | null;
  payload: unknown;
}

export interface RegisterAgentInput {
  id?: string;
  name: string;
  kind: string;
  capabilities?: string[];
  project?: string;
  pid?: number;
  display?: unknown;
  metadata?: Record<string, unknown>;
}

export interface SetStatusInput {
  agent_id: string;
  status: AgentStatus;
  current_task?: string;
  message?: string;
  payload?: unknown;
}

export interface RegisterDeviceInput {
  id?: string;
  name: string;
  platform: string;
  capabilities?: string[];
  status?: string;
  metadata?: Record<string, unknown>;
}

export interface UpdateDeviceInput {
  device_id: string;
  name?: string;
  platform?: string;
  capabilities?: string[];
  status?: string;
  metadata?: Record<string, unknown>;
}

export interface ApprovalInput {
  agent_id?: string;
  title: string;
  action?: string;
  description?: string;
  details?: unknown;
  context?: unknown;
  required_approvals?: number;
}

/** Thrown for ACL refusals (`denied`), unknown ids (`not_found`) and decisions already made (`conflict`). */
export class HostError extends CarError {
  constructor(message: string, kind: 'denied' | 'not_found' | 'conflict' = 'denied') {
    super(kind, message);
    this.name = 'HostError';
  }
}
