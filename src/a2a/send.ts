import { Message, SendMessageRequest, Task } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { randomUUID } from 'node:crypto';
import { CarError } from '../util/errors.js';
import { isObject } from '../util/values.js';
import type { SignedRequest } from './peer-signature.js';
import { checkEndpoint } from './peers.js';

/** Credentials an outbound A2A call carries; kept server-side, never shown to renderers. */
export type A2aRouteAuth = { type: 'none' } | { type: 'bearer'; token: string } | { type: 'header'; name: string; value: string };

export interface A2aSendRequest {
  endpoint: string;
  /** Text, or an A2A message (JSON). */
  message: string | Record<string, unknown>;
  blocking?: boolean | undefined;
  routeAuth?: A2aRouteAuth | undefined;
  allowUntrustedEndpoint?: boolean | undefined;
  timeoutMs: number;
  /** Signs each request (a trusted peer's listener checks the daemon's key); none: unsigned. */
  sign?: ((req: SignedRequest) => Record<string, string>) | undefined;
}

function headersOf(auth: A2aRouteAuth | undefined): Record<string, string> {
  if (auth === undefined || auth.type === 'none') return {};
  if (auth.type === 'bearer') return { authorization: `Bearer ${auth.token}` };
  return { [auth.name]: auth.value };
}

/** Send one message to another A2A agent with the SDK's client; resolves to the task or message as A2A JSON. */
export async function sendA2aMessage(req: A2aSendRequest): Promise<Record<string, unknown>> {
  const url = checkEndpoint(req.endpoint, req.allowUntrustedEndpoint === true, 'endpoint');
  const extra = headersOf(req.routeAuth);
  // Every request goes through here, so the card cannot send the client somewhere the caller did not allow.
  const fetchImpl: typeof fetch = async (input, init) => {
    const target = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const to = checkEndpoint(target, req.allowUntrustedEndpoint === true, 'endpoint');
    const headers = new Headers(input instanceof Request ? input.headers : undefined);
    new Headers(init?.headers).forEach((v, k) => headers.set(k, v));
    for (const [k, v] of Object.entries(extra)) headers.set(k, v);
    let body = init?.body;
    if (req.sign !== undefined) {
      const bytes = await bodyBytes(input instanceof Request && body === undefined ? await input.clone().arrayBuffer() : body);
      const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
      for (const [k, v] of Object.entries(req.sign({ method, host: to.host, path: `${to.pathname}${to.search}`, body: bytes }))) headers.set(k, v);
      if (bytes.length > 0) body = bytes;
    }
    return fetch(input, { ...init, headers, body, signal: init?.signal ?? AbortSignal.timeout(req.timeoutMs) });
  };
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new JsonRpcTransportFactory({ fetchImpl })],
      cardResolver: new DefaultAgentCardResolver({ fetchImpl }),
    }),
  );
  const message = typeof req.message === 'string' ? { messageId: randomUUID(), role: 'ROLE_USER', parts: [{ text: req.message }] } : req.message;
  if (!isObject(message)) throw new CarError('invalid', 'message must be text or an A2A message object', { field: 'message' });
  const request = SendMessageRequest.fromJSON({
    message: { messageId: randomUUID(), role: 'ROLE_USER', ...message },
    configuration: { returnImmediately: req.blocking !== true },
  });
  let result: Message | Task;
  try {
    const client = await factory.createFromUrl(url.href.replace(/\/+$/, ''));
    result = await client.sendMessage(request, { signal: AbortSignal.timeout(req.timeoutMs) });
  } catch (err) {
    throw new CarError('unavailable', `A2A send to ${url.origin} failed: ${(err as Error).message}`, { cause: err });
  }
  return ('status' in result ? Task.toJSON(result) : Message.toJSON(result)) as Record<string, unknown>;
}

/** The bytes of a request body the SDK's client hands to fetch (text, bytes, or none). */
async function bodyBytes(body: unknown): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array();
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof Blob) return new Uint8Array(await body.arrayBuffer());
  throw new CarError('invalid', 'a signed A2A request needs a body the daemon can hash (text or bytes)');
}
