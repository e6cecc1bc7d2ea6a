import { z } from 'zod';
import { defineMethod, type MethodSpec } from '../contract/index.js';
import { intentSchema } from './inference-schema.js';

export const modelsListUnified = defineMethod({
  name: 'models.list_unified',
  summary: 'Every model the daemon knows (catalogue, models.json, local Ollama), with availability, locality and price; null cost = unpriced.',
  params: z.object({}).loose().nullable().optional(),
  handler: (_p, ctx) => ctx.state.inference.listUnified(),
});

export const modelsRoute = defineMethod({
  name: 'models.route',
  summary: 'Which model the router would pick for a prompt and why: task, complexity, strategy, predicted quality, fallbacks and every candidate.',
  params: z.object({ prompt: z.string().max(4 * 1024 * 1024), intent: intentSchema.nullable().optional(), max_tokens: z.number().int().positive().optional() }).loose(),
  handler: (p, ctx) => {
    const need = p.intent?.task === 'embed' ? ['embed'] : ['generate'];
    return ctx.state.inference.route(p.prompt, p.intent ?? undefined, need, p.max_tokens);
  },
});

export const modelsStats = defineMethod({
  name: 'models.stats',
  summary: 'Per-model call counts, success rate, average latency and quality EMA since the daemon started.',
  params: z.object({}).loose().nullable().optional(),
  handler: (_p, ctx) => ({ profiles: ctx.state.inference.stats.profiles() }),
});

export const modelsRegister = defineMethod({
  name: 'models.register',
  summary: 'Add or replace a model in models.json (atomically); effective at the next daemon start. trust_tier becomes community.',
  params: z.union([z.object({ schema: z.record(z.string(), z.unknown()) }), z.record(z.string(), z.unknown())]),
  handler: async (p, ctx) => {
    const schema = 'schema' in p && typeof p.schema === 'object' && p.schema !== null && !('source' in p) ? p.schema : p;
    const out = await ctx.state.inference.registry.register(schema);
    return { id: out.id, registered: true, path: out.path, note: out.note };
  },
});

export const modelsUnregister = defineMethod({
  name: 'models.unregister',
  summary: 'Remove a model from models.json; effective at the next daemon start. An id the file does not hold is an error.',
  params: z.object({ id: z.string().min(1).max(256) }),
  handler: async (p, ctx) => {
    const out = await ctx.state.inference.registry.unregister(p.id);
    return { id: out.id, unregistered: true, path: out.path, note: out.note };
  },
});

export const modelsMethods: MethodSpec[] = [modelsListUnified, modelsRoute, modelsStats, modelsRegister, modelsUnregister];
