import type { ServerContext, SessionContext } from './context.js';
import type { MethodSpec } from './method.js';
import { ROLE_RANK } from './roles.js';

/**
 * No host check applies: there is no host token (the binary's `--no-auth` mints none, upstream's
 * opt-out posture), so host-only gates are open to every session.
 */
export function hostCheckOff(state: ServerContext): boolean {
  return state.config.hostToken === null;
}

/** True when `session` may call `spec` (role check; host-only methods are open when the host check is off). */
export function mayCall(spec: MethodSpec, session: SessionContext, state: ServerContext): boolean {
  const required = spec.role ?? 'agent';
  if (required === 'host' && hostCheckOff(state)) return true;
  return ROLE_RANK[session.role] >= ROLE_RANK[required];
}
