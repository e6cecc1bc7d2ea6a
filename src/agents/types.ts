/** What a supervised agent is: how to start it and how to treat its exits. */
export type RestartPolicy = 'never' | 'on_failure' | 'always';

export const AGENT_STATUSES = ['stopped', 'starting', 'running', 'backoff', 'errored'] as const;
export type ManagedStatus = (typeof AGENT_STATUSES)[number];

export interface AgentSpec {
  id: string;
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env: Record<string, string>;
  restart: RestartPolicy;
  max_restarts: number;
  backoff_secs: number;
  auto_start: boolean;
  /** Absolute path, resolved on PATH once at upsert. */
  interpreter?: string;
}

export const SPEC_DEFAULTS = { restart: 'never', max_restarts: 5, backoff_secs: 1, auto_start: false } as const;

/** `agents.list` row. */
export interface ManagedAgent {
  spec: AgentSpec;
  status: ManagedStatus;
  pid?: number;
  last_exit_code?: number | null;
  restart_count: number;
  started_at?: string;
  last_error?: string;
  attached: boolean;
  session_id?: string;
}

export interface AgentHealth {
  id: string;
  command: string;
  ok: boolean;
  reason?: string;
}

/** Capabilities an installed agent declares; required ones must all be served or the install fails. */
export interface AgentCapabilities {
  required: string[];
  optional: string[];
}

export type LogStream = 'combined' | 'stdout' | 'stderr';

export interface TailRequest {
  n: number;
  stream: LogStream;
  /** Lines to skip from the end (paging backwards). */
  offset: number;
}

export interface TailResult {
  lines: string[];
  stdout: string[];
  stderr: string[];
  stdout_total: number;
  stderr_total: number;
  stdout_path: string | null;
  stderr_path: string | null;
  more: boolean;
}
