import type { MultiRunner } from './runner.js';
import type { AgentOutput, AgentSpec } from './types.js';

const ok = (o: AgentOutput): boolean => o.error === null;

function listAnswers(outputs: AgentOutput[]): string {
  return outputs
    .filter(ok)
    .map((o) => `[${o.name}]\n${o.answer}`)
    .join('\n\n');
}

/** Without a synthesizer (or when the budget refused it): the answers side by side. */
function fallbackMerge(outputs: AgentOutput[]): string {
  const good = outputs.filter(ok);
  return good.length === 1 ? good[0]!.answer : listAnswers(outputs);
}

async function synthesize(r: MultiRunner, synthesizer: AgentSpec | undefined, task: string, outputs: AgentOutput[]) {
  if (synthesizer === undefined) return { final_answer: fallbackMerge(outputs), synthesis: null };
  const synthesis = await r.tryRun(synthesizer, `Task: ${task}\n\nAnswers to combine into one:\n\n${listAnswers(outputs)}`);
  if (synthesis === null || !ok(synthesis)) return { final_answer: fallbackMerge(outputs), synthesis, synthesizer_fallback: true };
  return { final_answer: synthesis.answer, synthesis };
}

export type SwarmMode = 'parallel' | 'sequential' | 'hybrid' | 'debate';

/**
 * parallel: every agent on the task at once. sequential: one after another, each seeing the
 * answers so far. hybrid (alias debate): a parallel round, then each agent in turn revises its
 * answer having read the others'. An optional synthesizer merges the answers.
 */
export async function swarm(r: MultiRunner, mode: SwarmMode, agents: AgentSpec[], task: string, synthesizer?: AgentSpec) {
  let outputs: AgentOutput[];
  if (mode === 'parallel') outputs = await Promise.all(agents.map((a) => r.run(a, task)));
  else if (mode === 'sequential') {
    outputs = [];
    for (const a of agents) {
      const prior = outputs.filter(ok);
      outputs.push(await r.run(a, prior.length === 0 ? task : `${task}\n\nAnswers so far:\n\n${listAnswers(prior)}`));
    }
  } else {
    const first = await Promise.all(agents.map((a) => r.run(a, task)));
    outputs = [];
    for (const [i, a] of agents.entries()) {
      const others = first.filter((o, j) => j !== i && ok(o));
      outputs.push(others.length === 0 ? first[i]! : await r.run(a, `${task}\n\nYour first answer:\n${first[i]!.answer}\n\nThe others answered:\n\n${listAnswers(others)}\n\nGive your final answer.`));
    }
  }
  return { mode, task, outputs, ...(await synthesize(r, synthesizer, task, outputs)) };
}

/** Each stage's answer is the next stage's input; a failed stage passes its input on unchanged. */
export async function pipeline(r: MultiRunner, stages: AgentSpec[], task: string) {
  const out: AgentOutput[] = [];
  let input = task;
  for (const stage of stages) {
    const o = await r.run(stage, input);
    out.push(o);
    if (ok(o)) input = o.answer;
  }
  const last = [...out].reverse().find(ok);
  return { task, stages: out, final_answer: last?.answer ?? '' };
}

/**
 * Workers answer in parallel; the supervisor reviews. A review starting with DONE (or FINAL)
 * ends the run with what follows it; otherwise the review is the next round's instruction.
 */
export async function supervisor(r: MultiRunner, workers: AgentSpec[], boss: AgentSpec, task: string, maxRounds: number) {
  const rounds: { round: number; instruction: string; outputs: AgentOutput[]; review: AgentOutput | null }[] = [];
  let instruction = task;
  let final: string | null = null;
  for (let round = 1; round <= maxRounds && final === null; round++) {
    const outputs = await Promise.all(workers.map((w) => r.run(w, instruction)));
    const review = await r.tryRun(
      boss,
      `Task: ${task}\nRound ${round} of ${maxRounds}. The workers answered:\n\n${listAnswers(outputs)}\n\nReply "DONE: <final answer>" when the task is done, otherwise give the next instruction for the workers.`,
    );
    rounds.push({ round, instruction, outputs, review });
    if (review === null || !ok(review)) final = fallbackMerge(outputs);
    else {
      const m = /^\s*(?:DONE|FINAL)\b[:\s-]*([\s\S]*)$/i.exec(review.answer);
      if (m !== null) final = m[1]!.trim() || fallbackMerge(outputs);
      else if (round === maxRounds) final = fallbackMerge(outputs);
      else instruction = review.answer;
    }
  }
  return { task, rounds, final_answer: final ?? '' };
}

/** The mapper on every item in parallel; the reducer combines (or the answers are joined when it is refused). */
export async function mapReduce(r: MultiRunner, mapper: AgentSpec, reducer: AgentSpec, items: unknown[], task: string) {
  const map_outputs = await Promise.all(items.map((item) => r.run(mapper, `${task}\n\nItem:\n${typeof item === 'string' ? item : JSON.stringify(item)}`)));
  const reduce_output = await r.tryRun(reducer, `${task}\n\nCombine these results:\n\n${listAnswers(map_outputs)}`);
  const fallback = reduce_output === null || !ok(reduce_output);
  return { task, map_outputs, reduce_output, final_answer: fallback ? fallbackMerge(map_outputs) : reduce_output.answer, ...(fallback && { reducer_fallback: true }) };
}

const normal = (s: string): string => s.trim().replace(/\s+/g, ' ').replace(/[.!]+$/, '').toLowerCase();

/** Independent answers in parallel; the most common one wins (ties: the earliest), or a synthesizer decides. */
export async function vote(r: MultiRunner, agents: AgentSpec[], task: string, synthesizer?: AgentSpec) {
  const outputs = await Promise.all(agents.map((a) => r.run(a, task)));
  const tally = new Map<string, { answer: string; count: number }>();
  for (const o of outputs.filter(ok)) {
    const key = normal(o.answer);
    const slot = tally.get(key) ?? { answer: o.answer, count: 0 };
    slot.count++;
    tally.set(key, slot);
  }
  let winner: { answer: string; count: number } | null = null;
  for (const slot of tally.values()) if (winner === null || slot.count > winner.count) winner = slot;
  const votes = Object.fromEntries([...tally.values()].map((s) => [s.answer, s.count]));
  if (synthesizer !== undefined) {
    const merged = await synthesize(r, synthesizer, task, outputs);
    if (!merged.synthesizer_fallback) return { task, outputs, votes, winner: winner?.answer ?? null, ...merged };
  }
  return { task, outputs, votes, winner: winner?.answer ?? null, final_answer: winner?.answer ?? '' };
}

interface Match {
  round: number;
  a: string;
  b: string;
  winner: string;
  judge_answer: string | null;
}

/** Which competitor the judge named: by name, else "A"/"B"; unclear means the first. */
function judged(answer: string, a: AgentOutput, b: AgentOutput): AgentOutput {
  const text = answer.trim();
  const hasA = text.includes(a.name);
  const hasB = text.includes(b.name);
  if (hasA !== hasB) return hasA ? a : b;
  if (/^\W*B\b/i.test(text)) return b;
  return a;
}

/**
 * Everyone answers; then pairwise single elimination, a fresh judge run per match, an odd one
 * out gets a bye. Ranking: the winner, then by how late each was knocked out.
 */
export async function tournament(r: MultiRunner, competitors: AgentSpec[], judge: AgentSpec, task: string) {
  const candidates = await Promise.all(competitors.map((c) => r.run(c, task)));
  const eliminated = new Map<AgentOutput, number>();
  const matches: Match[] = [];
  let alive = [...candidates];
  let round = 0;
  while (alive.length > 1) {
    round++;
    const next: AgentOutput[] = [];
    const pairs: [AgentOutput, AgentOutput][] = [];
    for (let i = 0; i + 1 < alive.length; i += 2) pairs.push([alive[i]!, alive[i + 1]!]);
    const bye = alive.length % 2 === 1 ? alive[alive.length - 1]! : null;
    const results = await Promise.all(
      pairs.map(async ([a, b]) => {
        if (!ok(a) || !ok(b)) {
          const w = ok(a) || !ok(b) ? a : b;
          return { a, b, w, answer: null as string | null };
        }
        const verdict = await r.tryRun(
          judge,
          `Task: ${task}\n\nCompetitor A (${a.name}):\n${a.answer}\n\nCompetitor B (${b.name}):\n${b.answer}\n\nWhich answer is better? Reply with the winner's name.`,
        );
        const answer = verdict !== null && ok(verdict) ? verdict.answer : null;
        return { a, b, w: answer === null ? a : judged(answer, a, b), answer };
      }),
    );
    for (const { a, b, w, answer } of results) {
      matches.push({ round, a: a.name, b: b.name, winner: w.name, judge_answer: answer });
      eliminated.set(w === a ? b : a, round);
      next.push(w);
    }
    if (bye !== null) next.push(bye);
    alive = next;
  }
  const winner = alive[0] ?? null;
  const ranking = [...candidates]
    .sort((x, y) => (x === winner ? -1 : y === winner ? 1 : (eliminated.get(y) ?? 0) - (eliminated.get(x) ?? 0) || candidates.indexOf(x) - candidates.indexOf(y)))
    .map((o) => o.name);
  return { task, candidates, matches, winner_name: winner?.name ?? null, winner_answer: winner?.answer ?? null, ranking };
}

interface SubtaskRequest {
  task: string;
  tools?: string[];
  name?: string;
}

/** Subtask requests in the main agent's answer: a JSON object `{"subtasks": [{task, tools?}]}`, fenced or bare. */
export function parseSubtasks(answer: string): SubtaskRequest[] {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(answer)?.[1];
  const text = fenced ?? answer.slice(answer.indexOf('{'), answer.lastIndexOf('}') + 1);
  try {
    const json = JSON.parse(text) as { subtasks?: unknown };
    if (!Array.isArray(json.subtasks)) return [];
    return json.subtasks.filter((s): s is SubtaskRequest => typeof s === 'object' && s !== null && typeof (s as SubtaskRequest).task === 'string');
  } catch {
    return [];
  }
}

/**
 * The main agent may hand out subtasks (`spawn_subtask`): it answers with `{"subtasks": [...]}`,
 * each is run as an agent granted only tools the main agent has, and the main agent then writes
 * the final answer from their results.
 */
export async function subtask(r: MultiRunner, main: AgentSpec, task: string, maxSubtasks: number) {
  const plan = await r.run(
    main,
    `${task}\n\nYou may split this into subtasks (spawn_subtask): answer with JSON {"subtasks": [{"task": "...", "tools": [...]}]} using only your own tools (${main.tools.join(', ') || 'none'}), or answer the task directly.`,
  );
  const requests = plan.error === null ? parseSubtasks(plan.answer).slice(0, maxSubtasks) : [];
  if (requests.length === 0) return { task, final_answer: plan.answer, subtasks: [], plan };
  const granted = new Set(main.tools);
  const subtasks = await Promise.all(
    requests.map(async (req, i) => {
      const asked = req.tools ?? [];
      const tools = asked.filter((t) => granted.has(t));
      const denied = asked.filter((t) => !granted.has(t));
      const spec: AgentSpec = { ...main, name: req.name ?? `${main.name}.subtask-${i + 1}`, tools, max_turns: main.max_turns };
      const output = await r.run(spec, req.task);
      return { task: req.task, tools, denied_tools: denied, output };
    }),
  );
  const results = subtasks.map((s, i) => `Subtask ${i + 1}: ${s.task}\n${s.output.error === null ? s.output.answer : `(failed: ${s.output.error})`}`).join('\n\n');
  const final = await r.tryRun(main, `${task}\n\nYour subtasks returned:\n\n${results}\n\nWrite the final answer.`);
  return { task, final_answer: final !== null && final.error === null ? final.answer : results, subtasks, plan };
}
