import { z } from 'zod';
import { CHAT_EVENT_KINDS, GOAL_ITERATIONS, normalizeGoal, suggestGoal, type ChatEvent, type ChatRoute, type Judge } from '../agents/index.js';
import { defineMethod, hostCheckOff, type MethodContext, type MethodSpec } from '../contract/index.js';
import { CarError } from '../util/errors.js';
import { isObject } from '../util/values.js';
import { startAgentChat } from './chat-start.js';
import { recordMetering } from './inference-common.js';

const sessionId = z.string().min(1).max(256);
const agentId = z.string().min(1).max(128).regex(/^[A-Za-z0-9._-]+$/, 'agent_id may contain only letters, digits, ".", "_" and "-"');
const goalShape = z.object({ check: z.string().max(16 * 1024), max_iterations: z.number().optional() });

const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
const MAGIC: readonly [string, number[]][] = [
  ['image/png', [0x89, 0x50, 0x4e, 0x47]],
  ['image/jpeg', [0xff, 0xd8, 0xff]],
  ['image/gif', [0x47, 0x49, 0x46, 0x38]],
  ['image/webp', [0x52, 0x49, 0x46, 0x46]],
];

const attachment = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('image_base64'),
    data: z.string().min(1).max(16 * 1024 * 1024),
    media_type: z.string().optional(),
    mime_type: z.string().optional(),
  }).loose(),
  z.object({
    type: z.literal('image_url'),
    url: z.string().max(8192).refine((u) => /^https?:\/\//i.test(u) && URL.canParse(u), 'image_url must be an http(s) URL'),
  }).loose(),
]);

/** An image attachment must be PNG, JPEG, GIF or WebP: by its declared type and by its first bytes. */
function checkImage(a: { data: string; media_type?: string; mime_type?: string }, index: number): void {
  const field = `attachments.${index}`;
  const declared = a.media_type ?? a.mime_type;
  if (declared !== undefined && !(IMAGE_TYPES as readonly string[]).includes(declared)) {
    throw new CarError('invalid', `${field}: image type '${declared}' is not one of ${IMAGE_TYPES.join(', ')}`, { field });
  }
  const head = Buffer.from(a.data.slice(0, 16), 'base64');
  const sniffed = MAGIC.find(([, magic]) => magic.every((b, i) => head[i] === b))?.[0];
  if (sniffed === undefined) throw new CarError('invalid', `${field}: image_base64 is not PNG, JPEG, GIF or WebP data`, { field });
  if (declared !== undefined && declared !== sniffed) {
    throw new CarError('invalid', `${field}: declared ${declared} but the data is ${sniffed}`, { field });
  }
}

/** May this connection steer a chat session (approve, cancel)? The starter or a host-role session, never the agent itself. */
function assertMaySteer(ctx: MethodContext, id: string): void {
  const chat = ctx.state.chat.get(id);
  if (chat === undefined) throw new CarError('not_found', `no chat session '${id}' in flight`, { field: 'session_id' });
  if (chat.agentClientId === ctx.session.clientId) {
    throw new CarError('denied', `${ctx.method}: the agent of chat session '${id}' may not steer it`);
  }
  const host = ctx.session.isHost || hostCheckOff(ctx.state);
  if (chat.hostClientId !== ctx.session.clientId && !host) {
    throw new CarError('denied', `${ctx.method}: only the session that started chat '${id}' or a host-role session may do this`);
  }
}

function tokenText(delta: unknown): string {
  if (typeof delta === 'string') return delta;
  return isObject(delta) && typeof delta.text === 'string' ? delta.text : '';
}

/** Goal checks are judged on the daemon's own inference; each judgement is metered on the starter's log. */
function judgeFor(ctx: MethodContext, model: string | undefined): Judge {
  return async (prompt) => {
    const { result, metering } = await ctx.state.inference.generate(
      { messages: [{ role: 'user', content: prompt }], max_tokens: 256, temperature: 0 },
      { model: model ?? null, signal: AbortSignal.timeout(ctx.state.config.handlerTimeoutMs) },
    );
    recordMetering(ctx, metering, 'goal.check');
    return result.text;
  };
}

export const agentsChat = defineMethod({
  name: 'agents.chat',
  summary: 'Start a chat turn with an attached agent; its reply streams to this connection as agents.chat.event (token, tool_call, approval_pending, goal_evaluated, done, error).',
  params: z.object({
    agent_id: agentId,
    prompt: z.string().max(1024 * 1024),
    session_id: sessionId.optional(),
    stream: z.boolean().optional(),
    voice_input: z.unknown().optional(),
    model: z.string().min(1).max(256).optional(),
    attachments: z.array(attachment).max(64).optional(),
    goal: goalShape.optional(),
    context: z.unknown().optional(),
  }),
  async handler(p, ctx) {
    if (p.goal !== undefined && p.attachments !== undefined) {
      throw new CarError('invalid', 'goal and attachments cannot be combined in one chat', { field: 'goal' });
    }
    p.attachments?.forEach((a, i) => {
      if (a.type === 'image_base64') checkImage(a as { data: string }, i);
    });
    const id = p.session_id;
    const goal = p.goal !== undefined ? normalizeGoal(p.goal) : id !== undefined ? ctx.state.goals.get(id) : undefined;
    const host = ctx.session;
    const stream = p.stream !== false;
    let buffered = '';
    const route: ChatRoute = {
      deliver(event: ChatEvent) {
        if (!host.channel.isOpen) return;
        if (!stream && event.kind === 'token') {
          buffered += tokenText(event.delta);
          return;
        }
        if (!stream && event.kind === 'done' && buffered !== '') {
          const delta = isObject(event.delta) ? event.delta : {};
          event = { ...event, delta: { text: buffered, ...delta } };
          buffered = '';
        }
        host.channel.notify('agents.chat.event', event as unknown as Record<string, unknown>);
      },
    };
    const session = await startAgentChat(ctx.state, {
      agentId: p.agent_id,
      prompt: p.prompt,
      sessionId: id,
      model: p.model,
      attachments: p.attachments,
      goal,
      voiceInput: p.voice_input,
      context: p.context,
      hostClientId: host.clientId,
      route,
      judge: goal === undefined ? undefined : judgeFor(ctx, p.model),
    });
    return { accepted: true, session_id: session.id };
  },
});

export const agentChatEvent = defineMethod({
  name: 'agent.chat.event',
  summary: "An agent's event for a chat session it was asked to serve (agent.chat); relayed to the session's route. Only the session's agent connection may send it.",
  params: z.object({ session_id: sessionId, kind: z.enum(CHAT_EVENT_KINDS), delta: z.unknown().optional() }),
  handler(p, ctx) {
    const event: ChatEvent = { session_id: p.session_id, kind: p.kind };
    if (p.delta !== undefined) event.delta = p.delta;
    ctx.state.chat.event(ctx.session.clientId, event);
    return { relayed: true };
  },
});

export const agentsChatCancel = defineMethod({
  name: 'agents.chat.cancel',
  summary: 'Cancel a chat session: the agent gets agent.chat.cancel and the session ends (best effort).',
  params: z.object({ session_id: sessionId }),
  handler(p, ctx) {
    if (ctx.state.chat.get(p.session_id) === undefined) return { cancelled: false, session_id: p.session_id };
    assertMaySteer(ctx, p.session_id);
    return { cancelled: ctx.state.chat.cancel(p.session_id), session_id: p.session_id };
  },
});

export const agentsChatList = defineMethod({
  name: 'agents.chat.list',
  summary: 'Chat sessions in flight: {session_id, agent_id, host_session, created_at}. An agent-role connection sees only the sessions it serves or started.',
  params: z.object({}).loose().nullable().optional(),
  handler(_p, ctx) {
    const me = ctx.session.clientId;
    const all = ctx.session.role !== 'agent';
    return ctx.state.chat
      .list()
      .filter((c) => all || c.agentClientId === me || c.hostClientId === me)
      .map((c) => ({ session_id: c.id, agent_id: c.agentId, host_session: c.hostClientId, created_at: c.createdAt }));
  },
});

const APPROVE_WORDS = new Set(['approve', 'approved', 'allow', 'allowed', 'yes', 'true', 'accept', 'ok']);

export const agentsChatApprove = defineMethod({
  name: 'agents.chat.approve',
  summary: "Answer an agent's approval_pending in a chat: forwarded as agent.chat.approve. Only the starting session or a host-role session; a missing decision denies.",
  params: z.object({ session_id: sessionId, approval_id: z.string().min(1).max(256), decision: z.union([z.boolean(), z.string().max(64)]).optional() }),
  async handler(p, ctx) {
    assertMaySteer(ctx, p.session_id);
    const chat = ctx.state.chat.get(p.session_id)!;
    const agent = ctx.state.findSession(chat.agentClientId);
    if (agent === undefined) throw new CarError('unavailable', `agent '${chat.agentId}' is gone`);
    const approved = typeof p.decision === 'boolean' ? p.decision : p.decision !== undefined && APPROVE_WORDS.has(p.decision.trim().toLowerCase());
    const reply = await agent.channel.request('agent.chat.approve', { session_id: p.session_id, approval_id: p.approval_id, decision: approved, approved }, {
      timeoutMs: ctx.state.config.chatAckTimeoutMs,
    });
    const resolved = isObject(reply) && typeof reply.resolved === 'boolean' ? reply.resolved : true;
    return { resolved, session_id: p.session_id };
  },
});

const goalParams = z
  .object({ session_id: sessionId, goal: goalShape.optional(), check: z.string().max(16 * 1024).optional(), max_iterations: z.number().optional() })
  .refine((p) => p.goal !== undefined || p.check !== undefined, { message: 'goal.check (or check) is required', path: ['goal'] });

export const goalMethods: MethodSpec[] = [
  defineMethod({
    name: 'goal.set',
    summary: 'Set the standing goal of a chat session (check trimmed, max_iterations clamped 1–50); chat-goals.json is rewritten atomically.',
    params: goalParams,
    async handler(p, ctx) {
      const goal = normalizeGoal(p.goal ?? { check: p.check!, max_iterations: p.max_iterations });
      return { set: true, goal: await ctx.state.goals.set(p.session_id, goal) };
    },
  }),
  defineMethod({
    name: 'goal.status',
    summary: "A session's standing goal (or null), or every goal when no session_id is given.",
    params: z.object({ session_id: sessionId.optional() }).loose().optional(),
    handler(p, ctx) {
      if (p?.session_id === undefined) return { goals: ctx.state.goals.all() };
      return { session_id: p.session_id, goal: ctx.state.goals.get(p.session_id) ?? null };
    },
  }),
  defineMethod({
    name: 'goal.clear',
    summary: "Clear a session's goal, or every goal when no session_id is given.",
    params: z.object({ session_id: sessionId.optional() }).loose().optional(),
    async handler(p, ctx) {
      if (p?.session_id === undefined) return { cleared: await ctx.state.goals.clear() };
      return { cleared: await ctx.state.goals.clear(p.session_id), session_id: p.session_id };
    },
  }),
  defineMethod({
    name: 'goal.suggest',
    summary: "Suggest a goal from the project's verifier (its test command) in working_dir; suggested: false when there is none. set: true stores it for session_id.",
    params: z
      .object({
        prompt: z.string().max(64 * 1024).optional(),
        objective: z.string().max(64 * 1024).optional(),
        working_dir: z.string().min(1).max(4096).optional(),
        session_id: sessionId.optional(),
        set: z.boolean().optional(),
      })
      .refine((p) => p.prompt !== undefined || p.objective !== undefined, { message: 'prompt or objective is required', path: ['prompt'] }),
    async handler(p, ctx) {
      const suggestion = suggestGoal(p.prompt ?? p.objective ?? '', p.working_dir, GOAL_ITERATIONS.default);
      if (p.set === true && suggestion.goal !== null) {
        if (p.session_id === undefined) suggestion.warnings.push('set: true needs a session_id; the goal was not stored');
        else await ctx.state.goals.set(p.session_id, normalizeGoal(suggestion.goal));
      }
      return suggestion;
    },
  }),
];

export const agentsChatMethods: MethodSpec[] = [agentsChat, agentChatEvent, agentsChatCancel, agentsChatApprove, agentsChatList, ...goalMethods];
