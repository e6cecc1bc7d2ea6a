import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createMcpEndpoint, type Listener, type McpEndpointOptions, type McpHttpEndpoint, type ServerState } from '../../src/index.js';

export interface McpFixture {
  endpoint: McpHttpEndpoint;
  listener: Listener;
  /** http://127.0.0.1:<port>/mcp */
  url: string;
  /** An SDK client connected over streamable HTTP; closed by `close()`. */
  client(): Promise<Client>;
  close(): Promise<void>;
}

/** The MCP endpoint of `state` on a random loopback port. */
export async function startMcp(state: ServerState, opts: McpEndpointOptions = {}): Promise<McpFixture> {
  const endpoint = createMcpEndpoint(state, opts);
  const listener = await endpoint.listen('127.0.0.1', 0);
  const url = `http://${listener.address}/mcp`;
  const clients: Client[] = [];
  return {
    endpoint,
    listener,
    url,
    async client() {
      const client = new Client({ name: 'car-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
      await listener.close();
    },
  };
}

/** The structured result of a successful tool call (throws with the text of an isError result). */
export async function callTool(client: Client, name: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
  return result.structuredContent as Record<string, unknown>;
}

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with exactly these headers (fetch would not let a test set Host). */
export function rawHttp(url: string, method: string, headers: Record<string, string>, body?: unknown): Promise<RawReply> {
  const u = new URL(url);
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname, method, headers: { ...(payload !== undefined && { 'content-type': 'application/json' }), ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.once('error', reject);
    req.end(payload);
  });
}

export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

/** Open a session by hand; returns its id. */
export async function rawSession(url: string): Promise<string> {
  const r = await rawHttp(url, 'POST', { accept: 'application/json, text/event-stream' }, INITIALIZE);
  const id = r.headers['mcp-session-id'];
  if (r.status !== 200 || typeof id !== 'string') throw new Error(`initialize failed: ${r.status} ${r.body}`);
  await rawHttp(url, 'POST', { accept: 'application/json, text/event-stream', 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' }, { jsonrpc: '2.0', method: 'notifications/initialized' });
  return id;
}

/** For every shared tool, arguments its input schema refuses (a missing field or a wrong type). */
export const REFUSED_ARGUMENTS: Record<string, Record<string, unknown>> = {
  memory_add_fact: { subject: 'only a subject' },
  memory_query: { query: 'x', k: 0 },
  memory_update_status: {},
  memory_save_knowledge: { subject: 's', body: 'b', confidence: 'high' },
  memory_save_procedural: { body: 'b' },
  memory_delete: { id: '' },
  memory_intervene: { force: 'yes' },
  memory_evaluate: { cases: [{ id: 1 }] },
  skill_ingest: { name: 'n' },
  skill_list: { domain: 5 },
  skill_find: { task: 'x', k: 21 },
  verify: { proposal: { actions: [] }, max_actions: 1001 },
  simulate: { proposal: 'not an object' },
  equivalent: { proposal_a: {}, proposal_b: {}, test_states: [] },
  optimize: {},
  policy_check: { tool: '' },
};

/** Every shared tool answers refused arguments with an isError result naming the problem. */
export async function assertRefusals(client: Client): Promise<void> {
  for (const [name, args] of Object.entries(REFUSED_ARGUMENTS)) {
    const r = await client.callTool({ name, arguments: args });
    if (r.isError !== true) throw new Error(`${name} accepted ${JSON.stringify(args)}: ${JSON.stringify(r).slice(0, 300)}`);
    const text = JSON.stringify(r.content);
    if (!/Input validation error|invalid/i.test(text)) throw new Error(`${name}: unexpected error text ${text}`);
  }
}
