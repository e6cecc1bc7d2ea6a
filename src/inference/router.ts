import { CarError } from '../util/errors.js';
import { hasCapability, type ModelEntry } from './model-schema.js';
import type { ModelStats } from './stats.js';
import type { IntentHint } from './types.js';

/** Context assumed for a model that does not state one. */
export const DEFAULT_CONTEXT_LENGTH = 8192;
/** Output room assumed when the caller sets no `max_tokens`. */
export const DEFAULT_OUTPUT_ROOM = 1024;

export type Strategy = 'balanced' | 'quality' | 'fast' | 'local';
export type Complexity = 'simple' | 'moderate' | 'complex';

export interface RouteInput {
  prompt: string;
  intent?: IntentHint;
  /** Capabilities the call itself needs (`generate`, `tool_use` when tools are passed, `embed` …). */
  need: string[];
  maxTokens?: number;
}

export interface RouteCandidate {
  model_id: string;
  score: number | null;
  quality: number;
  speed: number;
  is_local: boolean;
  context_length: number;
  fits_context: boolean;
  /** Why the model was not eligible; absent when it was. */
  excluded?: string;
}

export interface RouteDecision {
  model_id: string;
  model_name: string;
  task: string;
  complexity: Complexity;
  reason: string;
  strategy: Strategy;
  predicted_quality: number;
  fallbacks: string[];
  context_length: number;
  needs_compaction: boolean;
  candidates: RouteCandidate[];
}

const TASKS: [string, RegExp][] = [
  ['code', /```|\b(code|function|bug|compile|refactor|typescript|javascript|python|rust|regex|stack trace|sql)\b/i],
  ['math', /\b(calculate|solve|equation|integral|derivative|prove)\b|\d+\s*[-+*/^]\s*\d+/i],
  ['summarize', /\b(summari[sz]e|summary|tl;?dr|condense)\b/i],
  ['translate', /\btranslat(e|ion)\b/i],
  ['extract', /\b(extract|parse|json|fields?)\b/i],
  ['reasoning', /\b(why|explain|reason|step by step|analy[sz]e|compare|plan)\b/i],
];

export function classifyTask(prompt: string): string {
  for (const [task, re] of TASKS) if (re.test(prompt)) return task;
  return 'chat';
}

/** Rough token count: four characters a token. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function complexityOf(tokens: number, task: string, intent: IntentHint | undefined): Complexity {
  if (intent?.high_stakes || tokens > 2000 || ((task === 'reasoning' || task === 'math') && tokens > 200)) return 'complex';
  if (tokens < 200 && (task === 'chat' || task === 'translate' || task === 'summarize')) return 'simple';
  return 'moderate';
}

function strategyOf(intent: IntentHint | undefined): Strategy {
  if (intent?.prefer_quality || intent?.high_stakes) return 'quality';
  if (intent?.prefer_fast) return 'fast';
  if (intent?.prefer_local) return 'local';
  return 'balanced';
}

function qualityOf(entry: ModelEntry, stats: ModelStats): number {
  const prior = entry.schema.quality ?? (entry.isLocal ? 0.5 : 0.7);
  const p = stats.profile(entry.schema.id);
  return p && p.total_calls >= 3 && p.ema_quality !== null ? 0.7 * prior + 0.3 * p.ema_quality : prior;
}

function score(entry: ModelEntry, stats: ModelStats, strategy: Strategy, complexity: Complexity): { score: number; q: number; s: number } {
  const q = qualityOf(entry, stats);
  const s = entry.schema.speed ?? (entry.isLocal ? 0.7 : 0.6);
  const price = entry.schema.cost ? entry.schema.cost.input_per_mtok + entry.schema.cost.output_per_mtok : 0;
  const cheap = 1 / (1 + price / 5);
  const local = entry.isLocal ? 1 : 0;
  let base: number;
  switch (strategy) {
    case 'quality':
      base = 0.8 * q + 0.1 * s + 0.1 * cheap;
      break;
    case 'fast':
      base = 0.3 * q + 0.6 * s + 0.1 * cheap;
      break;
    case 'local':
      base = 0.4 * q + 0.2 * s + 0.1 * cheap + 0.3 * local;
      break;
    default:
      base = complexity === 'complex' ? 0.65 * q + 0.15 * s + 0.15 * cheap + 0.05 * local : 0.45 * q + 0.25 * s + 0.2 * cheap + 0.1 * local;
  }
  const rate = stats.profile(entry.schema.id)?.success_rate ?? 1;
  return { score: base * (0.5 + 0.5 * rate), q, s };
}

/**
 * Pick a model for a prompt and say why: filter by capability, availability and exclusions,
 * score by the strategy the intent asks for (quality, speed, price, locality, and what the daemon
 * has seen each model do), prefer models whose context fits, and keep the rest as fallbacks.
 */
export function route(
  entries: readonly ModelEntry[],
  available: (entry: ModelEntry) => string | null,
  stats: ModelStats,
  input: RouteInput,
): RouteDecision {
  const intent = input.intent;
  const task = intent?.task ?? classifyTask(input.prompt);
  const tokens = estimateTokens(input.prompt);
  const complexity = complexityOf(tokens, task, intent);
  const strategy = strategyOf(intent);
  const need = [...new Set([...input.need, ...(intent?.require ?? [])])];
  const excluded = new Set(intent?.exclude_models ?? []);
  const room = tokens + (input.maxTokens ?? DEFAULT_OUTPUT_ROOM);

  const eligible: (RouteCandidate & { score: number; entry: ModelEntry })[] = [];
  const rejected: RouteCandidate[] = [];
  for (const entry of entries) {
    const id = entry.schema.id;
    const ctx = entry.schema.context_length ?? DEFAULT_CONTEXT_LENGTH;
    const base = { model_id: id, is_local: entry.isLocal, context_length: ctx, fits_context: ctx >= room };
    const missing = need.filter((c) => !hasCapability(entry.schema, c));
    const why = excluded.has(id)
      ? 'excluded by the caller'
      : missing.length > 0
        ? `lacks ${missing.join(', ')}`
        : available(entry);
    const { score: sc, q, s } = score(entry, stats, strategy, complexity);
    if (why !== null) rejected.push({ ...base, score: null, quality: q, speed: s, excluded: why });
    else eligible.push({ ...base, score: Math.round(sc * 1000) / 1000, quality: q, speed: s, entry });
  }
  if (eligible.length === 0) {
    throw new CarError('unavailable', `no available model can ${need.join(' + ')}: add one to models.json, set its API key, start Ollama or register a runner`, {
      detail: { reason: 'no_model', need, rejected: rejected.map((r) => ({ model_id: r.model_id, excluded: r.excluded })) },
    });
  }
  eligible.sort((a, b) => Number(b.fits_context) - Number(a.fits_context) || b.score - a.score || (a.model_id < b.model_id ? -1 : 1));
  let chosen = eligible[0]!;
  const needsCompaction = !chosen.fits_context;
  if (needsCompaction) chosen = eligible.reduce((best, c) => (c.context_length > best.context_length ? c : best), chosen);
  const ordered = [chosen, ...eligible.filter((c) => c !== chosen)];
  const traits = [`quality ${chosen.quality.toFixed(2)}`, `speed ${chosen.speed.toFixed(2)}`, ...(chosen.is_local ? ['local'] : [])];
  const reason =
    `${strategy} strategy for a ${complexity} ${task} task: ${chosen.model_id} scores ${chosen.score.toFixed(3)} (${traits.join(', ')})` +
    (needsCompaction ? `; no model fits ~${room} tokens, so the largest context is used and the prompt needs compaction` : '') +
    `; ${ordered.length - 1} fallback(s)`;
  return {
    model_id: chosen.model_id,
    model_name: chosen.entry.schema.name ?? chosen.model_id,
    task,
    complexity,
    reason,
    strategy,
    predicted_quality: Math.round(chosen.quality * 1000) / 1000,
    fallbacks: ordered.slice(1).map((c) => c.model_id),
    context_length: chosen.context_length,
    needs_compaction: needsCompaction,
    candidates: [...ordered.map(({ entry: _e, ...c }) => c), ...rejected],
  };
}
