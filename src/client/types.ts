/** Result of `session.auth`. */
export interface AuthResult {
  ok: true;
  auth_enabled: boolean;
  role?: 'host';
  agent_id?: string;
  memory_namespace?: string;
}

/** Result of `server.handshake`. */
export interface HandshakeResult {
  protocol_version: number;
  server_version: string;
  client_protocol_version: number;
}

export interface CapabilitiesList {
  caller_role: string;
  count: number;
  methods: { method: string; role: string }[];
}

export interface ToolDefinitionInput {
  name: string;
  description?: string;
  parameters?: unknown;
  returns?: unknown;
  idempotent?: boolean;
  cache_ttl_secs?: number;
  rate_limit?: unknown;
}

export interface ToolsList {
  tools: (Required<Pick<ToolDefinitionInput, 'name' | 'description' | 'idempotent'>> & ToolDefinitionInput)[];
  count: number;
}

/** Params of a `tools.execute` request the daemon sends to the client. */
export interface ToolExecuteParams {
  action_id: string;
  tool: string;
  parameters: Record<string, unknown>;
  /** Same object as `parameters`, for clients written against the older field name. */
  params?: Record<string, unknown>;
  timeout_ms?: number;
  attempt: number;
  request_id: string;
  session_id?: string;
}
