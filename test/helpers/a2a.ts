import { ClientFactory, type Client } from '@a2a-js/sdk/client';
import { AgentCard, SendMessageRequest, Task, type Message } from '@a2a-js/sdk';
import {
  DefaultRequestHandler,
  InMemoryTaskStore,
  JsonRpcTransportHandler,
  ServerCallContext,
  UnauthenticatedUser,
  type AgentExecutor,
} from '@a2a-js/sdk/server';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RawClient } from './raw-client.js';

/** Answer every `tools.execute` on `c` with `answer(tool, parameters)` (a thrown error is a tool error reply). */
export function serveTools(c: RawClient, answer: (tool: string, parameters: Record<string, unknown>) => unknown): void {
  c.ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString('utf8'));
    if (frame?.method !== 'tools.execute') return;
    try {
      c.send({ jsonrpc: '2.0', id: frame.id, result: answer(frame.params.tool, frame.params.parameters) });
    } catch (err) {
      c.send({ jsonrpc: '2.0', id: frame.id, error: { code: -32000, message: (err as Error).message } });
    }
  });
}

/** A v1.0 SendMessageRequest from its JSON form. */
export function sendRequest(parts: unknown[], extra: Record<string, unknown> = {}): SendMessageRequest {
  return SendMessageRequest.fromJSON({ message: { messageId: randomUUID(), role: 'ROLE_USER', parts }, ...extra });
}

export async function sdkClient(base: string): Promise<Client> {
  return new ClientFactory().createFromUrl(base);
}

/** A send result as A2A JSON. */
export function taskJson(result: Message | Task): Record<string, unknown> {
  if ('status' in result) return Task.toJSON(result) as Record<string, unknown>;
  throw new Error(`expected a task, got a message: ${JSON.stringify(result)}`);
}

/** POST one JSON-RPC body to an A2A endpoint and read the JSON reply. */
export async function postRpc(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

/**
 * An A2A agent built with the SDK alone on loopback HTTP: its card (extra card fields in `card`)
 * at every GET, JSON-RPC 1.0 at every POST, run by `executor`. `onRequest` sees every request's headers
 * before the executor runs. Close it with `close()`.
 */
export async function sdkAgentServer(
  executor: AgentExecutor,
  card: Record<string, unknown>,
  onRequest: (headers: IncomingHttpHeaders) => void = () => {},
): Promise<{ url: string; close: () => void }> {
  let base = '';
  const cardOf = () =>
    AgentCard.fromJSON({
      version: '1',
      supportedInterfaces: [{ url: `${base}/`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' }],
      defaultInputModes: ['text/plain'],
      defaultOutputModes: ['text/plain'],
      skills: [],
      ...card,
    });
  const store = new InMemoryTaskStore();
  const server = createServer((req, res) => {
    onRequest(req.headers);
    if (req.method === 'GET') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(AgentCard.toJSON(cardOf())));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const handler = new JsonRpcTransportHandler(new DefaultRequestHandler(cardOf(), store, executor));
      const out = await handler.handle(Buffer.concat(chunks).toString('utf8'), new ServerCallContext({ user: new UnauthenticatedUser(), requestedVersion: '1.0' }));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(out));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: base, close: () => (server.closeAllConnections(), server.close()) };
}
