import { z } from 'zod';
import { AGENT_STATUSES, type HostEvent } from '../host/types.js';
import type { HostEventSink } from '../host/subscribers.js';
import { CarError } from '../util/errors.js';
import { defineMethod, type MethodContext, type MethodSpec } from '../contract/index.js';
import { approvalFor, eventFor } from './host-redact.js';

/** `host.*`: the shared view a host UI watches, with the per-session ACL of the host surface. */

const str = z.string().min(1);
const metadata = z.record(z.string(), z.unknown());

/** Delivers `host.event` to one connection; a client that leaves too much unread loses events. */
function sessionSink(viewer: Pick<MethodContext, 'state' | 'session'>, maxBufferedBytes: number): HostEventSink {
  const channel = viewer.session.channel;
  return {
    get open() {
      return channel.isOpen;
    },
    get backlogBytes() {
      return channel.bufferedBytes;
    },
    drop: (reason: string) => channel.dropSlowConsumer(reason),
    send: (event: HostEvent) =>
      channel.notifyLossy('host.event', eventFor(viewer, event) as unknown as Record<string, unknown>, maxBufferedBytes),
  };
}

export const hostSubscribe = defineMethod({
  name: 'host.subscribe',
  summary: 'Snapshot of agents, devices, approvals and recent events, and a live host.event stream from then on.',
  params: z.object({}).passthrough(),
  needsHandshake: true,
  handler(_p, ctx) {
    const { state, session } = ctx;
    const snapshot = state.host.subscribe(session.clientId, sessionSink(ctx, state.config.maxOutboundBufferedBytes / 2));
    return {
      subscribed: true,
      ...snapshot,
      approvals: snapshot.approvals.map((a) => approvalFor(ctx, a)),
      events: snapshot.events.map((e) => eventFor(ctx, e)),
      identity: { version: state.config.serverVersion, pid: process.pid, manifest_path: state.agents.manifestPath, manifest_role: state.agents.role },
    };
  },
});

export const hostAgents = defineMethod({
  name: 'host.agents',
  summary: 'Every registered agent.',
  params: z.object({}).passthrough(),
  handler: (_p, { state }) => state.host.listAgents(),
});

export const hostDevices = defineMethod({
  name: 'host.devices',
  summary: 'Every registered device.',
  params: z.object({}).passthrough(),
  handler: (_p, { state }) => state.host.listDevices(),
});

export const hostEvents = defineMethod({
  name: 'host.events',
  summary: 'The newest host events (limit, default 100; the ring keeps maxHostEvents, 500 by default), oldest first.',
  params: z.object({ limit: z.number().int().nonnegative().optional() }),
  handler: (p, ctx) => ({ events: ctx.state.host.events(p.limit ?? 100).map((e) => eventFor(ctx, e)) }),
});

export const hostApprovals = defineMethod({
  name: 'host.approvals',
  summary: 'Pending approvals and the recently decided or expired ones; credential-looking details are redacted for sessions other than the owner and the host.',
  params: z.object({}).passthrough(),
  handler: (_p, ctx) => ({ approvals: ctx.state.host.listApprovals().map((a) => approvalFor(ctx, a)) }),
});

export const hostRegisterAgent = defineMethod({
  name: 'host.register_agent',
  summary: 'Register (or, as its owner, update) an agent; the calling session becomes its owner.',
  params: z.object({
    id: str.optional(),
    name: str,
    kind: str,
    capabilities: z.array(z.string()).optional(),
    project: z.string().optional(),
    pid: z.number().int().nonnegative().optional(),
    display: z.unknown().optional(),
    metadata: metadata.optional(),
  }),
  handler: (p, { state, session }) => state.host.registerAgent(session.clientId, p),
});

export const hostUnregisterAgent = defineMethod({
  name: 'host.unregister_agent',
  summary: 'Remove an agent this session registered; {ok: false} when no such agent is registered.',
  params: z.object({ agent_id: str }),
  handler(p, { state, session }) {
    return { ok: state.host.unregisterAgent(session.clientId, p.agent_id) };
  },
});

export const hostSetStatus = defineMethod({
  name: 'host.set_status',
  summary: "Set an owned agent's status; broadcasts agent.status_changed.",
  params: z.object({
    agent_id: str,
    status: z.enum(AGENT_STATUSES),
    current_task: z.string().optional(),
    message: z.string().optional(),
    payload: z.unknown().optional(),
  }),
  handler: (p, { state, session }) => state.host.setStatus(session.clientId, p),
});

export const hostNotify = defineMethod({
  name: 'host.notify',
  summary: 'Record a host event and broadcast it to subscribers (payload JSON and message up to maxHostEventPayloadBytes each).',
  params: z.object({
    kind: str.optional(),
    agent_id: z.string().optional(),
    message: z.string().optional(),
    payload: z.unknown().optional(),
  }),
  handler: (p, { state }) =>
    state.host.notify(p.kind ?? 'host.notification', p.agent_id ?? null, p.message ?? null, p.payload ?? {}),
});

export const hostRegisterDevice = defineMethod({
  name: 'host.register_device',
  summary: 'Register (or, as its owner, update) a device.',
  params: z.object({
    id: str.optional(),
    name: str,
    platform: str,
    capabilities: z.array(z.string()).optional(),
    status: z.string().optional(),
    metadata: metadata.optional(),
  }),
  handler: (p, { state, session }) => state.host.registerDevice(session.clientId, p),
});

export const hostUpdateDevice = defineMethod({
  name: 'host.update_device',
  summary: 'Update a device this session registered; broadcasts device.updated.',
  params: z.object({
    device_id: str,
    name: str.optional(),
    platform: str.optional(),
    capabilities: z.array(z.string()).optional(),
    status: z.string().optional(),
    metadata: metadata.optional(),
  }),
  handler: (p, { state, session }) => state.host.updateDevice(session.clientId, p),
});

export const hostRequestApproval = defineMethod({
  name: 'host.request_approval',
  summary: 'Ask a human for an approval; only this session may resolve it.',
  params: z.object({
    agent_id: str.optional(),
    title: str,
    description: z.string().optional(),
    context: z.unknown().optional(),
    required_approvals: z.number().int().positive().optional(),
  }),
  handler: (p, { state, session }) => state.host.createApproval(session.clientId, p),
});

export const hostResolveApproval = defineMethod({
  name: 'host.resolve_approval',
  summary: 'Approve or deny an approval ({approved: bool}, or resolution "approve"|"deny"); the first decision stands.',
  params: z
    .object({
      approval_id: str,
      approved: z.boolean().optional(),
      resolution: z.enum(['approve', 'deny']).optional(),
      notes: z.string().optional(),
    })
    .refine((p) => p.approved !== undefined || p.resolution !== undefined, {
      message: 'one of approved (boolean) or resolution ("approve" | "deny") is required',
    })
    .refine((p) => p.approved === undefined || p.resolution === undefined || p.approved === (p.resolution === 'approve'), {
      message: 'approved and resolution disagree',
    }),
  handler: (p, ctx) =>
    approvalFor(ctx, ctx.state.host.resolveApproval(ctx.session.clientId, p.approval_id, p.approved ?? p.resolution === 'approve', p.notes)),
});

/** The default gated integrations. Nothing here can drive them, so once approved they say so. */
export function unsupportedPlatformMethods(names: readonly string[]): MethodSpec[] {
  return names.map((name) =>
    defineMethod({
      name,
      summary: `${name}: a macOS/Windows integration, gated by the approval gate; not available in this daemon.`,
      params: z.object({}).passthrough(),
      handler() {
        throw new CarError(
          'unavailable',
          `'${name}' is not supported on this platform (${process.platform}): this daemon has no ${name.split('.')[0]} integration`,
        );
      },
    }),
  );
}

export const hostMethods: MethodSpec[] = [
  hostSubscribe,
  hostAgents,
  hostDevices,
  hostEvents,
  hostApprovals,
  hostRegisterAgent,
  hostUnregisterAgent,
  hostSetStatus,
  hostNotify,
  hostRegisterDevice,
  hostUpdateDevice,
  hostRequestApproval,
  hostResolveApproval,
];
