import { randomUUID } from 'node:crypto';
import { CarError } from '../util/errors.js';

export const CHAT_EVENT_KINDS = ['token', 'tool_call', 'approval_pending', 'goal_evaluated', 'done', 'error'] as const;
export type ChatEventKind = (typeof CHAT_EVENT_KINDS)[number];

export interface ChatEvent {
  session_id: string;
  kind: ChatEventKind;
  delta?: unknown;
}

/** Why a chat session ended. */
export type ChatEnd = 'done' | 'error' | 'cancelled' | 'host_disconnected' | 'agent_disconnected';

/**
 * Where one chat session's events go. `agents.chat` routes them to the host connection that
 * started the turn; another component (a goal loop, an A2A task) can register its own.
 */
export interface ChatRoute {
  /** An event from the agent, in order. Returning false keeps a terminal event from ending the session (a goal loop re-prompting). */
  deliver(event: ChatEvent): boolean | void;
  /** The session is over (after its last event, if any). */
  closed?(reason: ChatEnd): void;
}

/** Bookkeeping for one in-flight chat turn (upstream `ChatSession`). */
export interface ChatSession {
  readonly id: string;
  readonly agentId: string;
  /** The connection the agent answers on. */
  readonly agentClientId: string;
  /** The connection that started the turn (events are routed only there), or null for an in-daemon route. */
  readonly hostClientId: string | null;
  /** Unix seconds. */
  readonly createdAt: number;
  route: ChatRoute;
}

export interface ChatHubOptions {
  maxSessions: number;
  /** Tell the agent to stop a turn nobody waits for any more (`agent.chat.cancel`). */
  cancelAgent: (session: ChatSession) => void;
  /** A session opened / ended (the daemon reports them as host events). */
  onOpen?: (session: ChatSession) => void;
  onEnd?: (session: ChatSession, reason: ChatEnd) => void;
}

/**
 * Every chat session in flight, keyed by session id, with the route its events take. A session
 * ends on a terminal event (`done` / `error`), on cancel, or when either side disconnects.
 */
export class ChatHub {
  private readonly sessions = new Map<string, ChatSession>();

  constructor(private readonly opts: ChatHubOptions) {}

  get size(): number {
    return this.sessions.size;
  }

  get(id: string): ChatSession | undefined {
    return this.sessions.get(id);
  }

  list(): ChatSession[] {
    return [...this.sessions.values()];
  }

  open(init: { sessionId?: string; agentId: string; agentClientId: string; hostClientId: string | null; route: ChatRoute }): ChatSession {
    const id = init.sessionId ?? `chat-${randomUUID()}`;
    if (this.sessions.has(id)) throw new CarError('conflict', `chat session '${id}' is already in flight`, { field: 'session_id' });
    if (this.sessions.size >= this.opts.maxSessions) {
      throw new CarError('limit', `too many chat sessions in flight (limit ${this.opts.maxSessions})`, { limit: this.opts.maxSessions });
    }
    const session: ChatSession = {
      id,
      agentId: init.agentId,
      agentClientId: init.agentClientId,
      hostClientId: init.hostClientId,
      createdAt: Math.floor(Date.now() / 1000),
      route: init.route,
    };
    this.sessions.set(id, session);
    this.opts.onOpen?.(session);
    return session;
  }

  /**
   * An `agent.chat.event` from the connection `fromClientId`. Only the agent connection of the
   * session may speak for it; a terminal event ends the session unless its route keeps it.
   */
  event(fromClientId: string, event: ChatEvent): void {
    const session = this.sessions.get(event.session_id);
    if (session === undefined) throw new CarError('not_found', `no chat session '${event.session_id}' in flight`, { field: 'session_id' });
    if (session.agentClientId !== fromClientId) {
      throw new CarError('denied', `chat session '${event.session_id}' belongs to another connection`, { field: 'session_id' });
    }
    const keep = session.route.deliver(event) === false;
    if (!keep && (event.kind === 'done' || event.kind === 'error')) this.finish(session, event.kind);
  }

  /** Cancel a session: the agent is told, the route closes. False when it was not in flight. */
  cancel(id: string): boolean {
    const session = this.sessions.get(id);
    if (session === undefined) return false;
    this.opts.cancelAgent(session);
    this.finish(session, 'cancelled');
    return true;
  }

  /** End a session from inside (a route that gave up); nothing is sent to the agent. */
  end(id: string, reason: ChatEnd): void {
    const session = this.sessions.get(id);
    if (session !== undefined) this.finish(session, reason);
  }

  /** A connection closed: its chats as host are cancelled at the agent; its chats as agent end with an error to the host. */
  connectionClosed(clientId: string): void {
    for (const session of [...this.sessions.values()]) {
      if (session.agentClientId === clientId) {
        session.route.deliver({ session_id: session.id, kind: 'error', delta: { message: `agent '${session.agentId}' disconnected` } });
        this.finish(session, 'agent_disconnected');
      } else if (session.hostClientId === clientId) {
        this.opts.cancelAgent(session);
        this.finish(session, 'host_disconnected');
      }
    }
  }

  private finish(session: ChatSession, reason: ChatEnd): void {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
    session.route.closed?.(reason);
    this.opts.onEnd?.(session, reason);
  }
}
