import { ErrorCode, RequestAbortedError, RpcError } from '../rpc/errors.js';
import type { JsonRpcId, JsonRpcParams } from '../rpc/messages.js';
import type { InboundContext, InboundHandler } from '../rpc/peer.js';
import { CloseCode } from '../transport/frame.js';
import { formatSeconds } from '../util/duration.js';
import type { Logger } from '../util/logger.js';
import { ApprovalGate } from './approval-gate.js';
import { ROLE_RANK, type MethodContext, type MethodSpec } from './method.js';
import { formatParamsError } from './params.js';
import type { ClientSession } from './session.js';
import type { ServerState } from './state.js';

/** Longest timer Node accepts. */
const MAX_TIMER_MS = 2_147_483_647;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

export function isHandshakeGated(method: string, gated: readonly string[]): boolean {
  for (const g of gated) {
    if (g.endsWith('.') ? method.startsWith(g) : method === g) return true;
  }
  return false;
}

/** True when `session` may call `spec` (role check; host-only methods are open with no host token). */
export function mayCall(spec: MethodSpec, session: ClientSession, state: ServerState): boolean {
  const required = spec.role ?? 'agent';
  if (required === 'host' && state.config.hostToken === null) return true;
  return ROLE_RANK[session.role] >= ROLE_RANK[required];
}

/**
 * The gate pipeline, in order: auth → handshake → method lookup → role → params schema →
 * approval gate → handler under its deadline. Everything a request passes through before a handler runs is here.
 */
export function createGatePipeline(state: ServerState, session: ClientSession, log: Logger): InboundHandler {
  const config = state.config;
  const approvalGate = new ApprovalGate(config.approvalGate, state.host);
  // Deadline waits still open on this connection. One close listener ends them all, so no deadline
  // timer outlives its connection, without an AbortSignal listener per async call.
  const deadlines = new Set<(reason: unknown) => void>();
  session.channel.onClose((info) => {
    const reason = new RequestAbortedError('closed', `connection closed (${info.code}${info.reason ? ` ${info.reason}` : ''})`);
    for (const cancel of [...deadlines]) cancel(reason);
  });
  return (method: string, rawParams: JsonRpcParams | undefined, rpc: InboundContext): unknown => {
    const spec = state.methods.get(method);

    // 1. auth: everything but session.auth waits for a successful session.auth; then the connection closes.
    if (!session.authenticated && !spec?.public) {
      if (rpc.id === undefined) session.channel.close(CloseCode.PolicyViolation, 'auth required');
      else rpc.closeAfterReply(CloseCode.PolicyViolation, 'auth required');
      throw new RpcError(
        ErrorCode.AuthRequired,
        `auth required: call session.auth with the daemon token before '${method}'`,
      );
    }

    // 2. handshake
    if (!session.negotiated && (spec?.needsHandshake || isHandshakeGated(method, config.handshakeGated))) {
      throw new RpcError(
        ErrorCode.HandshakeRequired,
        `protocol handshake required: call server.handshake {protocol_version: 2} before '${method}'`,
      );
    }

    // 3. lookup
    if (!spec) throw new RpcError(ErrorCode.MethodNotFound, `unknown method: ${method}`);

    // 4. role
    if (!mayCall(spec, session, state)) {
      throw new RpcError(
        ErrorCode.InternalError,
        `'${method}' requires the ${spec.role ?? 'agent'} role; this connection is '${session.role}'`,
      );
    }

    // 5. params
    const parsed = spec.params.safeParse(rawParams ?? {});
    if (!parsed.success) throw RpcError.invalidParams(formatParamsError(parsed.error), { method });
    const params = parsed.data;

    // 6. approval gate: a high-risk method parks until a human approves it (its own timeout, not the deadline)
    const ctx = new HandlerContext(state, session, rpc, method, log);
    if (approvalGate.gates(method)) {
      return approvalGate.admit(method, params, rpc.signal).then(() => runHandler(spec, params, ctx, rpc));
    }

    // 7. handler, under its deadline
    return runHandler(spec, params, ctx, rpc);
  };

  function runHandler(spec: MethodSpec, params: unknown, ctx: HandlerContext, rpc: InboundContext): unknown {
    const out = spec.handler(params, ctx);
    if (!isThenable(out)) return out;
    const deadline =
      typeof spec.deadlineMs === 'function'
        ? spec.deadlineMs(params, state)
        : (spec.deadlineMs ?? config.handlerTimeoutMs);
    return withDeadline(out, deadline, ctx.method, rpc, deadlines);
  }
}

function withDeadline(
  work: PromiseLike<unknown>,
  ms: number,
  method: string,
  rpc: InboundContext,
  live: Set<(reason: unknown) => void>,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const settle = (): void => {
      clearTimeout(timer);
      live.delete(cancel);
    };
    const cancel = (reason: unknown): void => {
      settle();
      reject(reason);
    };
    const timer = setTimeout(
      () => {
        const err = new RpcError(
          ErrorCode.DeadlineExceeded,
          `handler '${method}' exceeded its ${formatSeconds(ms)} response deadline; the outcome is ambiguous, so read state back before retrying`,
        );
        settle();
        rpc.abort(err);
        reject(err);
      },
      Math.min(Math.max(ms, 0), MAX_TIMER_MS),
    );
    live.add(cancel);
    work.then(
      (value) => {
        settle();
        resolve(value);
      },
      (err: unknown) => {
        settle();
        reject(err);
      },
    );
  });
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

  // An arrow property, so a destructured `closeAfterReply` still works as before.
  readonly closeAfterReply = (code?: number, reason?: string): void => this.rpc.closeAfterReply(code, reason);
}
