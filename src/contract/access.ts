import type { ServerContext, SessionContext } from './context.js';
import type { MethodSpec } from './method.js';
import { ROLE_RANK } from './roles.js';

/**
 * No host check applies: there is no host token, or auth is off (upstream's opt-out posture: no
 * auth, no host check), so host-only gates are open to every session.
 */
export function hostCheckOff(state: ServerContext): boolean {
  return state.config.hostToken === null || state.config.authToken === null;
}

/** True when `session` may call `spec` (role check; host-only methods are open when the host check is off). */
export function mayCall(spec: MethodSpec, session: SessionContext, state: ServerContext): boolean {
  const required = spec.role ?? 'agent';
  if (required === 'host' && hostCheckOff(state)) return true;
  return ROLE_RANK[session.role] >= ROLE_RANK[required];
}
