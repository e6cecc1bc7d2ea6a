/**
 * The gates a request passes before its handler, in the order the pipeline runs them. A method
 * declares which apply to it (see `MethodSpec`); the order is fixed.
 *
 * - `auth`: refused with -32001 (and the connection closed) before a successful `session.auth`.
 * - `handshake`: refused with -32005 before `server.handshake`.
 * - `role`: refused with -32603 when the connection's role ranks below the method's.
 * - `params`: the params schema; -32602 naming the field.
 * - `approval`: parks for a human approval on the host ledger; -32003 on deny or timeout.
 * - `deadline`: everything from here on runs under the method's deadline (-32004 past it); a
 *   call that completes synchronously never arms a timer.
 * - `supervision`: a subscribed supervisor allows, denies or escalates the proposal.
 * - `permission`: every action's permission tier against the session's grant and the ledger.
 * - `admission`: holds an inference permit (`InferenceAdmission`) while the handler runs.
 */
export const GATE_ORDER = [
  'auth',
  'handshake',
  'role',
  'params',
  'approval',
  'deadline',
  'supervision',
  'permission',
  'admission',
] as const;

export type GateName = (typeof GATE_ORDER)[number];

/** A trailing dot is a prefix (`auth.` gates every `auth.*` name); anything else is an exact name. */
export function matchesNameList(method: string, list: readonly string[]): boolean {
  for (const entry of list) {
    if (entry.endsWith('.') ? method.startsWith(entry) : method === entry) return true;
  }
  return false;
}
