import type { MemoryEngine } from './engine.js';
import type { FactNode } from './graph.js';
import { estimateTokens } from './text.js';

export const DEFAULT_CONTEXT_BUDGET = 8192;
export const MIN_CONTEXT_BUDGET = 256;
export const MAX_CONTEXT_BUDGET = 32768;
/** Facts that match nothing in the request may still go in as background, up to this many. */
const BACKGROUND_FACTS = 20;
const RELEVANT_FACTS = 50;
const CONVERSATION_TURNS = 12;
const MAX_LINE_CHARS = 1200;

export const SECTIONS = ['Identity', 'Constraints', 'Facts', 'Conversation', 'Environment', 'Known Unknowns'] as const;
type Section = (typeof SECTIONS)[number];

export interface ContextRequest {
  query: string;
  /** The caller's model window in tokens; the memory block gets a quarter of it (bounded). */
  modelContextWindow?: number;
  tenant_id?: string | null;
  /** Who is asking: scope label, agent id, namespace. */
  identity: { scope: string; agent_id?: string | null; namespace?: string | null };
  /** The proactive status slot, when set. */
  status?: string | null;
  now?: Date;
  /** build_context_fast: no graph walk, facts in creation order, no Known Unknowns. */
  fast?: boolean;
  /** The query's embedding (scopes with an embedder, full mode only). */
  vector?: Float32Array;
}

/** Token budget for a context block. */
export function contextBudget(window: number | undefined): number {
  if (window === undefined || !Number.isFinite(window) || window <= 0) return DEFAULT_CONTEXT_BUDGET;
  return Math.min(MAX_CONTEXT_BUDGET, Math.max(MIN_CONTEXT_BUDGET, Math.floor(window / 4)));
}

interface Line {
  section: Section;
  /** Position within its section; lower renders first. */
  order: number;
  /** Higher survives the budget cut first. */
  priority: number;
  text: string;
}

function factLine(n: FactNode): string {
  const text = `- ${n.subject}: ${n.body}`;
  return text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS - 1)}…` : text;
}

/**
 * The context scaffold for an LLM call: six sections in a fixed order, each line ranked, then cut
 * to the token budget by priority (identity and constraints first, background facts last), and
 * rendered so that within a section the most relevant line comes last, nearest the question.
 */
export function buildContext(engine: MemoryEngine, req: ContextRequest): string {
  const tenant = req.tenant_id ?? null;
  const now = req.now ?? new Date();
  const budget = contextBudget(req.modelContextWindow);
  const lines: Line[] = [];
  const add = (section: Section, order: number, priority: number, text: string): void => {
    lines.push({ section, order, priority, text });
  };

  const id = req.identity;
  add('Identity', 0, 1000, `- Memory scope: ${id.scope}`);
  if (id.agent_id) add('Identity', 1, 1000, `- Agent: ${id.agent_id}`);
  if (id.namespace) add('Identity', 2, 1000, `- Memory namespace: ${id.namespace}`);
  if (tenant !== null) add('Identity', 3, 1000, `- Tenant: ${tenant}`);
  engine.graph
    .group(tenant, 'identity')
    .filter((n) => n.superseded_by === null)
    .slice(-RELEVANT_FACTS)
    .forEach((n, i) => add('Identity', 10 + i, 900, factLine(n)));

  // Constraints are hard rules: all of them go in while the budget lasts, the ones relevant to the
  // request first. Past a few dozen, only the relevant and the newest are considered.
  const allConstraints = engine.graph.group(tenant, 'constraint');
  const constraintScore = new Map<string, number>();
  if (!req.fast) {
    for (const h of engine.query(req.query, { k: RELEVANT_FACTS, tenant_id: tenant, kind: 'constraint', touch: false, vector: req.vector })) {
      constraintScore.set(h.node.id, h.score);
    }
  }
  const candidates = new Map<string, FactNode>();
  for (const n of allConstraints.slice(-RELEVANT_FACTS)) candidates.set(n.id, n);
  for (const id of constraintScore.keys()) candidates.set(id, engine.graph.getById(id)!);
  const rankedConstraints = [...candidates.values()]
    .filter((n) => n.superseded_by === null)
    .map((n) => ({ n, s: constraintScore.get(n.id) ?? 0 }))
    .sort((a, b) => a.s - b.s || a.n.ix - b.n.ix);
  rankedConstraints.forEach(({ n, s }, i) => add('Constraints', i, 800 + 100 * s, factLine(n)));

  const factTypes = new Set(['fact', 'knowledge', 'procedural'] as const);
  const isFact = (n: FactNode): boolean =>
    n.kind === 'pattern' && n.superseded_by === null && (factTypes as Set<string>).has(n.memory_type);
  const hits = engine
    .query(req.query, {
      k: RELEVANT_FACTS,
      tenant_id: tenant,
      kind: 'pattern',
      types: factTypes,
      lexicalOnly: req.fast === true,
      vector: req.fast ? undefined : req.vector,
    })
    .filter((h) => h.node.superseded_by === null);
  const chosen = new Set(hits.map((h) => h.node.id));
  if (req.fast) {
    hits.sort((a, b) => a.node.ix - b.node.ix);
    hits.forEach((h, i) => add('Facts', 1000 + i, 600 + h.score, factLine(h.node)));
  } else {
    const ranked = hits
      .map((h) => ({ h, authority: h.score * (0.6 + 0.4 * h.node.confidence) }))
      .sort((a, b) => a.authority - b.authority);
    ranked.forEach(({ h, authority }, i) => add('Facts', 1000 + i, 600 + 100 * authority, factLine(h.node)));
  }
  const background = engine.graph.latest(tenant, BACKGROUND_FACTS, (n) => isFact(n) && !chosen.has(n.id)).reverse();
  background.forEach((n, i) => add('Facts', i, 100 + i / BACKGROUND_FACTS, factLine(n)));

  const turns = engine.graph.group(tenant, 'conversation').slice(-CONVERSATION_TURNS);
  turns.forEach((n, i) => add('Conversation', i, 300 + i / CONVERSATION_TURNS, factLine(n)));

  add('Environment', 0, 700, `- Time: ${now.toISOString()}`);
  add('Environment', 1, 700, `- Facts in memory: ${engine.factCount} (${allConstraints.length} constraints)`);
  if (req.status) add('Environment', 2, 700, `- Status: ${req.status}`);
  engine.graph
    .group(tenant, 'environment')
    .filter((n) => n.superseded_by === null)
    .slice(-10)
    .forEach((n, i) => add('Environment', 10 + i, 650, factLine(n)));

  if (!req.fast) {
    const unknown = engine.unknownTerms(req.query, tenant);
    if (unknown.length > 0) add('Known Unknowns', 0, 200, `- Nothing stored mentions: ${unknown.join(', ')}`);
    const doubtful = hits.filter((h) => h.node.confidence < 0.5);
    doubtful.forEach((h, i) =>
      add('Known Unknowns', 1 + i, 150, `- Unconfirmed (confidence ${h.node.confidence.toFixed(2)}): ${h.node.subject}`),
    );
  }

  return render(lines, budget, req.fast ? SECTIONS.slice(0, 5) : SECTIONS);
}

function render(lines: Line[], budget: number, sections: readonly Section[]): string {
  let used = sections.reduce((s, name) => s + estimateTokens(`## ${name}\n`), 0);
  const kept = new Set<Line>();
  for (const line of [...lines].sort((a, b) => b.priority - a.priority)) {
    const cost = estimateTokens(`${line.text}\n`);
    if (used + cost > budget) continue;
    used += cost;
    kept.add(line);
  }
  const out: string[] = [];
  for (const name of sections) {
    out.push(`## ${name}`);
    const body = lines.filter((l) => l.section === name && kept.has(l)).sort((a, b) => a.order - b.order);
    if (body.length === 0) out.push('(none)');
    for (const l of body) out.push(l.text);
    out.push('');
  }
  return out.join('\n').trimEnd() + '\n';
}
