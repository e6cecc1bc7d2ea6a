import { z } from 'zod';
import { defineMethod, type MethodContext, type MethodSpec } from '../contract/index.js';
import type { ChatMessage, GenerateRequest, ToolCall, ToolSpec } from '../inference/types.js';
import { CarError } from '../util/errors.js';
import { isObject } from '../util/values.js';
import { resolveOverlay, type TurnTracks } from '../voice/index.js';
import { recordMetering } from './inference-common.js';

const overlayParams = z
  .object({
    voice_prompt_overlay: z.string().max(16 * 1024).nullable().optional(),
    /** The fast track's model (default: routed, preferring fast models). */
    fast_model: z.string().min(1).max(256).optional(),
    /** The sidecar's model (default: routed). */
    sidecar_model: z.string().min(1).max(256).optional(),
  })
  .loose()
  .nullish();

type Overlay = z.output<typeof overlayParams>;

const SIDECAR_SYSTEM =
  'You carry out the user\'s spoken request. Use the tools you are given when the request needs them; a tool result that says it was refused means you may not do that. Finish with a short plain-text answer fit to be read aloud.';

/** One generation under an admission permit, metered to the calling session. */
async function generate(ctx: MethodContext, req: GenerateRequest, model: string | null, signal: AbortSignal, intent: Record<string, unknown>, onText?: (t: string) => void) {
  const { result, metering } = await ctx.state.admission.withPermit(
    () =>
      ctx.state.inference.generate(req, {
        model,
        signal,
        intent,
        ...(onText && { onEvent: (ev) => void (ev.type === 'text' && onText(ev.data)) }),
      }),
    signal,
  );
  recordMetering(ctx, metering, 'voice.dispatch_turn');
  return result;
}

/** Action ids the proposal IR accepts, one per tool call of a round. */
function actionId(round: number, i: number): string {
  return `voice_r${round}_${i}`;
}

/**
 * The sidecar's tool calls run as a proposal of this session, through `proposal.submit`'s whole
 * gate pipeline (policies, supervision, permission tiers, the approval gate): a voice turn can do
 * nothing the client could not do by submitting that proposal itself.
 */
async function runTools(ctx: MethodContext, calls: readonly ToolCall[], round: number, signal: AbortSignal): Promise<ChatMessage[]> {
  const proposal = {
    source: 'voice_turn',
    actions: calls.map((c, i) => ({ id: actionId(round, i), type: 'tool_call', tool: c.name, parameters: isObject(c.arguments) ? c.arguments : {} })),
  };
  let results: { action_id: string; status: string; output: unknown; error: string | null }[];
  try {
    const outcome = (await ctx.session.call('proposal.submit', { proposal }, signal)) as { results: typeof results };
    results = outcome.results;
  } catch (err) {
    if (signal.aborted) throw err;
    const refused = `refused: ${err instanceof Error ? err.message : String(err)}`;
    return calls.map((c) => ({ role: 'tool', tool_call_id: c.id, name: c.name, content: refused }));
  }
  return calls.map((c, i) => {
    const r = results.find((x) => x.action_id === actionId(round, i));
    const content = r === undefined ? 'not run' : r.error !== null ? `${r.status}: ${r.error}` : JSON.stringify(r.output ?? null);
    return { role: 'tool', tool_call_id: c.id, name: c.name, content };
  });
}

function tracksFor(ctx: MethodContext, utterance: string, overlay: Overlay): TurnTracks {
  const system = resolveOverlay(overlay?.voice_prompt_overlay);
  const maxRounds = ctx.state.config.voiceSidecarMaxToolRounds;
  return {
    fast: async (signal, onDelta) => {
      const req: GenerateRequest = { messages: [{ role: 'user', content: utterance }], max_tokens: 256, ...(system !== null && { system }) };
      return (await generate(ctx, req, overlay?.fast_model ?? null, signal, { task: 'voice', prefer_fast: true }, onDelta)).text;
    },
    sidecar: async (signal) => {
      const tools: ToolSpec[] = ctx.session.tools.list().map((t) => ({
        name: t.name,
        description: t.description,
        parameters: isObject(t.parameters) ? t.parameters : { type: 'object' },
      }));
      const messages: ChatMessage[] = [{ role: 'user', content: utterance }];
      const sys = [SIDECAR_SYSTEM, system ?? ''].filter((s) => s !== '').join('\n\n');
      for (let round = 0; ; round++) {
        const req: GenerateRequest = { system: sys, messages, max_tokens: 1024, ...(tools.length > 0 && { tools }) };
        const result = await generate(ctx, req, overlay?.sidecar_model ?? null, signal, { task: 'voice_sidecar' });
        if (result.tool_calls.length === 0) return result.text;
        if (round >= maxRounds) {
          throw new CarError('limit', `the sidecar asked for tools after ${maxRounds} rounds; stopped`, { limit: maxRounds, detail: { reason: 'voice_tool_rounds' } });
        }
        messages.push({ role: 'assistant', content: result.text === '' ? null : result.text, tool_calls: result.tool_calls });
        messages.push(...(await runTools(ctx, result.tool_calls, round, signal)));
      }
    },
  };
}

const dispatchTurn = defineMethod({
  name: 'voice.dispatch_turn',
  summary:
    'Run a two-track voice turn: {turn_id} at once, then voice.event voice.turn.* (fast_delta/fast_done or bridge, sidecar, error, cancelled). Sidecar tool calls pass proposal.submit\'s gates.',
  params: z
    .object({
      utterance: z.string().min(1).max(16 * 1024),
      session_id: z.string().min(1).max(128).nullish(),
      config_overlay: overlayParams,
      sidecar_timeout_ms: z.number().int().min(1).max(60 * 60 * 1000).optional(),
    })
    .loose(),
  result: z.object({ turn_id: z.number() }),
  handler: (p, ctx) => {
    const turnId = ctx.state.voiceTurns.dispatch(
      ctx.session.clientId,
      { sessionId: p.session_id ?? '', utterance: p.utterance, sidecarTimeoutMs: p.sidecar_timeout_ms ?? ctx.state.config.voiceSidecarTimeoutMs },
      tracksFor(ctx, p.utterance, p.config_overlay),
      ctx.session.voiceSink,
    );
    return { turn_id: turnId };
  },
});

const cancelTurn = defineMethod({
  name: 'voice.cancel_turn',
  summary: 'Barge-in: cancel the running voice turn (voice.turn.cancelled); whatever it still produces is dropped.',
  params: z.object({ session_id: z.string().max(128).nullish() }).loose().nullish(),
  handler: (_p, ctx) => ctx.state.voiceTurns.cancel(ctx.session.clientId),
});

const prewarmed = new WeakSet<object>();

const prewarmTurn = defineMethod({
  name: 'voice.prewarm_turn',
  summary: 'Best-effort, idempotent: a one-token probe of the fast model so the first turn starts warm. Errors are logged, never returned.',
  params: z.object({ config_overlay: overlayParams }).loose().nullish(),
  handler: (p, ctx) => {
    if (prewarmed.has(ctx.session)) return { prewarmed: true, started: false };
    prewarmed.add(ctx.session);
    const signal = AbortSignal.timeout(ctx.state.config.voiceSidecarTimeoutMs);
    void generate(ctx, { messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 }, p?.config_overlay?.fast_model ?? null, signal, { task: 'voice', prefer_fast: true }).catch((err: unknown) =>
      ctx.logger.debug({ err }, 'voice prewarm failed'),
    );
    return { prewarmed: true, started: true };
  },
});

export const voiceTurnMethods: MethodSpec[] = [dispatchTurn, cancelTurn, prewarmTurn];
