import { z } from 'zod';
import { CarError } from '../util/errors.js';
import { defineMethod, type MethodContext, type SessionContext } from '../contract/index.js';
import { DEFAULT_TIER, compareTiers } from '../engine/permission/tiers.js';
import { secureEqual } from '../util/secure-compare.js';

export const AGENT_ID_PATTERN = /^[A-Za-z0-9._-]+$/;

const authParams = z.object({
  token: z.string().optional(),
  host_token: z.string().optional(),
  agent_id: z
    .string()
    .min(1)
    .max(128)
    .regex(AGENT_ID_PATTERN, 'agent_id may contain only letters, digits, ".", "_" and "-"')
    .optional(),
  memory_namespace: z.string().min(1).max(256).optional(),
});

type AuthParams = z.infer<typeof authParams>;

/** A wrong token: counted per connection; the reply to the last allowed attempt closes it. */
function authFailed(ctx: MethodContext): CarError {
  const { session, state } = ctx;
  session.authFailures++;
  const max = state.config.maxAuthFailures;
  if (session.authFailures >= max) {
    ctx.closeAfterReply(undefined, `auth failed ${max} times`);
    return new CarError('denied', `auth failed: token mismatch; ${max} failed attempts, closing the connection`, { limit: max });
  }
  return new CarError('denied', 'auth failed: token mismatch');
}

function bindIdentity(p: AuthParams, ctx: MethodContext): void {
  const { state, session } = ctx;
  if (p.agent_id !== undefined && !state.attachAgent(p.agent_id, session)) {
    throw new CarError('conflict', `agent '${p.agent_id}' is already attached on another connection`, { field: 'agent_id' });
  }
  if (p.memory_namespace !== undefined) session.memoryNamespace = p.memory_namespace;
}

/**
 * A connection that authenticates again with a lesser token loses the host role, and with it any
 * tier above the default that only the host could have granted.
 */
function dropHostRole(session: SessionContext): void {
  if (!session.isHost) return;
  session.isHost = false;
  if (compareTiers(session.grantedTier, DEFAULT_TIER) > 0) session.grantedTier = DEFAULT_TIER;
}

export const sessionAuth = defineMethod({
  name: 'session.auth',
  summary: 'Authenticate this connection with the daemon token, an agent token, or the host token.',
  public: true,
  params: authParams,
  handler(p, ctx) {
    const { state, session } = ctx;
    const { authToken, hostToken } = state.config;
    const result: Record<string, unknown> = { ok: true, auth_enabled: authToken !== null };

    if (p.host_token !== undefined) {
      const hostOk = hostToken !== null && secureEqual(p.host_token, hostToken);
      if (!hostOk && authToken !== null) throw authFailed(ctx);
      bindIdentity({ memory_namespace: p.memory_namespace }, ctx);
      session.authenticated = true;
      if (hostOk) {
        session.isHost = true;
        result.role = 'host';
      } else dropHostRole(session);
    } else {
      if (authToken !== null) {
        if (p.token === undefined) throw new CarError('invalid', 'token is required (or host_token)', { field: 'token' });
        // An agent identity binds only with that agent's own token, never with the daemon token.
        const expected = p.agent_id !== undefined ? state.agents.tokenFor(p.agent_id) : authToken;
        if (expected === undefined || !secureEqual(p.token, expected)) throw authFailed(ctx);
      }
      bindIdentity(p, ctx);
      session.authenticated = true;
      dropHostRole(session);
      if (p.agent_id !== undefined) result.agent_id = p.agent_id;
    }
    if (session.memoryNamespace !== null && p.memory_namespace !== undefined) {
      result.memory_namespace = session.memoryNamespace;
    }
    return result;
  },
});
