import type { ServerContext, SessionContext } from './context.js';
import type { MethodSpec } from './method.js';
import { ROLE_RANK } from './roles.js';

/** True when `session` may call `spec` (role check; host-only methods are open with no host token). */
export function mayCall(spec: MethodSpec, session: SessionContext, state: ServerContext): boolean {
  const required = spec.role ?? 'agent';
  if (required === 'host' && state.config.hostToken === null) return true;
  return ROLE_RANK[session.role] >= ROLE_RANK[required];
}
