import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { pingDocker } from '../engine/docker-preflight.js';
import { CarError } from '../util/errors.js';
import { defineMethod } from '../contract/index.js';
import { policyDefinition } from './policy.js';
import { noParams } from './schemas.js';
import { toolsRegister } from './tools.js';

/**
 * The runtime side of `session.*`: `session.init` (tools and policies in one call), policy
 * sub-contexts, and the substrate bindings this daemon cannot honour yet.
 */

export const sessionInit = defineMethod({
  name: 'session.init',
  summary: "Register tools and policies on this connection's runtime in one call; returns the runtime session id.",
  params: z.object({
    tools: toolsRegister.params.optional(),
    policies: z.array(policyDefinition).max(4096).optional(),
  }),
  handler(p, ctx) {
    const { session } = ctx;
    // Check every policy before anything is registered, so a bad one leaves the session unchanged.
    const policies = p.policies ?? [];
    session.policies.validate(policies);
    const toolsRegistered = p.tools === undefined ? 0 : (toolsRegister.handler(p.tools, ctx) as number);
    for (const policy of policies) session.policies.register(policy);
    return {
      session_id: session.policies.runtimeSessionId,
      tools_registered: toolsRegistered,
      policies_registered: policies.length,
    };
  },
});

export const sessionPolicyOpen = defineMethod({
  name: 'session.policy.open',
  summary: 'Open a policy sub-context; its policies stack on the global ones for proposals that name it.',
  params: noParams,
  handler: (_p, { session }) => ({ session_id: session.policies.open() }),
});

export const sessionPolicyClose = defineMethod({
  name: 'session.policy.close',
  summary: "Close a policy sub-context and drop its policies; closed is false for an unknown id.",
  params: z.object({ session_id: z.string().min(1, 'session_id must be a non-empty string').max(256) }),
  handler: (p, { session }) => ({ closed: session.policies.close(p.session_id) }),
});

export const sessionBindSubstrate = defineMethod({
  name: 'session.bindSubstrate',
  summary: 'Route the built-in file tools to an MCP connector (no connectors are available on this daemon yet).',
  params: z.object({ connector: z.string().min(1, 'connector must be a non-empty string').max(256) }),
  handler(p) {
    // Connectors arrive with a later issue; until then every slug is an unknown connector.
    throw new CarError('not_found', `connector '${p.connector}' is not connected`, { field: 'connector' });
  },
});

export const sessionBindSandbox = defineMethod({
  name: 'session.bindSandbox',
  summary:
    'Bind this session to a Docker sandbox. Docker is preflighted first; with no Docker engine the call fails with the preflight reason, and it never falls back to unsandboxed execution.',
  params: z.object({
    working_dir: z.string().min(1, 'working_dir must be a non-empty string'),
    image: z.string().min(1).optional(),
    network: z.string().min(1).optional(),
    memory: z.string().min(1).optional(),
    cpus: z.union([z.number().positive(), z.string().min(1)]).optional(),
    pids_limit: z.number().int().positive().optional(),
    command_timeout_secs: z.number().int().min(1, 'command_timeout_secs must be at least 1').optional(),
  }),
  async handler(p, ctx) {
    if (ctx.session.agentId !== null) {
      throw new CarError('denied', 'session.bindSandbox is not available to agent sessions: it mounts a host directory');
    }
    if (!isAbsolute(p.working_dir)) throw new CarError('invalid', 'working_dir must be an absolute path', { field: 'working_dir' });
    const problem = await pingDocker();
    if (problem !== null) {
      throw new CarError('unavailable', `session.bindSandbox preflight failed: ${problem}; the daemon does not fall back to unsandboxed execution`, {
        detail: { reason: 'docker_unavailable' },
      });
    }
    throw new CarError(
      'unavailable',
      'session.bindSandbox preflight passed, but this daemon has no sandboxed built-ins to bind to the container; nothing was bound',
      { detail: { reason: 'sandbox_builtins_unavailable' } },
    );
  },
});

export const sessionClearHalt = defineMethod({
  name: 'session.clear_halt',
  summary:
    "Let a session halted by a terminal tool error run proposals again (this connection's, or the one session_id names); cleared is false when it was not halted.",
  params: z.object({ session_id: z.string().min(1, 'session_id must be a non-empty string').max(256).optional() }),
  role: 'host',
  handler(p, { session, state }) {
    const target = p.session_id === undefined ? session : state.findSession(p.session_id);
    if (target === undefined) {
      throw new CarError('not_found', `no connected session '${p.session_id}'`, { field: 'session_id' });
    }
    const halt = target.halt;
    target.halt = null;
    return halt === null ? { cleared: false } : { cleared: true, halt };
  },
});

export const sessionRuntimeMethods = [
  sessionClearHalt,
  sessionInit,
  sessionPolicyOpen,
  sessionPolicyClose,
  sessionBindSubstrate,
  sessionBindSandbox,
];
