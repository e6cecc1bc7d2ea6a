import { createHash } from 'node:crypto';
import { canonicalJson } from '../util/canonical-json.js';
import { CarError } from '../util/errors.js';
import { dot, parseMessage, toEnvelope, type A2uiMessage } from './envelope.js';
import { createSurface, ownerKey, updateSurface, type Surface, type SurfaceLimits, type SurfaceOwner } from './surface.js';
import { IterationBudget, OscillationDetector } from './ui-loop.js';

export interface A2uiStoreLimits extends SurfaceLimits {
  /** Surfaces alive at once, daemon-wide. */
  maxSurfaces: number;
  /** Surfaces one owner (an A2A conversation, or a connection) may hold. */
  maxSurfacesPerOwner: number;
  /** A2UI messages one call may carry. */
  maxMessagesPerCall: number;
  /** Agent patches one surface may take in the UI-improvement loop before it is recreated. */
  loopMaxIterations: number;
  /** Recent patch hashes per surface the oscillation detector remembers. */
  oscillationWindow: number;
}

/** Why an agent's patch after a render report was not applied. */
export type RefusalReason = 'budget_exhausted' | 'oscillation';

export interface AppliedMessage {
  index: number;
  kind: A2uiMessage['kind'];
  surfaceId: string;
  /** The surface's revision after this message; absent when it deleted the surface. */
  revision?: number;
  deleted: boolean;
}

export interface RejectedMessage {
  index: number;
  surfaceId?: string;
  error: { kind: string; message: string; field?: string };
}

export interface RefusedPatch {
  surfaceId: string;
  reason: RefusalReason;
  /** The messages of the patch, by their index in the call. */
  indexes: number[];
  /** Iterations the surface has left. */
  remaining: number;
}

/** What one call changed, in order: each applied message as renderers receive it. */
export interface AppliedChange {
  surfaceId: string;
  message: A2uiMessage;
  envelope: Record<string, unknown>;
}

export interface ApplyOutcome {
  applied: AppliedMessage[];
  rejected: RejectedMessage[];
  refused: RefusedPatch[];
  changes: AppliedChange[];
  /** Surfaces left alive and changed by the call. */
  updated: Surface[];
  /** Surfaces the call deleted. */
  deleted: string[];
}

export interface ApplyOptions {
  owner: SurfaceOwner;
  /** Credentials for user actions going back to `owner.endpoint`; kept here, never shown. */
  routeAuth?: unknown;
  /**
   * `true`: the whole call applies or nothing does, and the first bad message is thrown.
   * `false`: each message applies or not on its own (A2A-borne lists); failures are `rejected`.
   */
  atomic: boolean;
  /** The field the messages sit under, for error messages (`messages`); `''`: the params are the one message. */
  at: string;
  /** One message, named by `at` alone (no index). */
  single?: boolean;
  now?: number;
}

export interface RenderReportRecord {
  report: Record<string, unknown>;
  revision: number;
  at: number;
}

export interface LoopState {
  iterations: number;
  remaining: number;
  /** A render report was taken and the next patch from an agent is checked by the loop guards. */
  awaitingPatch: boolean;
}

interface Staged {
  /** surfaceId → its state after the messages so far; null: deleted. */
  surfaces: Map<string, Surface | null>;
  created: Set<string>;
  applied: AppliedMessage[];
  rejected: RejectedMessage[];
  changes: AppliedChange[];
}

const PATCH_KINDS = new Set(['updateComponents', 'updateDataModel']);

/**
 * The live A2UI surfaces every host UI sees (`A2uiSurfaceStore`). A call's messages are checked
 * and applied to copies first; the store changes only once they all passed (or, for A2A-borne
 * lists, once each one passed), so a bad message leaves nothing half-applied. It also holds the
 * UI-improvement loop guards: after a render report, an agent's next patch to that surface must
 * fit the surface's iteration budget and must not bring back a recent state.
 */
export class A2uiSurfaceStore {
  private readonly surfaces = new Map<string, Surface>();
  private readonly routeAuth = new Map<string, unknown>();
  private readonly reports = new Map<string, RenderReportRecord>();
  private readonly awaiting = new Set<string>();
  readonly budget: IterationBudget;
  readonly oscillation: OscillationDetector;

  constructor(readonly limits: A2uiStoreLimits) {
    this.budget = new IterationBudget(limits.loopMaxIterations);
    this.oscillation = new OscillationDetector(limits.oscillationWindow);
  }

  get size(): number {
    return this.surfaces.size;
  }

  get(surfaceId: string): Surface | undefined {
    return this.surfaces.get(surfaceId);
  }

  /** A surface that must exist: `not_found` naming it otherwise. */
  require(surfaceId: string, field = 'surfaceId'): Surface {
    const s = this.surfaces.get(surfaceId);
    if (s === undefined) throw new CarError('not_found', `no A2UI surface '${surfaceId}'`, { field });
    return s;
  }

  list(): Surface[] {
    return [...this.surfaces.values()];
  }

  routeAuthOf(surfaceId: string): unknown {
    return this.routeAuth.get(surfaceId);
  }

  reportOf(surfaceId: string): RenderReportRecord | undefined {
    return this.reports.get(surfaceId);
  }

  loopState(surfaceId: string): LoopState {
    const remaining = this.budget.remaining(surfaceId);
    return { iterations: this.budget.max - remaining, remaining, awaitingPatch: this.awaiting.has(surfaceId) };
  }

  /** Apply a call's A2UI messages (raw JSON, checked here). */
  apply(raw: readonly unknown[], options: ApplyOptions): ApplyOutcome {
    if (raw.length > this.limits.maxMessagesPerCall) {
      throw new CarError('limit', `${options.at}: ${raw.length} A2UI messages in one call (limit ${this.limits.maxMessagesPerCall})`, {
        field: options.at,
        limit: this.limits.maxMessagesPerCall,
      });
    }
    const now = options.now ?? Date.now();
    const parsed: (A2uiMessage | CarError)[] = raw.map((m, i) => {
      try {
        return parseMessage(m, atOf(options, i));
      } catch (err) {
        if (options.atomic || !(err instanceof CarError)) throw err;
        return err;
      }
    });
    let staged = this.stage(parsed, new Set(), options, now);
    const refused = this.guard(parsed, staged);
    if (refused.length > 0) staged = this.stage(parsed, new Set(refused.flatMap((r) => r.indexes)), options, now);
    return this.commit(staged, refused, options);
  }

  /** Apply every message to copies; nothing in the store changes. */
  private stage(parsed: readonly (A2uiMessage | CarError)[], skip: ReadonlySet<number>, options: ApplyOptions, now: number): Staged {
    const st: Staged = { surfaces: new Map(), created: new Set(), applied: [], rejected: [], changes: [] };
    for (const [index, m] of parsed.entries()) {
      if (skip.has(index)) continue;
      if (m instanceof CarError) {
        st.rejected.push({ index, error: errorOf(m) });
        continue;
      }
      const at = atOf(options, index);
      try {
        const current = st.surfaces.has(m.surfaceId) ? st.surfaces.get(m.surfaceId)! : (this.surfaces.get(m.surfaceId) ?? null);
        const next = this.applyOne(current, m, st, options, at, now);
        st.surfaces.set(m.surfaceId, next);
        if (m.kind === 'createSurface') st.created.add(m.surfaceId);
        st.applied.push(next === null ? { index, kind: m.kind, surfaceId: m.surfaceId, deleted: true } : { index, kind: m.kind, surfaceId: m.surfaceId, revision: next.revision, deleted: false });
        st.changes.push({ surfaceId: m.surfaceId, message: m, envelope: toEnvelope(m) });
      } catch (err) {
        if (options.atomic || !(err instanceof CarError)) throw err;
        st.rejected.push({ index, surfaceId: m.surfaceId, error: errorOf(err) });
      }
    }
    return st;
  }

  private applyOne(current: Surface | null, m: A2uiMessage, st: Staged, options: ApplyOptions, at: string, now: number): Surface | null {
    if (current !== null) this.checkOwner(current, options.owner, `${dot(at)}${m.kind}.surfaceId`);
    if (m.kind === 'createSurface') {
      if (current !== null) {
        throw new CarError('conflict', `${dot(at)}createSurface.surfaceId: surface '${m.surfaceId}' already exists; delete it before creating it again`, {
          field: `${dot(at)}createSurface.surfaceId`,
        });
      }
      const surface = createSurface(m, options.owner, at, now);
      this.checkRoom(surface, st, `${dot(at)}createSurface.surfaceId`);
      return surface;
    }
    if (current === null) {
      throw new CarError('not_found', `${dot(at)}${m.kind}.surfaceId: no A2UI surface '${m.surfaceId}' (createSurface comes first)`, {
        field: `${dot(at)}${m.kind}.surfaceId`,
      });
    }
    if (m.kind === 'deleteSurface') return null;
    return updateSurface(current, m, this.limits, at, now);
  }

  /** An A2A agent changes only the surfaces of its own conversation; the host (`local`) may change any. */
  private checkOwner(surface: Surface, owner: SurfaceOwner, field: string): void {
    if (owner.source === 'local' || ownerKey(owner) === ownerKey(surface.owner)) return;
    throw new CarError('conflict', `${field}: surface '${surface.surfaceId}' belongs to another owner`, { field });
  }

  private checkRoom(surface: Surface, st: Staged, field: string): void {
    const alive = new Map<string, Surface>(this.surfaces);
    for (const [id, s] of st.surfaces) {
      if (s === null) alive.delete(id);
      else alive.set(id, s);
    }
    if (alive.size >= this.limits.maxSurfaces) {
      throw new CarError('limit', `${field}: ${alive.size} A2UI surfaces are alive (limit ${this.limits.maxSurfaces}); delete or reap some first`, {
        field,
        limit: this.limits.maxSurfaces,
      });
    }
    const key = ownerKey(surface.owner);
    let mine = 0;
    for (const s of alive.values()) if (ownerKey(s.owner) === key) mine++;
    if (mine >= this.limits.maxSurfacesPerOwner) {
      throw new CarError('limit', `${field}: this owner already holds ${mine} A2UI surfaces (limit ${this.limits.maxSurfacesPerOwner})`, {
        field,
        limit: this.limits.maxSurfacesPerOwner,
      });
    }
  }

  /**
   * The loop guards, on the surfaces awaiting a patch after a render report: the call's updates to
   * such a surface are one patch, which takes one iteration and must not repeat a recent patch.
   */
  private guard(parsed: readonly (A2uiMessage | CarError)[], staged: Staged): RefusedPatch[] {
    const groups = new Map<string, number[]>();
    for (const a of staged.applied) {
      const m = parsed[a.index] as A2uiMessage;
      if (!this.awaiting.has(m.surfaceId) || staged.created.has(m.surfaceId) || !PATCH_KINDS.has(m.kind)) continue;
      const list = groups.get(m.surfaceId) ?? [];
      list.push(a.index);
      groups.set(m.surfaceId, list);
    }
    const refused: RefusedPatch[] = [];
    for (const [surfaceId, indexes] of groups) {
      this.awaiting.delete(surfaceId);
      let reason: RefusalReason | undefined;
      if (!this.budget.tryTake(surfaceId)) reason = 'budget_exhausted';
      else {
        const patch = indexes.map((i) => toEnvelope(parsed[i] as A2uiMessage));
        const hash = createHash('sha256').update(canonicalJson(patch)).digest('hex');
        if (!this.oscillation.checkAndRecord(surfaceId, hash)) reason = 'oscillation';
      }
      if (reason !== undefined) refused.push({ surfaceId, reason, indexes, remaining: this.budget.remaining(surfaceId) });
    }
    return refused;
  }

  private commit(st: Staged, refused: RefusedPatch[], options: ApplyOptions): ApplyOutcome {
    const updated: Surface[] = [];
    const deleted: string[] = [];
    for (const [id, s] of st.surfaces) {
      if (st.created.has(id)) this.resetLoop(id);
      if (s === null) {
        if (this.surfaces.delete(id)) deleted.push(id);
        this.forget(id);
        continue;
      }
      this.surfaces.set(id, s);
      updated.push(s);
      if (options.routeAuth !== undefined && options.owner.endpoint !== undefined) this.routeAuth.set(id, options.routeAuth);
    }
    return { applied: st.applied, rejected: st.rejected, refused, changes: st.changes, updated, deleted };
  }

  private resetLoop(surfaceId: string): void {
    this.budget.reset(surfaceId);
    this.oscillation.reset(surfaceId);
    this.awaiting.delete(surfaceId);
    this.reports.delete(surfaceId);
  }

  private forget(surfaceId: string): void {
    this.routeAuth.delete(surfaceId);
    this.resetLoop(surfaceId);
  }

  /**
   * A renderer's report on how a surface rendered. It opens one loop iteration: the next patch an
   * agent sends for the surface goes through the guards. With the budget spent the report says
   * `skipped` (the agent is not to be asked until the surface is recreated), and a patch that
   * comes anyway is refused.
   */
  renderReport(surfaceId: string, report: Record<string, unknown>, now = Date.now()): LoopState & { skipped?: RefusalReason } {
    const surface = this.require(surfaceId);
    this.reports.set(surfaceId, { report: structuredClone(report), revision: surface.revision, at: now });
    this.awaiting.add(surfaceId);
    const state = this.loopState(surfaceId);
    return state.remaining <= 0 ? { ...state, skipped: 'budget_exhausted' } : state;
  }

  /** Remove the surfaces `select` picks; their ids. */
  remove(select: (s: Surface) => boolean): string[] {
    const gone: string[] = [];
    for (const s of [...this.surfaces.values()]) {
      if (!select(s)) continue;
      this.surfaces.delete(s.surfaceId);
      this.forget(s.surfaceId);
      gone.push(s.surfaceId);
    }
    return gone;
  }
}

function atOf(options: ApplyOptions, index: number): string {
  return options.single === true ? options.at : `${options.at}[${index}]`;
}

function errorOf(err: CarError): RejectedMessage['error'] {
  return err.field === undefined ? { kind: err.kind, message: err.message } : { kind: err.kind, message: err.message, field: err.field };
}
