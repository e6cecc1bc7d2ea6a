import { z } from 'zod';
import { defineMethod, type MethodContext, type MethodSpec } from '../contract/index.js';
import { sendA2aMessage } from '../a2a/index.js';
import { sharedRuntime, startOwnA2a } from './a2a-runtime.js';
import { ingestA2aReply } from './a2ui-route.js';
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

export const a2aStart = defineMethod({
  name: 'a2a.start',
  summary:
    "Serve A2A (agent card, JSON-RPC, SSE) on one address, with no authentication; tool calls pass this daemon's proposal gates.",
  params: startParams,
  role: 'owner',
  async handler(p, ctx) {
    if (p.share_session_runtime === true) return startShared(p, ctx);
    return startOwnA2a(ctx.state, p);
  },
});

/** A listener running on this connection's tools cannot outlive it: it stops when the connection closes. */
async function startShared(p: z.output<typeof startParams>, ctx: MethodContext): Promise<{ bound: string }> {
  const a2a = ctx.state.a2a;
  const out = await a2a.start(p, sharedRuntime(ctx.state, ctx.session));
  const server = a2a.running;
  ctx.session.channel.onClose(() => {
    if (a2a.running === server) void a2a.stop().catch(() => undefined);
  });
  return out;
}

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


/** `A2aRouteAuth` as params: credentials an outbound call carries, kept in the daemon. */
export const routeAuth = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }),
  z.object({ type: z.literal('bearer'), token: z.string().min(1).max(8192) }),
  z.object({ type: z.literal('header'), name: z.string().regex(/^[A-Za-z0-9-]{1,128}$/), value: z.string().max(8192) }),
]);

export const a2aPeersAdd = defineMethod({
  name: 'a2a.peers.add',
  summary:
    'Trust an A2A peer for messaging (not for tools); http(s) only, no duplicates, off-loopback needs allowUntrusted. publicKey: its daemon key, accepted by the peer listener and signed for by a2a.send.',
  params: z
    .object({
      url: z.string().min(1).max(2048),
      label: z.string().max(256).optional(),
      allowUntrusted: z.boolean().optional(),
      publicKey: z.string().min(1).max(128).optional(),
      public_key: z.string().min(1).max(128).optional(),
    })
    .transform((p) => ({ url: p.url, label: p.label, allowUntrusted: p.allowUntrusted === true, publicKey: p.publicKey ?? p.public_key })),
  role: 'owner',
  handler: (p, ctx) => ctx.state.a2a.peers.add(p),
});

export const a2aIdentity = defineMethod({
  name: 'a2a.identity',
  summary:
    "This daemon's ed25519 public key as peers register it ({public_key, fingerprint, subject}) and the peer listener's address, or null.",
  params: noParams,
  handler: (_p, ctx) => ctx.state.a2a.identity(),
});

export const a2aPeersList = defineMethod({
  name: 'a2a.peers.list',
  summary: 'The trusted A2A peers: {peers: [{slug, url, label?, publicKey?, fingerprint?}]}.',
  params: noParams,
  handler: async (_p, ctx) => ({ peers: await ctx.state.a2a.peers.list() }),
});

export const a2aPeersRemove = defineMethod({
  name: 'a2a.peers.remove',
  summary: 'Stop trusting a peer: {removed}.',
  params: z.object({ slug: z.string().min(1).max(300) }),
  role: 'owner',
  handler: async (p, ctx) => ({ removed: await ctx.state.a2a.peers.remove(p.slug) }),
});

export const a2aSend = defineMethod({
  name: 'a2a.send',
  summary:
    "Send a message to another A2A agent: {result, a2ui: {applied}}. The reply's A2UI messages become surfaces owned by its task (ingestA2ui, default true); routeAuth stays in the daemon; off-loopback endpoints need allowUntrustedEndpoint.",
  params: z
    .object({
      endpoint: z.string().min(1).max(2048),
      message: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
      blocking: z.boolean().optional(),
      ingestA2ui: z.boolean().optional(),
      ingest_a2ui: z.boolean().optional(),
      routeAuth: routeAuth.optional(),
      route_auth: routeAuth.optional(),
      allowUntrustedEndpoint: z.boolean().optional(),
      allow_untrusted_endpoint: z.boolean().optional(),
    })
    .transform((p) => ({
      endpoint: p.endpoint,
      message: p.message,
      blocking: p.blocking,
      ingestA2ui: p.ingestA2ui ?? p.ingest_a2ui ?? true,
      routeAuth: p.routeAuth ?? p.route_auth,
      allowUntrustedEndpoint: p.allowUntrustedEndpoint ?? p.allow_untrusted_endpoint,
    })),
  role: 'owner',
  deadlineMs: (_p, state) => state.config.a2aSendTimeoutMs + state.config.deadlineSlackMs,
  async handler(p, ctx) {
    const sign = await ctx.state.a2a.peerSigner(p.endpoint);
    const result = await sendA2aMessage({ ...p, timeoutMs: ctx.state.config.a2aSendTimeoutMs, sign });
    const a2ui = p.ingestA2ui ? ingestA2aReply(ctx.state, result, new URL(p.endpoint).href, p.routeAuth) : { applied: [] };
    return { result, a2ui };
  },
});

export const a2aPeerMethods: MethodSpec[] = [a2aPeersAdd, a2aPeersList, a2aPeersRemove, a2aIdentity, a2aSend];

export const a2aMethods: MethodSpec[] = [a2aStart, a2aStop, a2aStatus, ...a2aPeerMethods, ...a2aDispatchMethods];
