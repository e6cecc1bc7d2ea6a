import { z } from 'zod';
import { defineMethod, type MethodSpec } from '../contract/index.js';

export const registerRunner = defineMethod({
  name: 'inference.register_runner',
  summary: 'Serve delegated models from this connection (one runner per daemon; the last to register wins). Calls arrive as inference.runner.invoke.',
  params: z.object({}).loose().nullable().optional(),
  result: z.object({ registered: z.literal(true) }),
  handler: (_p, ctx) => {
    const hub = ctx.state.inference.runners;
    const session = ctx.session;
    hub.register({
      id: session.clientId,
      invoke: (callId, request) => session.channel.isOpen && session.channel.notify('inference.runner.invoke', { call_id: callId, request }),
    });
    session.channel.onClose(() => hub.disconnected(session.clientId));
    return { registered: true };
  },
});

const callId = z.string().min(1).max(256);

export const runnerEvent = defineMethod({
  name: 'inference.runner.event',
  summary: 'A streamed event of a delegated call (text, tool_start, tool_delta, usage, provider_output_item, error, done); anything else is refused.',
  params: z.object({ call_id: callId, event: z.unknown() }),
  result: z.object({ emitted: z.literal(true) }),
  handler: async (p, ctx) => {
    await ctx.state.inference.runners.event(ctx.session.clientId, p.call_id, p.event);
    return { emitted: true };
  },
});

export const runnerComplete = defineMethod({
  name: 'inference.runner.complete',
  summary: 'Finish a delegated call. Valid without events; when events were streamed they win over result.',
  params: z.object({
    call_id: callId,
    result: z.object({ text: z.string().max(16 * 1024 * 1024).optional(), tool_calls: z.array(z.any()).max(1024).optional() }).loose().optional(),
  }),
  result: z.object({ completed: z.literal(true) }),
  handler: async (p, ctx) => {
    await ctx.state.inference.runners.complete(ctx.session.clientId, p.call_id, p.result);
    return { completed: true };
  },
});

export const runnerFail = defineMethod({
  name: 'inference.runner.fail',
  summary: 'Fail a delegated call with an error message ("content refused: …" is a refusal).',
  params: z.object({ call_id: callId, error: z.union([z.string().max(64 * 1024), z.object({ message: z.string().max(64 * 1024) }).loose()]) }),
  result: z.object({ failed: z.literal(true) }),
  handler: async (p, ctx) => {
    await ctx.state.inference.runners.fail(ctx.session.clientId, p.call_id, typeof p.error === 'string' ? p.error : p.error.message);
    return { failed: true };
  },
});

export const runnerMethods: MethodSpec[] = [registerRunner, runnerEvent, runnerComplete, runnerFail];
