import { mayCall } from '../contract/access.js';
import type { MethodContext } from '../contract/context.js';
import type { MethodRoute, MethodSpec, ProposalParams } from '../contract/method.js';
import type { Permit } from '../engine/admission.js';
import { ErrorCode, RpcError } from '../rpc/errors.js';
import type { JsonRpcId, JsonRpcParams } from '../rpc/messages.js';
import type { InboundContext, InboundHandler } from '../rpc/peer.js';
import { CloseCode } from '../transport/frame.js';
import { formatSeconds } from '../util/duration.js';
import { CarError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { isThenable } from '../util/values.js';
import { ApprovalGate } from './approval-gate.js';
import { formatParamsError, paramsErrorField } from './params.js';
import { enforcePermissionGate } from './permission-gate.js';
import type { ClientSession } from './session.js';
import type { ServerState } from './state.js';
import { superviseProposal } from './supervision-gate.js';

export { matchesNameList as isHandshakeGated } from '../contract/gates.js';

/** The reply to a call whose handler deadline passed: the outcome is unknown to the client. */
export function deadlineError(method: string, ms: number): RpcError {
  return new RpcError(
    ErrorCode.DeadlineExceeded,
    `handler '${method}' exceeded its ${formatSeconds(ms)} response deadline; the outcome is ambiguous, so read state back before retrying`,
  );
}

/**
 * The gate pipeline: every request passes the gates its route declares, in the fixed order of
 * `GATE_ORDER` (auth → handshake → role → params → approval → deadline → supervision →
 * permission → admission), then its handler. Up to the first gate that waits, everything runs
 * synchronously, so a `session.auth` that arrives before a pipelined call is applied before that
 * call is gated, and a call that completes synchronously never arms a deadline timer.
 */
export function createGatePipeline(state: ServerState, session: ClientSession, log: Logger): InboundHandler {
  const config = state.config;
  const methods = state.methods;
  const approvalGate = new ApprovalGate(config.approvalGate, state.host);
  return (method: string, rawParams: JsonRpcParams | undefined, rpc: InboundContext): unknown => {
    const route = methods.route(method);
    const shown = route === undefined ? shownName(method) : method;

    // auth: everything but session.auth waits for a successful session.auth; then the connection closes.
    if (!session.authenticated && (route === undefined || route.auth)) {
      if (rpc.id === undefined) session.channel.close(CloseCode.PolicyViolation, 'auth required');
      else rpc.closeAfterReply(CloseCode.PolicyViolation, 'auth required');
      throw new RpcError(ErrorCode.AuthRequired, `auth required: call session.auth with the daemon token before '${shown}'`);
    }

    // handshake (an unknown name under a gated prefix is refused here too, before the lookup)
    if (!session.negotiated && (route === undefined ? methods.handshakeGates(method) : route.handshake)) {
      throw new RpcError(
        ErrorCode.HandshakeRequired,
        `protocol handshake required: call server.handshake {protocol_version: 2} before '${shown}'`,
      );
    }

    if (route === undefined) throw new RpcError(ErrorCode.MethodNotFound, `unknown method: ${shown}`);
    const spec = route.spec;

    // role
    if (route.role !== 'agent' && !mayCall(spec, session, state)) {
      throw new CarError('denied', `'${method}' requires the ${route.role} role; this connection is '${session.role}'`);
    }

    // params
    const parsed = spec.params.safeParse(rawParams ?? {});
    if (!parsed.success) {
      throw new CarError('invalid', formatParamsError(parsed.error), { field: paramsErrorField(parsed.error) });
    }
    const params: unknown = parsed.data;

    const ctx = new HandlerContext(state, session, rpc, method, log);

    // approval: a high-risk method parks until a human approves it (its own timeout, not the deadline)
    if (route.approval) {
      return approvalGate.admit(method, params, rpc.signal, session.clientId).then(() => underDeadline(route, params, ctx, rpc));
    }
    return underDeadline(route, params, ctx, rpc);
  };

  /**
   * deadline: what follows runs under it, armed only once something turns out to be asynchronous.
   * The connection's Peer answers with `deadlineError` when it passes and aborts the call's signal.
   */
  function underDeadline(route: MethodRoute, params: unknown, ctx: HandlerContext, rpc: InboundContext): unknown {
    const out = route.supervision || route.permission || route.admission ? guarded(route, params, ctx) : route.spec.handler(params, ctx);
    if (isThenable(out)) rpc.setDeadline(deadlineOf(route.spec, params));
    return out;
  }

  function deadlineOf(spec: MethodSpec, params: unknown): number {
    const d = spec.deadlineMs;
    return typeof d === 'function' ? d(params, state) : (d ?? config.handlerTimeoutMs);
  }

  /** supervision → permission → admission → handler. */
  function guarded(route: MethodRoute, params: unknown, ctx: HandlerContext): unknown {
    if (route.supervision) {
      const p = params as ProposalParams;
      const sessionId = p.session_id ?? session.policies.runtimeSessionId;
      const review = superviseProposal(ctx, p.proposal, { sessionId, scope: p.scope });
      if (review !== null) return review.then(() => afterSupervision(route, params, ctx));
    }
    return afterSupervision(route, params, ctx);
  }

  function afterSupervision(route: MethodRoute, params: unknown, ctx: HandlerContext): unknown {
    if (route.permission) enforcePermissionGate(ctx, (params as ProposalParams).proposal);
    if (!route.admission) return route.spec.handler(params, ctx);
    return state.admission.acquire(ctx.signal).then((permit) => holding(permit, () => route.spec.handler(params, ctx)));
  }
}

/** Longest unknown method name echoed back in an error; the rest is cut. */
export const MAX_SHOWN_METHOD_CHARS = 128;

function shownName(method: string): string {
  return method.length > MAX_SHOWN_METHOD_CHARS ? `${method.slice(0, MAX_SHOWN_METHOD_CHARS)}… (${method.length} characters)` : method;
}

/** Run `fn` holding `permit`; released when its result settles (at once for a plain value or a throw). */
function holding(permit: Permit, fn: () => unknown): unknown {
  let out: unknown;
  try {
    out = fn();
  } catch (err) {
    permit.release();
    throw err;
  }
  if (!isThenable(out)) {
    permit.release();
    return out;
  }
  return Promise.resolve(out).finally(() => permit.release());
}

/**
 * The per-call MethodContext. A class, so that each call allocates one object with a fixed shape:
 * an object literal with a `get signal()` accessor is built on V8's slow path on every call.
 */
class HandlerContext implements MethodContext {
  readonly id: JsonRpcId | undefined;

  constructor(
    readonly state: ServerState,
    readonly session: ClientSession,
    private readonly rpc: InboundContext,
    readonly method: string,
    readonly logger: Logger,
  ) {
    this.id = rpc.id;
  }

  /** Created on first use only: most handlers never look at it. */
  get signal(): AbortSignal {
    return this.rpc.signal;
  }

  closeAfterReply(code?: number, reason?: string): void {
    this.rpc.closeAfterReply(code, reason);
  }
}
