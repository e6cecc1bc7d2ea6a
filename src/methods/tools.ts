import { z } from 'zod';
import type { ToolDefinition } from '../engine/tool-registry.js';
import { defineMethod } from '../contract/index.js';
import { noParams } from './schemas.js';

const toolDefinition = z.object({
  name: z.string().min(1, 'name must be a non-empty string').max(256),
  description: z.string().optional(),
  parameters: z.unknown().optional(),
  returns: z.unknown().optional(),
  idempotent: z.boolean().optional(),
  cache_ttl_secs: z.number().nonnegative().optional(),
  rate_limit: z
    .object({
      max_calls: z.number().int().min(1, 'rate_limit.max_calls must be at least 1'),
      interval_secs: z.number().positive('rate_limit.interval_secs must be positive'),
    })
    .loose()
    .optional(),
});

function toDefinition(t: z.infer<typeof toolDefinition>): ToolDefinition {
  const def: ToolDefinition = {
    name: t.name,
    description: t.description ?? '',
    parameters: t.parameters ?? {},
    idempotent: t.idempotent ?? false,
  };
  if (t.returns !== undefined) def.returns = t.returns;
  if (t.cache_ttl_secs !== undefined) def.cache_ttl_secs = t.cache_ttl_secs;
  if (t.rate_limit !== undefined) def.rate_limit = t.rate_limit;
  return def;
}

export const toolsRegister = defineMethod({
  name: 'tools.register',
  summary: 'Register tools on this connection (params: an array of tool definitions); returns how many.',
  params: z.array(toolDefinition),
  result: z.number(),
  handler(tools, { session }) {
    const registered = session.tools.register(tools.map(toDefinition));
    // A re-registered tool starts a fresh rate window.
    for (const t of tools) session.rateLimiter.forget(t.name);
    return registered;
  },
});

export const toolsList = defineMethod({
  name: 'tools.list',
  summary: "This connection's tools, sorted by name.",
  params: noParams,
  handler(_p, { session }) {
    const tools = session.tools.list();
    return { tools, count: tools.length };
  },
});

export const toolsUnregister = defineMethod({
  name: 'tools.unregister',
  summary: 'Remove a tool from this connection; removed is 0 when it was not registered.',
  params: z.object({ name: z.string().min(1, 'name must be a non-empty string') }),
  handler(p, { session }) {
    return { unregistered: p.name, removed: session.tools.unregister(p.name) };
  },
});

const handleParams = z.object({ handle: z.string().min(1, 'handle must be a non-empty string') });

export const toolsPoll = defineMethod({
  name: 'tools.poll',
  summary: "Drain a detached tool handle's buffered chunks; null when the handle is unknown or consumed.",
  params: handleParams,
  handler: (p, { session }) => session.toolHandles.poll(p.handle),
});

export const toolsCancel = defineMethod({
  name: 'tools.cancel',
  summary: 'Seal a running detached tool handle as cancelled; cancelled is false for unknown or finished handles.',
  params: handleParams,
  handler: (p, { session }) => ({ cancelled: session.toolHandles.cancel(p.handle) }),
});

export const toolsStreamSubscribe = defineMethod({
  name: 'tools.stream.subscribe',
  summary: 'Also push detached tool chunks to this connection as tools.stream.event (lossy; tools.poll is the reliable path).',
  params: noParams,
  handler(_p, { session }) {
    session.toolStreamSubscribed = true;
    return { subscribed: true };
  },
});
