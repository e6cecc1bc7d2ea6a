import { isCredentialKey } from '../engine/permission/index.js';
import type { HostApproval, HostEvent } from '../host/types.js';
import type { MethodContext } from '../contract/index.js';
import { isObject } from '../util/values.js';

/** What a credential-looking value is replaced with for sessions that do not own the approval. */
export const REDACTED = '[redacted]';

type Viewer = Pick<MethodContext, 'state' | 'session'>;

/** A copy of `value` with the value of every credential-looking key (at any depth) replaced. */
export function redactCredentials(value: unknown, depth = 0): unknown {
  if (depth > 64) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactCredentials(v, depth + 1));
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = isCredentialKey(key) !== undefined && v !== null && v !== '' ? REDACTED : redactCredentials(v, depth + 1);
  }
  return out;
}

/** The owner and the host role see an approval whole; everyone else with credentials redacted. */
function seesWhole(viewer: Viewer, approvalId: string): boolean {
  if (viewer.session.isHost) return true;
  return viewer.state.host.ownerOf(approvalId) === viewer.session.clientId;
}

/** Redacted previews of a gate approval's params are text: hide `"key":"value"` pairs of credential keys. */
function redactPreview(text: string): string {
  return text.replace(/"((?:[^"\\]|\\.)*)"\s*:\s*("(?:[^"\\]|\\.)*"|[^,}\]]+)/g, (whole, key: string) =>
    isCredentialKey(key) !== undefined ? `"${key}":"${REDACTED}"` : whole,
  );
}

export function approvalFor(viewer: Viewer, approval: HostApproval): HostApproval {
  if (seesWhole(viewer, approval.id)) return approval;
  let details = redactCredentials(approval.details);
  if (isObject(details) && typeof details.params_preview === 'string') {
    details = { ...details, params_preview: redactPreview(details.params_preview) };
  }
  return { ...approval, details, context: redactCredentials(approval.context) };
}

/** Approval events carry the approval: redact it the same way for a viewer that does not own it. */
export function eventFor(viewer: Viewer, event: HostEvent): HostEvent {
  if (!event.kind.startsWith('approval.') || !isObject(event.payload)) return event;
  const approval = event.payload.approval as HostApproval | undefined;
  if (!isObject(approval) || typeof approval.id !== 'string') return event;
  const shown = approvalFor(viewer, approval);
  return shown === approval ? event : { ...event, payload: { ...event.payload, approval: shown } };
}
