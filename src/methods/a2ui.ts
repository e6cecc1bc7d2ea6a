import { z } from 'zod';
import { checkEndpoint } from '../a2a/index.js';
import {
  A2UI_EXTENSION_URI,
  A2UI_MEDIA_TYPE,
  A2UI_VERSIONS,
  CATALOGS,
  SUPPORTED_CATALOG_IDS,
  extractA2ui,
  type A2uiEvent,
  type A2uiEventSink,
  type SurfaceOwner,
} from '../a2ui/index.js';
import { defineMethod, type MethodSpec } from '../contract/index.js';
import { CarError } from '../util/errors.js';
import { isObject } from '../util/values.js';
import { routeAuth } from './a2a.js';
import { ingestA2aReply, ingestResult, isTrustedLoopbackPeer, sendActionContinuation } from './a2ui-route.js';
import { noParams } from './schemas.js';

/** `a2ui.*`: A2UI surfaces (v0.9) shown by host UIs, the user actions on them, and the UI-improvement loop. */

const MESSAGE_KEYS = ['createSurface', 'updateComponents', 'updateDataModel', 'deleteSurface'];
const id = z.string().min(1).max(256);

/** The one message `a2ui.apply` carries: the params themselves, or under `envelope`, `message` or `a2ui`. */
function envelopeOf(p: Record<string, unknown>): { envelope: unknown; at: string } {
  if (MESSAGE_KEYS.some((k) => k in p)) return { envelope: p, at: '' };
  for (const key of ['envelope', 'message', 'a2ui']) if (key in p) return { envelope: p[key], at: key };
  throw new CarError('invalid', `params: an A2UI message (${MESSAGE_KEYS.join(', ')}) is required, directly or as envelope`, { field: 'envelope' });
}

export const a2uiApply = defineMethod({
  name: 'a2ui.apply',
  summary: 'Apply one A2UI v0.9 message (createSurface, updateComponents, updateDataModel, deleteSurface): {surfaceId, deleted, surface?}.',
  params: z.record(z.string(), z.unknown()),
  handler(p, ctx) {
    const a2ui = ctx.state.a2ui;
    const { envelope, at } = envelopeOf(p);
    const owner: SurfaceOwner = { source: 'local', clientId: ctx.session.clientId };
    const out = a2ui.apply([envelope], { owner, atomic: true, at, single: true });
    const refused = out.refused[0];
    const surfaceId = refused?.surfaceId ?? out.applied[0]!.surfaceId;
    const surface = a2ui.store.get(surfaceId);
    const result: Record<string, unknown> = { surfaceId, deleted: out.deleted.includes(surfaceId) };
    if (surface !== undefined) result.surface = a2ui.view(surface);
    if (refused !== undefined) Object.assign(result, { applied: false, refused: { reason: refused.reason, remaining: refused.remaining } });
    return result;
  },
});

export const a2uiIngest = defineMethod({
  name: 'a2ui.ingest',
  summary:
    "Apply the A2UI messages of an A2A payload (a message, a list, {a2ui}, a data part, an A2A message or task), owned by its task/context: {applied}. All apply or none; an endpoint (+ routeAuth, kept in the daemon) is where the surface's user actions go.",
  params: z
    .object({
      payload: z.unknown().optional(),
      messages: z.array(z.unknown()).optional(),
      taskId: id.optional(),
      task_id: id.optional(),
      contextId: id.optional(),
      context_id: id.optional(),
      endpoint: z.string().min(1).max(2048).optional(),
      routeAuth: routeAuth.optional(),
      route_auth: routeAuth.optional(),
      allowUntrustedEndpoint: z.boolean().optional(),
    })
    .refine((p) => p.payload !== undefined || p.messages !== undefined, { message: 'payload or messages is required', path: ['payload'] }),
  handler(p, ctx) {
    const owner: SurfaceOwner = { source: 'a2a' };
    const taskId = p.taskId ?? p.task_id;
    const contextId = p.contextId ?? p.context_id;
    if (taskId !== undefined) owner.taskId = taskId;
    if (contextId !== undefined) owner.contextId = contextId;
    if (p.endpoint !== undefined) owner.endpoint = checkEndpoint(p.endpoint, p.allowUntrustedEndpoint === true, 'endpoint').href;
    const field = p.messages !== undefined ? 'messages' : 'payload';
    const messages = p.messages ?? extractA2ui(p.payload);
    if (messages.length === 0) throw new CarError('invalid', `${field}: no A2UI message found`, { field });
    const outcome = ctx.state.a2ui.apply(messages, { owner, routeAuth: p.routeAuth ?? p.route_auth, atomic: true, at: field });
    return ingestResult(outcome);
  },
});

export const a2uiSurfaces = defineMethod({
  name: 'a2ui.surfaces',
  summary: 'The live surfaces, without their components and data: {surfaces}.',
  params: noParams,
  handler: (_p, ctx) => ({ surfaces: ctx.state.a2ui.store.list().map((s) => ctx.state.a2ui.summary(s)) }),
});

export const a2uiGet = defineMethod({
  name: 'a2ui.get',
  summary: 'One surface with its components, data model, owner and loop state: {surface}.',
  params: z.object({ surfaceId: id }),
  handler: (p, ctx) => ({ surface: ctx.state.a2ui.view(ctx.state.a2ui.store.require(p.surfaceId)) }),
});

export const a2uiReap = defineMethod({
  name: 'a2ui.reap',
  summary: 'Remove surfaces: those named, those of a task or context, or (given nothing) those idle past a2uiSurfaceIdleMs: {reaped}.',
  params: z.object({
    surfaceIds: z.array(id).max(10_000).optional(),
    taskId: id.optional(),
    contextId: id.optional(),
    idleMs: z.number().int().min(0).optional(),
  }),
  handler: (p, ctx) => ({ reaped: ctx.state.a2ui.reap(p) }),
});

export const a2uiCapabilities = defineMethod({
  name: 'a2ui.capabilities',
  summary: 'The A2UI versions, catalogs and components this daemon renders, its limits and loop bounds.',
  params: noParams,
  handler(_p, ctx) {
    const l = ctx.state.a2ui.limits;
    return {
      versions: [...A2UI_VERSIONS],
      extensionUri: A2UI_EXTENSION_URI,
      mediaType: A2UI_MEDIA_TYPE,
      supportedCatalogIds: [...SUPPORTED_CATALOG_IDS],
      acceptsInlineCatalogs: false,
      catalogs: CATALOGS.map((c) => ({ catalogId: c.id, aliases: [...c.aliases], components: Object.keys(c.components) })),
      limits: {
        maxSurfaces: l.maxSurfaces,
        maxSurfacesPerOwner: l.maxSurfacesPerOwner,
        maxComponentsPerSurface: l.maxComponentsPerSurface,
        maxComponentsBytes: l.maxComponentsBytes,
        maxDataModelBytes: l.maxDataModelBytes,
        maxMessagesPerCall: l.maxMessagesPerCall,
      },
      loop: { maxIterations: l.loopMaxIterations, oscillationWindow: l.oscillationWindow },
    };
  },
});

const actionFields = z.object({
  surfaceId: id,
  name: z.string().min(1).max(256),
  sourceComponentId: id,
  context: z.record(z.string(), z.unknown()).optional(),
  timestamp: z.string().max(64).optional(),
});

export const a2uiAction = defineMethod({
  name: 'a2ui.action',
  summary:
    "A user action on a surface: back to its agent as an A2A SendMessage continuation when that agent is a trusted loopback peer ({routed: 'a2a', result, a2ui}), otherwise host.event a2ui.action ({routed: 'host'}).",
  params: z.union([z.object({ action: actionFields, version: z.string().optional() }), actionFields]),
  deadlineMs: (_p, state) => state.config.a2aSendTimeoutMs * 2 + state.config.deadlineSlackMs,
  async handler(p, ctx) {
    const a2ui = ctx.state.a2ui;
    const action = a2ui.action('action' in p ? p.action : p);
    const route = a2ui.actionRoute(action.surfaceId);
    if (route === undefined || !(await isTrustedLoopbackPeer(ctx.state, route.endpoint))) {
      a2ui.announceAction(action, 'host');
      return { routed: 'host', action };
    }
    const surface = a2ui.store.require(action.surfaceId);
    const reply = await sendActionContinuation(ctx.state, route, action, surface.sendDataModel ? surface.dataModel : undefined);
    a2ui.announceAction(action, 'a2a');
    return { routed: 'a2a', action, result: reply, a2ui: ingestA2aReply(ctx.state, reply, route.endpoint, route.routeAuth as never) };
  },
});

export const a2uiRenderReport = defineMethod({
  name: 'a2ui.render_report',
  summary:
    "A renderer's report on a surface; it opens one UI-improvement loop iteration: the next agent patch to the surface is checked against its budget and for oscillation.",
  params: z
    .object({ surfaceId: id, report: z.record(z.string(), z.unknown()).optional() })
    .catchall(z.unknown()),
  handler(p, ctx) {
    const { surfaceId, report, ...rest } = p;
    return ctx.state.a2ui.renderReport(surfaceId, report ?? rest);
  },
});

export const a2uiSubscribe = defineMethod({
  name: 'a2ui/subscribe',
  summary: 'Receive a2ui.event for every applied A2UI message, user action, render report and refused patch from now on.',
  params: noParams,
  handler(_p, ctx) {
    const { session, state } = ctx;
    const channel = session.channel;
    const bound = state.config.maxOutboundBufferedBytes / 2;
    const sink: A2uiEventSink = {
      get open() {
        return channel.isOpen;
      },
      send: (event: A2uiEvent) => channel.notifyLossy('a2ui.event', event, bound),
    };
    const first = !state.a2ui.isSubscribed(session.clientId);
    const out = state.a2ui.subscribe(session.clientId, sink);
    if (first) channel.onClose(() => state.a2ui.unsubscribe(session.clientId));
    return out;
  },
});

export const a2uiUnsubscribe = defineMethod({
  name: 'a2ui/unsubscribe',
  summary: 'Stop receiving a2ui.event: {unsubscribed}.',
  params: noParams,
  handler: (_p, ctx) => ({ unsubscribed: ctx.state.a2ui.unsubscribe(ctx.session.clientId) }),
});

export const a2uiReplay = defineMethod({
  name: 'a2ui/replay',
  summary: 'Send this subscriber the messages that rebuild every live surface (or one), as a2ui.event kind replay: {replayed, surfaces, sequence}.',
  params: z.union([z.object({ surfaceId: id.optional() }), noParams]),
  handler: (p, ctx) => ctx.state.a2ui.replay(ctx.session.clientId, isObject(p) && 'surfaceId' in p ? (p.surfaceId as string | undefined) : undefined),
});

export const a2uiMethods: MethodSpec[] = [
  a2uiApply,
  a2uiIngest,
  a2uiSurfaces,
  a2uiGet,
  a2uiReap,
  a2uiCapabilities,
  a2uiAction,
  a2uiRenderReport,
  a2uiSubscribe,
  a2uiUnsubscribe,
  a2uiReplay,
];
