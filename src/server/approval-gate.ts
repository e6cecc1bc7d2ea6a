import { ErrorCode, RpcError } from '../rpc/errors.js';
import type { HostState } from '../host/host-state.js';
import { formatSeconds } from '../util/duration.js';
import { jsonPreview } from '../util/json-preview.js';
import type { ApprovalGateOptions } from './config.js';

/** Action prefix of gate approvals, so a UI can tell them from approvals agents asked for. */
export const GATE_ACTION_PREFIX = 'ws.method:';
/** Longest params preview kept on a gate approval. */
export const GATE_PREVIEW_CHARS = 512;

/**
 * The high-risk method gate: a gated call raises a system approval (no owning session) and parks
 * until someone resolves it. Approve lets the handler run; deny or the timeout fail the call with
 * -32003 and leave the connection open; an approval nobody decided in time expires (it stays listed). Which
 * methods it covers is decided when the method table is built (`MethodRoute.approval`).
 */
export class ApprovalGate {
  constructor(
    private readonly options: Pick<ApprovalGateOptions, 'timeoutMs'>,
    private readonly host: HostState,
  ) {}

  /** Resolves once approved; rejects with -32003 on deny or timeout. */
  async admit(method: string, params: unknown, signal?: AbortSignal, raisedBy: string | null = null): Promise<void> {
    const approval = this.host.createApproval(null, {
      title: `Allow ${method}?`,
      action: `${GATE_ACTION_PREFIX}${method}`,
      details: { method, params_preview: preview(params) },
    }, raisedBy);
    const outcome = await this.host.waitForResolution(approval.id, this.options.timeoutMs, signal);
    if (outcome === 'approved') return;
    // -32003 is the protocol's code for all three; `data.kind` says which, as on every other error.
    const data = (kind: 'denied' | 'timeout'): Record<string, unknown> => ({ kind, approval_id: approval.id, method });
    if (outcome === 'denied') {
      throw new RpcError(ErrorCode.ApprovalDenied, `'${method}' was denied by the approval gate (${approval.id})`, data('denied'));
    }
    if (outcome === 'timeout') {
      throw new RpcError(
        ErrorCode.ApprovalDenied,
        `'${method}' was not approved within ${formatSeconds(this.options.timeoutMs)}; approval ${approval.id} has expired`,
        data('timeout'),
      );
    }
    throw new RpcError(
      ErrorCode.ApprovalDenied,
      `'${method}' was abandoned while waiting for approval ${approval.id}`,
      data('denied'),
    );
  }
}

function preview(params: unknown): string {
  return jsonPreview(params, GATE_PREVIEW_CHARS) ?? 'null';
}
