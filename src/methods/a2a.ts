import { z } from 'zod';
import type { A2aRuntime } from '../a2a/index.js';
import { defineMethod, type MethodContext, type MethodSpec, type SessionContext } from '../contract/index.js';
import { noParams } from './schemas.js';

const startParams = z.object({
  bind: z.string().min(1).max(300),
  public_url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  agent_name: z.string().min(1).max(256).optional(),
  agent_description: z.string().max(4096).optional(),
  organization: z.string().max(256).optional(),
  organization_url: z.string().max(2048).optional(),
  share_session_runtime: z.boolean().optional(),
  allow_non_loopback_bind: z.boolean().optional(),
});

/** The runtime behind a listener that shares the calling session: its tools, its gates, its chat. */
function sharedRuntime(session: SessionContext): A2aRuntime {
  return {
    tools: () => session.tools.list().map((t) => ({ name: t.name, description: t.description })),
    submit: (proposal, signal) => session.call('proposal.submit', { proposal }, signal),
    chat: null,
  };
}

/** The runtime of a listener with a session of its own (no client behind it). */
function ownRuntime(ctx: MethodContext): A2aRuntime {
  const session = ctx.state.openLocalSession(async (method) => {
    throw new Error(`'${method}' has no handler in the A2A listener's own runtime`);
  });
  return {
    tools: () => session.tools.list().map((t) => ({ name: t.name, description: t.description })),
    submit: (proposal, signal) => session.call('proposal.submit', { proposal }, signal),
    chat: null,
  };
}

export const a2aStart = defineMethod({
  name: 'a2a.start',
  summary:
    "Serve A2A (agent card, JSON-RPC, SSE) on one address, with no authentication; tool calls pass this daemon's proposal gates.",
  params: startParams,
  role: 'owner',
  async handler(p, ctx) {
    const share = p.share_session_runtime === true;
    const runtime = share ? sharedRuntime(ctx.session) : ownRuntime(ctx);
    const a2a = ctx.state.a2a;
    const out = await a2a.start(p, runtime);
    // A listener running on this connection's tools cannot outlive it.
    if (share) {
      const server = a2a.running;
      ctx.session.channel.onClose(() => {
        if (a2a.running === server) void a2a.stop().catch(() => undefined);
      });
    }
    return out;
  },
});

export const a2aStop = defineMethod({
  name: 'a2a.stop',
  summary: 'Stop the A2A server; an error when none is running.',
  params: noParams,
  role: 'owner',
  handler: (_p, ctx) => ctx.state.a2a.stop(),
});

export const a2aStatus = defineMethod({
  name: 'a2a.status',
  summary: 'Whether an A2A server is running: {running, bound, uptime_secs, name, tasks}.',
  params: noParams,
  handler: (_p, ctx) => ctx.state.a2a.status(),
});

/** The in-core dispatcher: A2A 1.0 name → v0.3 alias. Streaming methods are HTTP-only (MethodNotFound here). */
export const A2A_DISPATCH_NAMES: readonly (readonly [string, string])[] = [
  ['SendMessage', 'message/send'],
  ['GetTask', 'tasks/get'],
  ['ListTasks', 'tasks/list'],
  ['CancelTask', 'tasks/cancel'],
  ['CreateTaskPushNotificationConfig', 'tasks/pushNotificationConfig/set'],
  ['GetTaskPushNotificationConfig', 'tasks/pushNotificationConfig/get'],
  ['ListTaskPushNotificationConfigs', 'tasks/pushNotificationConfig/list'],
  ['DeleteTaskPushNotificationConfig', 'tasks/pushNotificationConfig/delete'],
  ['GetExtendedAgentCard', 'agent/getAuthenticatedExtendedCard'],
];

function dispatchMethod(name: string, summary: string): MethodSpec {
  return defineMethod({
    name,
    summary,
    params: z.union([z.record(z.string(), z.unknown()), z.null()]),
    handler: (p, ctx) => ctx.state.a2a.dispatch(name, p ?? {}),
  });
}

export const a2aDispatchMethods: MethodSpec[] = A2A_DISPATCH_NAMES.flatMap(([v1, alias]) => [
  dispatchMethod(v1, `A2A ${v1} against the running A2A server's tasks (v0.3 alias: ${alias}).`),
  dispatchMethod(alias, `A2A v0.3 ${alias}: the same as ${v1}.`),
]);

export const a2aMethods: MethodSpec[] = [a2aStart, a2aStop, a2aStatus, ...a2aDispatchMethods];
