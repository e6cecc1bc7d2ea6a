import type { z } from 'zod';
import type { JsonRpcId } from '../rpc/messages.js';
import type { Logger } from '../util/logger.js';
import type { ClientSession } from './session.js';
import type { ServerState } from './state.js';

/** Caller roles, least to most privileged. */
export type Role = 'agent' | 'owner' | 'operator' | 'host';
export const ROLE_RANK: Readonly<Record<Role, number>> = { agent: 0, owner: 1, operator: 2, host: 3 };

export interface MethodContext {
  readonly state: ServerState;
  readonly session: ClientSession;
  /** Aborted on disconnect or when the handler deadline passes. */
  readonly signal: AbortSignal;
  readonly id: JsonRpcId | undefined;
  readonly method: string;
  readonly logger: Logger;
  /** Close the connection once this call's reply is queued. */
  closeAfterReply(code?: number, reason?: string): void;
}

/**
 * One method, declared as data: the gate pipeline reads the flags, validates params against the
 * schema, and runs the handler under its deadline. The same table feeds `capabilities.list` and
 * `rpc.discover`.
 */
export interface MethodSpec<S extends z.ZodType = z.ZodType> {
  name: string;
  summary: string;
  params: S;
  /** Result schema, for the OpenRPC document only. */
  result?: z.ZodType;
  /** Least role that may call it; shown by `capabilities.list`. Defaults to `agent`. */
  role?: Role;
  /** Callable before `session.auth` (only `session.auth` itself). */
  public?: boolean;
  /** Refused with -32005 until `server.handshake` succeeded. */
  needsHandshake?: boolean;
  /**
   * Inference-class work: the call holds an `InferenceAdmission` permit while its handler runs
   * (streaming calls until the stream ends).
   */
  admission?: boolean;
  /** Deadline override in ms, fixed or derived from the params. Defaults to the config's handler timeout. */
  deadlineMs?: number | ((params: z.infer<S>, state: ServerState) => number);
  handler(params: z.infer<S>, ctx: MethodContext): unknown;
}

export function defineMethod<S extends z.ZodType>(spec: MethodSpec<S>): MethodSpec {
  return spec as unknown as MethodSpec;
}

/** Methods by name. Later registrations of a name replace earlier ones. */
export class MethodTable {
  private readonly byName = new Map<string, MethodSpec>();
  /** Bumped on every `add`, so derived documents can tell when the table changed. */
  private revision = 0;

  constructor(specs: Iterable<MethodSpec> = []) {
    for (const spec of specs) this.add(spec);
  }

  add(spec: MethodSpec): void {
    if (!spec.name || typeof spec.handler !== 'function') {
      throw new TypeError(`a method needs a name and a handler (got '${String(spec.name)}')`);
    }
    this.byName.set(spec.name, spec);
    this.revision++;
  }

  get(name: string): MethodSpec | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** All methods, sorted by name. */
  list(): MethodSpec[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  get size(): number {
    return this.byName.size;
  }

  /** Changes whenever a method is added or replaced. */
  get version(): number {
    return this.revision;
  }
}
