import { z } from 'zod';
import type { GenerateRequest, StreamEvent } from '../inference/types.js';
import { defineMethod, type MethodContext, type MethodSpec } from '../contract/index.js';
import { recordMetering } from './inference-common.js';
import { inferParams, intentOf, lastUserText, toGenerateRequest, type InferParams } from './inference-schema.js';
import { memoryBuildContext } from './memory.js';
import { memoryIntervene } from './memory-proactive.js';

/** Run another method's handler in this call's context, params validated by its own schema. */
async function callMethod(spec: MethodSpec, params: unknown, ctx: MethodContext): Promise<unknown> {
  return spec.handler(spec.params.parse(params), ctx);
}

/**
 * `context_query` prepends the caller's `memory.build_context`; `memory_intervention` adds the
 * reminder `memory.intervene` picks, when it picks one.
 */
async function withMemory(req: GenerateRequest, p: InferParams, ctx: MethodContext): Promise<GenerateRequest> {
  const preamble: string[] = [];
  if (p.context_query) {
    const query = typeof p.context_query === 'string' ? p.context_query : lastUserText(req);
    preamble.push(String(await callMethod(memoryBuildContext, { query }, ctx)));
  }
  if (p.memory_intervention) {
    const ask = typeof p.memory_intervention === 'object' ? p.memory_intervention : {};
    const verdict = (await callMethod(memoryIntervene, { query: lastUserText(req), ...ask }, ctx)) as { decision: string; reminder?: string };
    if (verdict.decision === 'inject' && verdict.reminder) preamble.push(verdict.reminder);
  }
  if (preamble.length === 0) return req;
  return { ...req, system: [...preamble, req.system ?? ''].filter((s) => s !== '').join('\n\n') };
}

/** `infer.progress {id}` every interval while `fn` runs, so a long call is seen to be alive. */
async function withProgress<T>(ctx: MethodContext, fn: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => ctx.session.channel.notify('infer.progress', { id: ctx.id ?? null }), ctx.state.config.inferenceProgressIntervalMs);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

const usageResult = z
  .object({
    prompt_tokens: z.number(),
    completion_tokens: z.number(),
    total_tokens: z.number(),
    cache_read_input_tokens: z.number(),
    cache_creation_input_tokens: z.number(),
  })
  .nullable();

export const infer = defineMethod({
  name: 'infer',
  summary: 'One generation: a given model is a hard pin; otherwise routed, with retries and fallback. Sends infer.progress while running.',
  params: inferParams,
  admission: true,
  result: z.object({
    text: z.string(),
    tool_calls: z.array(z.unknown()),
    usage: usageResult,
    model_used: z.string(),
    trace_id: z.string(),
    latency_ms: z.number(),
    time_to_first_token_ms: z.number().nullable(),
    stop_reason: z.string().nullable(),
  }),
  handler: (p, ctx) =>
    withProgress(ctx, async () => {
      const req = await withMemory(toGenerateRequest(p), p, ctx);
      const intent = intentOf(p);
      const { result, metering } = await ctx.state.inference.generate(req, { model: p.model ?? null, signal: ctx.signal, ...(intent && { intent }) });
      recordMetering(ctx, metering, 'infer');
      return result;
    }),
});

export const inferStream = defineMethod({
  name: 'infer_stream',
  summary: 'A streamed generation: inference.stream.event {request_id, event} per event; the reply is the final answer. An error event is terminal.',
  params: inferParams,
  admission: true,
  result: z.object({ text: z.string(), tool_calls: z.array(z.unknown()), usage: usageResult, stop_reason: z.string().nullable(), trace_id: z.string(), model_used: z.string() }),
  // The handler's promise settles only once the stream has ended (every event sent, or the error
  // event), so the admission permit is held for the whole stream.
  handler: async (p, ctx) => {
    const send = (event: StreamEvent): void => void ctx.session.channel.notify('inference.stream.event', { request_id: ctx.id ?? null, event });
    try {
      const req = await withMemory(toGenerateRequest(p), p, ctx);
      const intent = intentOf(p);
      const { result, metering } = await ctx.state.inference.generate(req, {
        model: p.model ?? null,
        signal: ctx.signal,
        onEvent: send,
        ...(intent && { intent }),
      });
      recordMetering(ctx, metering, 'infer_stream');
      const { text, tool_calls, usage, stop_reason, trace_id, model_used } = result;
      return { text, tool_calls, usage, stop_reason, trace_id, model_used };
    } catch (err) {
      send({ type: 'error', message: (err as Error)?.message ?? String(err) });
      throw err;
    }
  },
});

export const embed = defineMethod({
  name: 'embed',
  summary: 'Embeddings for each text, in order, from the given or a routed embedding model.',
  params: z.object({ texts: z.array(z.string().max(1024 * 1024)).min(1).max(4096), model: z.string().min(1).max(256).nullable().optional() }).loose(),
  admission: true,
  result: z.object({ embeddings: z.array(z.array(z.number())) }),
  handler: async (p, ctx) => {
    const out = await ctx.state.inference.embed(p.texts, { model: p.model ?? null, signal: ctx.signal });
    recordMetering(ctx, out.metering, 'embed');
    return { embeddings: out.embeddings, model_used: out.model };
  },
});

export const classify = defineMethod({
  name: 'classify',
  summary: 'Score each label for a text (embedding similarity, or a generative pick when no embedding model is available).',
  params: z
    .object({ text: z.string().max(1024 * 1024), labels: z.array(z.string().min(1).max(1024)).min(1).max(1024), model: z.string().min(1).max(256).nullable().optional() })
    .loose(),
  admission: true,
  result: z.object({ classifications: z.array(z.object({ label: z.string(), score: z.number() })) }),
  handler: async (p, ctx) => {
    const out = await ctx.state.inference.classify(p.text, p.labels, { model: p.model ?? null, signal: ctx.signal });
    recordMetering(ctx, out.metering, 'classify');
    return { classifications: out.classifications };
  },
});

export const tokenize = defineMethod({
  name: 'tokenize',
  summary: "Token ids of a text under a local model's tokenizer; remote models answer UnsupportedMode.",
  params: z.object({ model: z.string().min(1).max(256), text: z.string().max(4 * 1024 * 1024) }).loose(),
  result: z.object({ tokens: z.array(z.number()) }),
  handler: async (p, ctx) => ({ tokens: await ctx.state.inference.tokenize(p.model, p.text, ctx.signal) }),
});

export const detokenize = defineMethod({
  name: 'detokenize',
  summary: 'Text for token ids under a local model (round-trips with tokenize).',
  params: z.object({ model: z.string().min(1).max(256), tokens: z.array(z.number().int().nonnegative()).max(1_000_000) }).loose(),
  result: z.object({ text: z.string() }),
  handler: async (p, ctx) => ({ text: await ctx.state.inference.detokenize(p.model, p.tokens, ctx.signal) }),
});

export const inferenceMethods: MethodSpec[] = [infer, inferStream, embed, classify, tokenize, detokenize];
