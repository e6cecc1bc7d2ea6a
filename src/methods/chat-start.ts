import { GoalLoop, type ChatGoal, type ChatRoute, type ChatSession, type Judge } from '../agents/index.js';
import type { ServerContext } from '../contract/index.js';
import { RequestAbortedError } from '../rpc/errors.js';
import { CarError } from '../util/errors.js';
import { isObject } from '../util/values.js';

export interface AgentChatStart {
  agentId: string;
  prompt: string;
  sessionId?: string;
  model?: string;
  attachments?: unknown[];
  goal?: ChatGoal;
  voiceInput?: unknown;
  context?: unknown;
  /** The connection the events are for; null when the route is in-daemon (an A2A task, a test). */
  hostClientId: string | null;
  route: ChatRoute;
  /** Judges goal checks (required with a goal). */
  judge?: Judge;
}

/**
 * Start a chat turn with an attached agent: open the session with its route, send the agent
 * `agent.chat`, and wait for its `{accepted: true}` (the configured ack timeout). Anything that
 * wants an agent's reply (`agents.chat`, an A2A task) goes through here with its own route.
 */
export async function startAgentChat(state: ServerContext, start: AgentChatStart): Promise<ChatSession> {
  const agent = state.agentSession(start.agentId);
  if (agent === undefined) {
    throw new CarError('unavailable', `agent '${start.agentId}' is not attached: start it (agents.start) or let it connect`, {
      field: 'agent_id',
      detail: { reason: 'agent_not_attached' },
    });
  }
  let sessionId = '';
  const send = async (prompt: string, first: boolean): Promise<void> => {
    const params: Record<string, unknown> = { session_id: sessionId, prompt };
    if (start.model !== undefined) params.model = start.model;
    if (first && start.attachments !== undefined) params.attachments = start.attachments;
    if (start.goal !== undefined) params.goal = start.goal;
    if (start.voiceInput !== undefined) params.voice_input = start.voiceInput;
    if (start.context !== undefined) params.context = start.context;
    let ack: unknown;
    try {
      ack = await agent.channel.request('agent.chat', params, { timeoutMs: state.config.chatAckTimeoutMs });
    } catch (err) {
      const timedOut = err instanceof RequestAbortedError && err.reason === 'timeout';
      throw new CarError(timedOut ? 'timeout' : 'unavailable', `agent '${start.agentId}' did not accept the chat: ${(err as Error).message}`, {
        cause: err,
        detail: { reason: timedOut ? 'ack_timeout' : 'agent_refused' },
      });
    }
    if (!isObject(ack) || ack.accepted !== true) {
      throw new CarError('unavailable', `agent '${start.agentId}' declined the chat`, { detail: { reason: 'agent_declined', ack } });
    }
  };
  let route = start.route;
  if (start.goal !== undefined) {
    if (start.judge === undefined) throw new CarError('unavailable', 'a chat goal needs a model to judge it', { field: 'goal' });
    route = new GoalLoop(start.route, {
      goal: start.goal,
      judge: start.judge,
      reprompt: (prompt) => send(prompt, false),
      end: (reason) => state.chat.end(sessionId, reason),
    });
  }
  const session = state.chat.open({
    sessionId: start.sessionId,
    agentId: start.agentId,
    agentClientId: agent.clientId,
    hostClientId: start.hostClientId,
    route,
  });
  sessionId = session.id;
  try {
    await send(start.prompt, true);
  } catch (err) {
    state.chat.end(session.id, 'error');
    throw err;
  }
  return session;
}
