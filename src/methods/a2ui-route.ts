import { randomUUID } from 'node:crypto';
import { checkEndpoint, isLoopbackHost, sendA2aMessage, type A2aRouteAuth } from '../a2a/index.js';
import {
  A2UI_ACTION_VERSION,
  A2UI_MEDIA_TYPE,
  SUPPORTED_CATALOG_IDS,
  extractA2ui,
  type A2uiAction,
  type ActionRoute,
  type ApplyOutcome,
  type SurfaceOwner,
} from '../a2ui/index.js';
import type { ServerContext } from '../contract/index.js';
import { CarError } from '../util/errors.js';

/** What an ingest tells its caller: the messages applied, and those refused or rejected (when any). */
export function ingestResult(outcome: ApplyOutcome): Record<string, unknown> {
  const out: Record<string, unknown> = { applied: outcome.applied };
  if (outcome.rejected.length > 0) out.rejected = outcome.rejected;
  if (outcome.refused.length > 0) out.refused = outcome.refused;
  return out;
}

/**
 * Take the A2UI messages of an A2A agent's reply (a task or a message, as A2A JSON) onto the
 * surfaces, owned by that reply's task and context at `endpoint`. Each message stands on its own:
 * a bad one is reported in `rejected` and the send itself still succeeds.
 */
export function ingestA2aReply(state: ServerContext, reply: Record<string, unknown>, endpoint: string, routeAuth: A2aRouteAuth | undefined): Record<string, unknown> {
  const messages = extractA2ui(reply);
  if (messages.length === 0) return { applied: [] };
  const owner: SurfaceOwner = { source: 'a2a', endpoint };
  const taskId = typeof reply.id === 'string' && 'status' in reply ? reply.id : reply.taskId;
  if (typeof taskId === 'string' && taskId !== '') owner.taskId = taskId;
  if (typeof reply.contextId === 'string' && reply.contextId !== '') owner.contextId = reply.contextId;
  return ingestResult(state.a2ui.apply(messages, { owner, routeAuth, atomic: false, at: 'result.a2ui' }));
}

/** A trusted peer (`a2a.peers.add`) on the loopback at the route's endpoint: user actions may go back to it. */
export async function isTrustedLoopbackPeer(state: ServerContext, endpoint: string): Promise<boolean> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return false;
  }
  return isLoopbackHost(url.hostname) && (await state.a2a.peers.byUrl(url)) !== undefined;
}

/**
 * Send a user action back to the agent that owns its surface: a `SendMessage` continuation in the
 * surface's context (and task, unless that task has ended: then a new task in the same context),
 * one A2UI data part `{version, action}`, with the credentials kept for the route.
 */
export async function sendActionContinuation(
  state: ServerContext,
  route: ActionRoute,
  action: A2uiAction,
  dataModel: unknown,
): Promise<Record<string, unknown>> {
  checkEndpoint(route.endpoint, false, 'surfaceId');
  const metadata: Record<string, unknown> = { a2uiClientCapabilities: { [A2UI_ACTION_VERSION]: { supportedCatalogIds: [...SUPPORTED_CATALOG_IDS] } } };
  if (dataModel !== undefined) metadata.a2uiClientDataModel = { surfaces: { [action.surfaceId]: dataModel } };
  const message = (taskId: string | undefined): Record<string, unknown> => {
    const m: Record<string, unknown> = {
      messageId: randomUUID(),
      role: 'ROLE_USER',
      // The media type twice: v1.0 reads `mediaType`, a v0.3 agent the part's `metadata.mimeType`.
      parts: [{ data: { version: A2UI_ACTION_VERSION, action }, mediaType: A2UI_MEDIA_TYPE, metadata: { mimeType: A2UI_MEDIA_TYPE } }],
      metadata,
    };
    if (route.contextId !== undefined) m.contextId = route.contextId;
    if (taskId !== undefined) m.taskId = taskId;
    return m;
  };
  const sign = await state.a2a.peerSigner(route.endpoint);
  const send = (taskId: string | undefined): Promise<Record<string, unknown>> =>
    sendA2aMessage({
      sign,
      endpoint: route.endpoint,
      message: message(taskId),
      blocking: true,
      routeAuth: route.routeAuth as A2aRouteAuth | undefined,
      timeoutMs: state.config.a2aSendTimeoutMs,
    });
  try {
    return await send(route.taskId);
  } catch (err) {
    if (route.taskId === undefined || !(err instanceof CarError) || !/terminal state/i.test(err.message)) throw err;
    return send(undefined);
  }
}
