import type { z } from 'zod';
import type { ActionProposal } from '../engine/ir.js';
import type { MethodContext, ServerContext } from './context.js';
import { GATE_ORDER, matchesNameList, type GateName } from './gates.js';
import type { Role } from './roles.js';

/** What the params of a proposal-class method parse to: the supervision and permission gates judge it. */
export interface ProposalParams {
  proposal: ActionProposal;
  session_id?: string | undefined;
  scope?: unknown;
}

/** `supervision` / `permission` may only be set on methods whose params parse to `ProposalParams`. */
type ProposalGateFlag<S extends z.ZodType> = unknown extends z.output<S>
  ? boolean
  : z.output<S> extends ProposalParams
    ? boolean
    : never;

/**
 * One method, declared as data: the gates it passes, its params schema, its deadline and its
 * handler. The pipeline runs the gates in the fixed order of `GATE_ORDER`; the same table feeds
 * `capabilities.list` and `rpc.discover`.
 */
export interface MethodSpec<S extends z.ZodType = z.ZodType> {
  name: string;
  summary: string;
  /** The `params` gate: validated (and transformed) before anything else sees them. */
  params: S;
  /** Result schema, for the OpenRPC document only. */
  result?: z.ZodType;
  /** The `role` gate: the least role that may call it. Defaults to `agent` (anyone). */
  role?: Role;
  /** Skips the `auth` gate: callable before `session.auth` (only `session.auth` itself). */
  public?: boolean;
  /** The `handshake` gate: refused with -32005 until `server.handshake` succeeded. */
  needsHandshake?: boolean;
  /**
   * The `approval` gate: park for a human approval before running. The config's
   * `approvalGate.methods` sets it when the table is built; `approvalGate.enabled: false` clears it.
   */
  approval?: boolean;
  /** The `supervision` gate, for proposal-class methods. */
  supervision?: ProposalGateFlag<S>;
  /** The `permission` gate, for proposal-class methods. */
  permission?: ProposalGateFlag<S>;
  /** The `admission` gate: hold an inference permit while the handler runs. */
  admission?: boolean;
  /** The `deadline` gate: fixed, or derived from the params. Defaults to the config's handler timeout. */
  deadlineMs?: number | ((params: z.output<S>, state: ServerContext) => number);
  handler(params: z.output<S>, ctx: MethodContext): unknown;
}

export function defineMethod<S extends z.ZodType>(spec: MethodSpec<S>): MethodSpec {
  return spec as unknown as MethodSpec;
}

/** The config lists a table applies to every method it holds. */
export interface TablePolicy {
  /** Names (a trailing dot: prefixes) that need the handshake. */
  handshakeGated: readonly string[];
  /** Methods that park for a human approval; empty when the approval gate is off. */
  approvalMethods: readonly string[];
  /** False turns the approval gate off for every method, declared or configured. */
  approvalEnabled: boolean;
}

const NO_POLICY: TablePolicy = { handshakeGated: [], approvalMethods: [], approvalEnabled: true };

/** A method with its gates resolved against the table's config lists, once, when it was added. */
export interface MethodRoute {
  readonly spec: MethodSpec;
  /** The gates this method passes, in pipeline order. */
  readonly gates: readonly GateName[];
  readonly auth: boolean;
  readonly handshake: boolean;
  readonly role: Role;
  readonly approval: boolean;
  readonly supervision: boolean;
  readonly permission: boolean;
  readonly admission: boolean;
}

function compile(spec: MethodSpec, policy: TablePolicy): MethodRoute {
  const role = spec.role ?? 'agent';
  const on: Record<GateName, boolean> = {
    auth: !spec.public,
    handshake: spec.needsHandshake === true || matchesNameList(spec.name, policy.handshakeGated),
    role: role !== 'agent',
    params: true,
    approval: policy.approvalEnabled && (spec.approval === true || policy.approvalMethods.includes(spec.name)),
    deadline: true,
    supervision: spec.supervision === true,
    permission: spec.permission === true,
    admission: spec.admission === true,
  };
  return {
    spec,
    gates: GATE_ORDER.filter((g) => on[g]),
    auth: on.auth,
    handshake: on.handshake,
    role,
    approval: on.approval,
    supervision: on.supervision,
    permission: on.permission,
    admission: on.admission,
  };
}

/** Methods by name. Later registrations of a name replace earlier ones. */
export class MethodTable {
  private readonly routes = new Map<string, MethodRoute>();
  /** Bumped on every `add`, so derived documents can tell when the table changed. */
  private revision = 0;

  constructor(
    specs: Iterable<MethodSpec> = [],
    readonly policy: TablePolicy = NO_POLICY,
  ) {
    for (const spec of specs) this.add(spec);
  }

  add(spec: MethodSpec): void {
    if (!spec.name || typeof spec.handler !== 'function') {
      throw new TypeError(`a method needs a name and a handler (got '${String(spec.name)}')`);
    }
    this.routes.set(spec.name, compile(spec, this.policy));
    this.revision++;
  }

  get(name: string): MethodSpec | undefined {
    return this.routes.get(name)?.spec;
  }

  /** The method with its resolved gates. */
  route(name: string): MethodRoute | undefined {
    return this.routes.get(name);
  }

  has(name: string): boolean {
    return this.routes.has(name);
  }

  /** An unknown name the handshake gate still covers (a configured prefix such as `auth.`). */
  handshakeGates(name: string): boolean {
    return matchesNameList(name, this.policy.handshakeGated);
  }

  /** All methods, sorted by name. */
  list(): MethodSpec[] {
    return this.routeList().map((r) => r.spec);
  }

  /** All routes, sorted by name. */
  routeList(): MethodRoute[] {
    return [...this.routes.values()].sort((a, b) => (a.spec.name < b.spec.name ? -1 : a.spec.name > b.spec.name ? 1 : 0));
  }

  get size(): number {
    return this.routes.size;
  }

  /** Changes whenever a method is added or replaced. */
  get version(): number {
    return this.revision;
  }
}
