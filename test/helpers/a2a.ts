import { ClientFactory, type Client } from '@a2a-js/sdk/client';
import { SendMessageRequest, Task, type Message } from '@a2a-js/sdk';
import { randomUUID } from 'node:crypto';
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
