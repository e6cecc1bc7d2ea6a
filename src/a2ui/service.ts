import { CarError } from '../util/errors.js';
import { isObject } from '../util/values.js';
import { A2UI_ACTION_VERSION } from './catalog.js';
import { toEnvelope, type A2uiMessage } from './envelope.js';
import { A2uiSurfaceStore, type A2uiStoreLimits, type ApplyOptions, type ApplyOutcome, type LoopState, type RefusedPatch } from './store.js';
import { publicOwner, type PublicOwner, type Surface } from './surface.js';

export type A2uiEventKind = 'message' | 'replay' | 'action' | 'render_report' | 'patch_refused';

/** One `a2ui.event`: a message renderers apply, or something that happened to a surface. */
export interface A2uiEvent {
  sequence: number;
  timestamp: string;
  kind: A2uiEventKind;
  surfaceId: string;
  /** `message` / `replay`: the A2UI message to apply. */
  message?: Record<string, unknown>;
  owner?: PublicOwner;
  [key: string]: unknown;
}

/** Where one subscriber's events go; `send` is false when the event was dropped for it. */
export interface A2uiEventSink {
  readonly open: boolean;
  send(event: A2uiEvent): boolean;
}

/** Records a `host.event` (`a2ui.surface_updated`, `a2ui.surface_deleted`, `a2ui.action`, `a2ui.patch_refused`). */
export type HostEventHook = (kind: string, message: string, payload: Record<string, unknown>) => void;

/** A user action, v0.9 shape: what goes back to the surface's agent. */
export interface A2uiAction {
  name: string;
  surfaceId: string;
  sourceComponentId: string;
  timestamp: string;
  context: Record<string, unknown>;
}

/** Where a surface's user actions go: its agent, with the credentials kept for it. */
export interface ActionRoute {
  endpoint: string;
  routeAuth: unknown;
  taskId?: string;
  contextId?: string;
}

export interface A2uiServiceOptions {
  limits: A2uiStoreLimits;
  /** Surfaces untouched this long are what `a2ui.reap` removes when told nothing else. */
  surfaceIdleMs: number;
  hostEvent: HostEventHook;
}

export interface ReapFilter {
  idleMs?: number;
  surfaceIds?: readonly string[];
  taskId?: string;
  contextId?: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * A2UI for the whole daemon: the surface store, the `a2ui.event` subscribers (one per connection)
 * and the host events every change records. Events go out only after a change is in the store.
 */
export class A2uiService {
  readonly store: A2uiSurfaceStore;
  private sequence = 0;
  private readonly subscribers = new Map<string, A2uiEventSink>();

  constructor(private readonly options: A2uiServiceOptions) {
    this.store = new A2uiSurfaceStore(options.limits);
  }

  get limits(): A2uiStoreLimits {
    return this.options.limits;
  }

  get surfaceIdleMs(): number {
    return this.options.surfaceIdleMs;
  }

  get currentSequence(): number {
    return this.sequence;
  }

  subscribe(clientId: string, sink: A2uiEventSink): { subscribed: true; sequence: number; surfaces: number } {
    this.subscribers.set(clientId, sink);
    return { subscribed: true, sequence: this.sequence, surfaces: this.store.size };
  }

  unsubscribe(clientId: string): boolean {
    return this.subscribers.delete(clientId);
  }

  isSubscribed(clientId: string): boolean {
    return this.subscribers.has(clientId);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  private publish(kind: A2uiEventKind, surfaceId: string, fields: Record<string, unknown>, only?: string): A2uiEvent {
    const event: A2uiEvent = { ...fields, sequence: ++this.sequence, timestamp: new Date().toISOString(), kind, surfaceId };
    for (const [clientId, sink] of this.subscribers) {
      if (only !== undefined && clientId !== only) continue;
      if (!sink.open) {
        this.subscribers.delete(clientId);
        continue;
      }
      sink.send(event);
    }
    return event;
  }

  /** Apply A2UI messages; once they are in the store, tell subscribers and the host. */
  apply(raw: readonly unknown[], options: ApplyOptions): ApplyOutcome {
    const outcome = this.store.apply(raw, options);
    this.announce(outcome);
    return outcome;
  }

  private announce(outcome: ApplyOutcome): void {
    for (const change of outcome.changes) {
      const surface = this.store.get(change.surfaceId);
      const owner = surface === undefined ? undefined : publicOwner(surface.owner);
      this.publish('message', change.surfaceId, owner === undefined ? { message: change.envelope } : { message: change.envelope, owner });
    }
    for (const surface of outcome.updated) {
      this.options.hostEvent('a2ui.surface_updated', `surface ${surface.surfaceId} updated`, {
        surfaceId: surface.surfaceId,
        catalogId: surface.catalogId,
        revision: surface.revision,
        components: surface.components.size,
        owner: publicOwner(surface.owner),
      });
    }
    for (const surfaceId of outcome.deleted) {
      this.options.hostEvent('a2ui.surface_deleted', `surface ${surfaceId} deleted`, { surfaceId });
    }
    for (const r of outcome.refused) this.announceRefusal(r);
  }

  private announceRefusal(r: RefusedPatch): void {
    const why = r.reason === 'budget_exhausted' ? 'its iteration budget is spent' : 'it brings back a recent state (oscillation)';
    this.publish('patch_refused', r.surfaceId, { reason: r.reason, remaining: r.remaining });
    this.options.hostEvent('a2ui.patch_refused', `patch to surface ${r.surfaceId} not applied: ${why}`, {
      surfaceId: r.surfaceId,
      reason: r.reason,
      remaining: r.remaining,
    });
  }

  /**
   * Send `clientId` the messages that rebuild the live surfaces (or one), as `a2ui.event` kind
   * `replay`; live events after them carry higher sequence numbers.
   */
  replay(clientId: string, surfaceId?: string): { replayed: number; surfaces: number; sequence: number } {
    if (!this.subscribers.has(clientId)) throw new CarError('conflict', 'a2ui/replay sends a2ui.event notifications: call a2ui/subscribe first');
    const surfaces = surfaceId === undefined ? this.store.list() : [this.store.require(surfaceId)];
    let replayed = 0;
    for (const s of surfaces) {
      for (const message of rebuild(s)) {
        this.publish('replay', s.surfaceId, { message: toEnvelope(message), owner: publicOwner(s.owner) }, clientId);
        replayed++;
      }
    }
    return { replayed, surfaces: surfaces.length, sequence: this.sequence };
  }

  renderReport(surfaceId: string, report: Record<string, unknown>): LoopState & { surfaceId: string; revision: number; skipped?: string } {
    const out = this.store.renderReport(surfaceId, report);
    const surface = this.store.require(surfaceId);
    const loop: LoopState = { iterations: out.iterations, remaining: out.remaining, awaitingPatch: out.awaitingPatch };
    this.publish('render_report', surfaceId, { report, revision: surface.revision, loop, ...(out.skipped === undefined ? {} : { skipped: out.skipped }) });
    return { surfaceId, revision: surface.revision, ...out };
  }

  /** A user action on a surface, checked and completed to the v0.9 shape. */
  action(input: { surfaceId: string; name: string; sourceComponentId: string; context?: Record<string, unknown>; timestamp?: string }): A2uiAction {
    const surface = this.store.require(input.surfaceId);
    if (!surface.components.has(input.sourceComponentId)) {
      throw new CarError('invalid', `sourceComponentId: surface '${input.surfaceId}' has no component '${input.sourceComponentId}'`, { field: 'sourceComponentId' });
    }
    return {
      name: input.name,
      surfaceId: input.surfaceId,
      sourceComponentId: input.sourceComponentId,
      timestamp: input.timestamp ?? new Date().toISOString(),
      context: input.context ?? {},
    };
  }

  /** The agent a surface's actions go back to, if it came from one the daemon can reach. */
  actionRoute(surfaceId: string): ActionRoute | undefined {
    const surface = this.store.require(surfaceId);
    const o = surface.owner;
    if (o.source !== 'a2a' || o.endpoint === undefined) return undefined;
    const route: ActionRoute = { endpoint: o.endpoint, routeAuth: this.store.routeAuthOf(surfaceId) };
    if (o.taskId !== undefined) route.taskId = o.taskId;
    if (o.contextId !== undefined) route.contextId = o.contextId;
    return route;
  }

  /** Record an action that goes to the host (`host.event` kind `a2ui.action`) and to subscribers. */
  announceAction(action: A2uiAction, routed: 'host' | 'a2a'): void {
    const surface = this.store.get(action.surfaceId);
    const owner = surface === undefined ? undefined : publicOwner(surface.owner);
    this.publish('action', action.surfaceId, { action, routed, ...(owner === undefined ? {} : { owner }) });
    if (routed === 'host') {
      this.options.hostEvent('a2ui.action', `action ${action.name} on surface ${action.surfaceId}`, {
        surfaceId: action.surfaceId,
        action: { version: A2UI_ACTION_VERSION, action },
        ...(owner === undefined ? {} : { owner }),
      });
    }
  }

  /** Remove surfaces: those named, or of a task or context, or (with no filter) those idle past `idleMs`. */
  reap(filter: ReapFilter, now = Date.now()): string[] {
    const named = filter.surfaceIds === undefined ? undefined : new Set(filter.surfaceIds);
    const byOwner = filter.taskId !== undefined || filter.contextId !== undefined;
    const idleMs = filter.idleMs ?? (named === undefined && !byOwner ? this.options.surfaceIdleMs : undefined);
    const gone = this.store.remove((s) => {
      if (named !== undefined && !named.has(s.surfaceId)) return false;
      if (filter.taskId !== undefined && s.owner.taskId !== filter.taskId) return false;
      if (filter.contextId !== undefined && s.owner.contextId !== filter.contextId) return false;
      return idleMs === undefined || now - s.updatedAt >= idleMs;
    });
    for (const surfaceId of gone) {
      this.publish('message', surfaceId, { message: toEnvelope({ kind: 'deleteSurface', surfaceId }), reason: 'reaped' });
      this.options.hostEvent('a2ui.surface_deleted', `surface ${surfaceId} reaped`, { surfaceId, reason: 'reaped' });
    }
    return gone;
  }

  /** A surface as renderers see it: everything but where its actions go and with which credentials. */
  view(surface: Surface): Record<string, unknown> {
    const report = this.store.reportOf(surface.surfaceId);
    const out: Record<string, unknown> = {
      ...this.summary(surface),
      components: [...surface.components.values()],
      dataModel: surface.dataModel,
    };
    if (surface.theme !== undefined) out.theme = surface.theme;
    if (report !== undefined) out.lastRenderReport = { report: report.report, revision: report.revision, at: iso(report.at) };
    return out;
  }

  summary(surface: Surface): Record<string, unknown> {
    return {
      surfaceId: surface.surfaceId,
      catalogId: surface.catalogId,
      sendDataModel: surface.sendDataModel,
      owner: publicOwner(surface.owner),
      revision: surface.revision,
      componentCount: surface.components.size,
      dataModelBytes: surface.dataModelBytes,
      createdAt: iso(surface.createdAt),
      updatedAt: iso(surface.updatedAt),
      loop: this.store.loopState(surface.surfaceId),
    };
  }
}

/** The messages that build `surface` from nothing. */
function rebuild(surface: Surface): A2uiMessage[] {
  const create: A2uiMessage = { kind: 'createSurface', surfaceId: surface.surfaceId, catalogId: surface.catalogId };
  if (surface.theme !== undefined) create.theme = surface.theme;
  if (surface.sendDataModel) create.sendDataModel = true;
  const out: A2uiMessage[] = [create];
  if (surface.components.size > 0) out.push({ kind: 'updateComponents', surfaceId: surface.surfaceId, components: [...surface.components.values()] });
  if (!isObject(surface.dataModel) || Object.keys(surface.dataModel).length > 0) {
    out.push({ kind: 'updateDataModel', surfaceId: surface.surfaceId, path: '/', hasValue: true, value: surface.dataModel });
  }
  return out;
}
