import { ACKNOWLEDGED, filesystemTools, type A2aRuntime, type A2aStartRequest } from '../a2a/index.js';
import { extractA2ui } from '../a2ui/index.js';
import type { ChatRoute } from '../agents/chat.js';
import type { ServerContext, SessionContext } from '../contract/index.js';
import { ensureDir } from '../util/durable-file.js';
import { CarError } from '../util/errors.js';
import { isObject } from '../util/values.js';
import { ingestResult } from './a2ui-route.js';

/** A2UI parts of inbound A2A messages become surfaces owned by the message's task and context. */
function a2uiIngest(state: ServerContext): NonNullable<A2aRuntime['ingestA2ui']> {
  return (payloads, owner) =>
    ingestResult(state.a2ui.apply(extractA2ui(payloads), { owner: { source: 'a2a', ...owner }, atomic: false, at: 'message.parts' }));
}

function toolsOf(session: SessionContext): A2aRuntime['tools'] {
  return () => session.tools.list().map((t) => ({ name: t.name, description: t.description }));
}

/**
 * The runtime of a listener that shares `session`: its tools (their calls come back to it as
 * `tools.execute`), its gates (every proposal is a `proposal.submit` of that session), and its
 * chat (`agent.chat`) for free text.
 */
export function sharedRuntime(state: ServerContext, session: SessionContext): A2aRuntime {
  return {
    tools: toolsOf(session),
    submit: (proposal, signal) => session.call('proposal.submit', { proposal }, signal),
    chat: (text, signal) => hostChat(state, session, text, signal),
    ingestA2ui: a2uiIngest(state),
  };
}

/**
 * The runtime of a listener with a session of its own: the basic filesystem tools over the
 * configured directory, run in process, behind the same gates. Close the session when done.
 */
export async function ownRuntime(state: ServerContext): Promise<{ runtime: A2aRuntime; close: () => void }> {
  const root = state.config.a2aFilesRoot;
  const tools = root === null ? [] : filesystemTools(root, state.config.a2aMaxFileBytes);
  if (root !== null) await ensureDir(root);
  const session = state.openLocalSession(async (method, params) => {
    const call = isObject(params) ? params : {};
    const tool = method === 'tools.execute' ? tools.find((t) => t.name === call.tool) : undefined;
    if (tool === undefined) throw new Error(`'${method}' has no handler in the A2A listener's own runtime`);
    return tool.run(isObject(call.parameters) ? call.parameters : {});
  });
  session.tools.register(tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters, idempotent: t.name !== 'write_file' })));
  return {
    runtime: {
      tools: toolsOf(session),
      submit: (proposal, signal) => session.call('proposal.submit', { proposal }, signal),
      chat: null,
      ingestA2ui: a2uiIngest(state),
    },
    close: () => session.channel.close(),
  };
}

/** Serve A2A on a runtime of its own, closed when the server stops or fails to start. */
export async function startOwnA2a(state: ServerContext, req: A2aStartRequest): Promise<{ bound: string }> {
  const own = await ownRuntime(state);
  try {
    return await state.a2a.start(req, own.runtime, own.close);
  } catch (err) {
    own.close();
    throw err;
  }
}

function textOf(delta: unknown): string {
  if (typeof delta === 'string') return delta;
  return isObject(delta) && typeof delta.text === 'string' ? delta.text : '';
}

/**
 * Hand `text` to the host's chat (`agent.chat` on the sharing connection) and gather its reply
 * from the `agent.chat.event`s: tokens are joined, `done {text}` wins. No acceptance within the
 * ack timeout, or a refusal, answers "Acknowledged."; past the reply cap the turn is cancelled at
 * the host and whatever arrived is the reply.
 */
async function hostChat(state: ServerContext, host: SessionContext, text: string, signal: AbortSignal): Promise<string> {
  let tokens = '';
  let finish!: (reply: string | Error) => void;
  const ended = new Promise<string | Error>((resolve) => (finish = resolve));
  const route: ChatRoute = {
    deliver(event) {
      if (event.kind === 'token') tokens += textOf(event.delta);
      else if (event.kind === 'done') finish(textOf(event.delta) || tokens);
      else if (event.kind === 'error') finish(new Error(`the host's chat failed: ${textOf(event.delta) || JSON.stringify(event.delta ?? null)}`));
    },
    closed: () => finish(tokens),
  };
  const chat = state.chat.open({ agentId: host.agentId ?? 'a2a-host', agentClientId: host.clientId, hostClientId: null, route });
  const config = state.config;
  try {
    const ack = await host.channel.request('agent.chat', { session_id: chat.id, prompt: text, context: { source: 'a2a' } }, { timeoutMs: config.a2aChatAckTimeoutMs, signal });
    if (!isObject(ack) || ack.accepted !== true) throw new CarError('unavailable', 'declined');
  } catch {
    state.chat.end(chat.id, 'error');
    return ACKNOWLEDGED;
  }
  const cap = setTimeout(() => state.chat.cancel(chat.id), config.a2aChatReplyTimeoutMs);
  const onAbort = (): void => void state.chat.cancel(chat.id);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const reply = await ended;
    if (reply instanceof Error) throw reply;
    return reply === '' ? ACKNOWLEDGED : reply;
  } finally {
    clearTimeout(cap);
    signal.removeEventListener('abort', onAbort);
  }
}
