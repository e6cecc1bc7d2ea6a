import { randomUUID } from 'node:crypto';
import { defined } from '../util/values.js';
import type { CarClient, ConnectOptions } from './client.js';
import type { AgentOutput as MultiAgentOutput, AgentSpec as MultiAgentSpec, BudgetLimits as MultiBudget } from '../multi/types.js';

type Result = Record<string, unknown>;

/** `agents.chat.event`: one event of a chat turn. */
export interface ChatEvent {
  session_id: string;
  kind: 'token' | 'tool_call' | 'approval_pending' | 'goal_evaluated' | 'done' | 'error';
  delta?: unknown;
}

export interface ChatOptions {
  session_id?: string;
  stream?: boolean;
  model?: string;
  attachments?: unknown[];
  goal?: { check: string; max_iterations?: number };
  context?: unknown;
}

/** What `agent.chat` hands an agent. */
export interface ChatRequest {
  session_id: string;
  prompt: string;
  model?: string;
  attachments?: unknown[];
  goal?: { check: string; max_iterations: number };
  context?: unknown;
}

/** One turn an agent serves: stream with `token`, ask with `approval`; the handler's return value is the reply. */
export interface ChatTurn {
  readonly request: ChatRequest;
  /** Aborted on `agent.chat.cancel` or when the connection closes. */
  readonly signal: AbortSignal;
  token(text: string): void;
  toolCall(call: unknown): void;
  /** Raise `approval_pending` and wait for the host's `agents.chat.approve`. */
  approval(approvalId: string, detail?: Record<string, unknown>): Promise<boolean>;
  emit(kind: ChatEvent['kind'], delta?: unknown): void;
}

export type ChatHandler = (turn: ChatTurn) => unknown;

/**
 * Serve `agent.chat` on this connection with `handler`: each turn is acknowledged at once, then
 * its events stream as `agent.chat.event` notifications, ending with `done` (the handler's return
 * value as `{text}` or as given) or `error` (what it threw). A cancelled turn sends nothing more.
 */
export function serveChat(client: CarClient, handler: ChatHandler): void {
  const turns = new Map<string, AbortController>();
  const approvals = new Map<string, (approved: boolean) => void>();
  void client.closed.then(() => {
    for (const c of turns.values()) c.abort(new Error('connection closed'));
  });
  client.onNotification('agent.chat.cancel', (params) => {
    const id = (params as { session_id?: unknown } | undefined)?.session_id;
    if (typeof id === 'string') turns.get(id)?.abort(new Error('chat cancelled'));
  });
  client.onRequest('agent.chat.approve', (params) => {
    const p = params as { session_id: string; approval_id: string; decision?: unknown };
    const key = `${p.session_id}\u0000${p.approval_id}`;
    const resolve = approvals.get(key);
    if (resolve === undefined) return { resolved: false };
    approvals.delete(key);
    resolve(p.decision === true);
    return { resolved: true };
  });
  client.onRequest('agent.chat', (params) => {
    const request = params as ChatRequest;
    const id = request.session_id;
    turns.get(id)?.abort(new Error('superseded by a new turn'));
    const controller = new AbortController();
    turns.set(id, controller);
    const emit = (kind: ChatEvent['kind'], delta?: unknown): void => {
      if (!controller.signal.aborted) client.notify('agent.chat.event', defined({ session_id: id, kind, delta }));
    };
    const turn: ChatTurn = {
      request,
      signal: controller.signal,
      emit,
      token: (text) => emit('token', { text }),
      toolCall: (call) => emit('tool_call', call),
      approval: (approvalId, detail = {}) =>
        new Promise<boolean>((resolve) => {
          approvals.set(`${id}\u0000${approvalId}`, resolve);
          emit('approval_pending', { approval_id: approvalId, ...detail });
        }),
    };
    queueMicrotask(() => {
      void (async () => {
        try {
          const out = await handler(turn);
          emit('done', typeof out === 'string' ? { text: out } : (out ?? {}));
        } catch (err) {
          emit('error', { message: (err as Error).message });
        } finally {
          if (turns.get(id) === controller) turns.delete(id);
        }
      })();
    });
    return { accepted: true };
  });
}

/**
 * The agent side of a supervised agent: connect to `CAR_DAEMON_URL` as `CAR_AGENT_ID` with
 * `CAR_AGENT_TOKEN` (as the supervisor started it) and serve `agent.chat` with `handler`.
 */
export async function runAgent(
  handler: ChatHandler,
  options: { env?: Record<string, string | undefined> } & ConnectOptions = {},
  connect: (o: ConnectOptions) => Promise<CarClient>,
): Promise<CarClient> {
  const env = options.env ?? process.env;
  const agentId = options.agentId ?? env.CAR_AGENT_ID;
  const token = options.token ?? env.CAR_AGENT_TOKEN;
  const url = options.url ?? env.CAR_DAEMON_URL;
  if (agentId === undefined || token === undefined || url === undefined) {
    throw new Error('runAgent needs CAR_AGENT_ID, CAR_AGENT_TOKEN and CAR_DAEMON_URL (the supervisor sets them) or the same options');
  }
  // Serve agent.chat before binding the identity: the daemon may send a turn as soon as the agent shows attached.
  const client = await connect({ ...options, url, token: null, handshake: false });
  serveChat(client, handler);
  try {
    client.authResult = await client.auth({ token, agent_id: agentId, memory_namespace: options.memoryNamespace });
    if (options.handshake !== false) client.handshakeResult = await client.handshake(options.clientVersion);
  } catch (err) {
    await client.close();
    throw err;
  }
  return client;
}

/** The host side of `agents.*`, `agents.chat` and `goal.*`. */
export function agentsApi(client: CarClient) {
  const call = <T>(method: string, params: Record<string, unknown>): Promise<T> => client.call<T>(method, params);
  return {
    list: () => call<Result[]>('agents.list', {}),
    health: () => call<Result[]>('agents.health', {}),
    upsert: (spec: Record<string, unknown>) => call<Result>('agents.upsert', spec),
    install: (manifest: Record<string, unknown>) => call<{ report: { missingOptional: string[] }; agent: Result | null }>('agents.install', manifest),
    remove: (id: string) => call<{ removed: boolean }>('agents.remove', { id }),
    start: (id: string) => call<Result>('agents.start', { id }),
    stop: (id: string, signal?: 'term' | 'kill') => call<Result>('agents.stop', defined({ id, signal })),
    restart: (id: string) => call<Result>('agents.restart', { id }),
    wait: (id: string, opts: { targets?: string[]; timeout_secs?: number } = {}) => call<Result>('agents.wait', { id, ...opts }),
    tailLog: (id: string, opts: { n?: number; stream?: 'combined' | 'stdout' | 'stderr'; offset?: number } = {}) =>
      call<Result>('agents.tail_log', { id, ...opts }),
    cancel: (sessionId: string) => call<{ cancelled: boolean; session_id: string }>('agents.chat.cancel', { session_id: sessionId }),
    approve: (sessionId: string, approvalId: string, decision: boolean | string) =>
      call<{ resolved: boolean; session_id: string }>('agents.chat.approve', { session_id: sessionId, approval_id: approvalId, decision }),
    /**
     * Chat with an attached agent: the events of the turn, in order, as an async iterator that ends
     * after `done` or `error`. Breaking out of the loop cancels the turn.
     */
    chat: (agentId: string, prompt: string, opts: ChatOptions = {}): AsyncIterableIterator<ChatEvent> & { session_id: string } => {
      const sessionId = opts.session_id ?? `chat-${randomUUID()}`;
      const queue: ChatEvent[] = [];
      let wake: (() => void) | null = null;
      let failure: Error | null = null;
      let ended = false;
      const off = client.onNotification('agents.chat.event', (params) => {
        const ev = params as ChatEvent;
        if (ev.session_id !== sessionId) return;
        queue.push(ev);
        wake?.();
      });
      call('agents.chat', { agent_id: agentId, prompt, ...opts, session_id: sessionId }).catch((err: Error) => {
        failure = err;
        wake?.();
      });
      const iterator = {
        session_id: sessionId,
        [Symbol.asyncIterator]() {
          return iterator;
        },
        async next(): Promise<IteratorResult<ChatEvent>> {
          while (queue.length === 0 && failure === null && !ended) await new Promise<void>((r) => (wake = r));
          wake = null;
          const ev = queue.shift();
          if (ev !== undefined) {
            if (ev.kind === 'done' || ev.kind === 'error') {
              ended = true;
              off();
            }
            return { value: ev, done: false };
          }
          off();
          if (failure !== null) throw failure;
          return { value: undefined, done: true };
        },
        async return(): Promise<IteratorResult<ChatEvent>> {
          if (!ended) {
            ended = true;
            off();
            await call('agents.chat.cancel', { session_id: sessionId }).catch(() => {});
          }
          return { value: undefined, done: true };
        },
      };
      return iterator;
    },
    goals: {
      set: (sessionId: string, goal: { check: string; max_iterations?: number }) => call<Result>('goal.set', { session_id: sessionId, goal }),
      status: (sessionId?: string) => call<Result>('goal.status', defined({ session_id: sessionId })),
      clear: (sessionId?: string) => call<Result>('goal.clear', defined({ session_id: sessionId })),
      suggest: (params: { prompt?: string; objective?: string; working_dir?: string; session_id?: string; set?: boolean }) =>
        call<Result>('goal.suggest', params),
    },
  };
}

/** What `multi.run_agent` hands the caller, what it answers, and the budget a pattern runs under. */
export type { AgentSpec as MultiAgentSpec, AgentOutput as MultiAgentOutput, BudgetLimits as MultiBudget } from '../multi/types.js';

/** `multi.*`, and the runner the daemon calls back for each agent (upstream `registerAgentRunner`). */
export function multiApi(client: CarClient) {
  const call = <T>(method: string, params: Record<string, unknown>): Promise<T> => client.call<T>(method, params);
  type Spec = MultiAgentSpec;
  return {
    /** Answer `multi.run_agent` with `fn(spec, task)`; a string answer is taken as the answer text. */
    registerAgentRunner(fn: (spec: Spec, task: string) => Promise<MultiAgentOutput | string> | MultiAgentOutput | string): void {
      client.onRequest('multi.run_agent', async (params) => {
        const { spec, task } = params as { spec: Spec; task: string };
        const t0 = performance.now();
        const out = await fn(spec, task);
        return typeof out === 'string' ? { name: spec.name, answer: out, turns: 1, tool_calls: 0, duration_ms: performance.now() - t0, error: null } : out;
      });
    },
    swarm: (mode: 'parallel' | 'sequential' | 'hybrid', agents: Spec[], task: string, synthesizer?: Spec, budget?: MultiBudget) =>
      call<Result>('multi.swarm', defined({ mode, agents, task, synthesizer, budget })),
    pipeline: (stages: Spec[], task: string, budget?: MultiBudget) => call<Result>('multi.pipeline', defined({ stages, task, budget })),
    supervisor: (workers: Spec[], supervisor: Spec, task: string, maxRounds?: number, budget?: MultiBudget) =>
      call<Result>('multi.supervisor', defined({ workers, supervisor, task, max_rounds: maxRounds, budget })),
    mapReduce: (mapper: Spec, reducer: Spec, task: string, items: unknown[], budget?: MultiBudget) =>
      call<Result>('multi.map_reduce', defined({ mapper, reducer, task, items, budget })),
    vote: (agents: Spec[], task: string, synthesizer?: Spec, budget?: MultiBudget) => call<Result>('multi.vote', defined({ agents, task, synthesizer, budget })),
    tournament: (competitors: Spec[], judge: Spec, task: string, budget?: MultiBudget) =>
      call<{ task: string; candidates: MultiAgentOutput[]; matches: Result[]; winner_name: string | null; winner_answer: string | null; ranking: string[] }>(
        'multi.tournament',
        defined({ competitors, judge, task, budget }),
      ),
    subtask: (main: Spec, task: string, budget?: MultiBudget) => call<Result>('multi.subtask', defined({ main, task, budget })),
  };
}
