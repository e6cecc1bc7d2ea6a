import { z } from 'zod';
import type { Action } from '../engine/ir.js';
import { recordLookup, type PolicyDenial } from '../engine/policy/policy-engine.js';
import { defineMethod, type SessionContext } from '../contract/index.js';

const name = z.string().min(1, 'name must be a non-empty string').max(256);
const sessionId = z.string().min(1).max(256).optional();

/** The fields of one policy, as `policy.register` and `session.init` take them. */
export const policyDefinition = z.object({
  name,
  rule: z.string().min(1, 'rule must be a non-empty string'),
  target: z.string().max(1024).optional(),
  key: z.string().max(4096).optional(),
  pattern: z.string().max(4096).optional(),
  value: z.unknown().optional(),
});

/**
 * The policy check `verify` reports denials from: the session's policies (stacked with a policy
 * session's when one is named) applied to each action against the simulated state. Undefined
 * when no policy applies.
 */
export function policyViolationsFor(
  session: SessionContext,
  sessionId?: string,
): ((action: Action, state: Record<string, unknown>) => PolicyDenial[]) | undefined {
  const set = session.policies.policySet(sessionId);
  if (set.size === 0) return undefined;
  return (action, state) => set.check({ id: action.id, tool: action.tool, parameters: action.parameters }, recordLookup(state));
}

export const policyRegister = defineMethod({
  name: 'policy.register',
  summary: 'Add a policy (deny_tool, deny_tool_param or require_state) to this connection or to a policy session.',
  params: policyDefinition.extend({ session_id: sessionId }),
  handler(p, { session }) {
    const scope = session.policies.register(p, p.session_id);
    return { registered: p.name, scope };
  },
});

export const policyUnregister = defineMethod({
  name: 'policy.unregister',
  summary: 'Remove every policy with this name (globals included); removed is 0 when there was none.',
  params: z.object({ name, session_id: sessionId }),
  handler(p, { session }) {
    const { removed, scope } = session.policies.unregister(p.name, p.session_id);
    return { unregistered: p.name, removed, scope };
  },
});

export const policyList = defineMethod({
  name: 'policy.list',
  summary: 'The policies that apply in a scope (a policy session adds its own to the global ones), in registration order.',
  params: z.object({ session_id: sessionId }),
  handler: (p, { session }) => session.policies.list(p.session_id),
});

export const policyMethods = [policyRegister, policyUnregister, policyList];
