import { isObject } from '../util/values.js';
import type { ChatEnd, ChatEvent, ChatRoute } from './chat.js';
import type { ChatGoal } from './goals.js';

export interface GoalVerdict {
  met: boolean;
  reason: string;
}

/** Ask a model (or anything) a question and get its answer text. */
export type Judge = (prompt: string) => Promise<string>;

/** The question put to the judge after each agent reply. */
export function judgePrompt(check: string, reply: string): string {
  return [
    'You decide whether an agent has met a goal, from its last reply.',
    `Goal: ${check}`,
    'Reply:',
    reply.length > 32_000 ? `${reply.slice(0, 32_000)}\n[…cut]` : reply,
    'Answer with one line: "MET: <why>" or "NOT MET: <what is missing>".',
  ].join('\n');
}

/** MET / NOT MET from the judge's answer; anything else counts as not met. */
export function parseVerdict(answer: string): GoalVerdict {
  const m = /^\s*\**\s*(not[ _-]?met|met)\b\**\s*[:.\-–]?\s*(.*)$/im.exec(answer);
  if (m === null) return { met: false, reason: `the judge's answer was unclear: ${answer.trim().slice(0, 200)}` };
  return { met: !/^not/i.test(m[1]!), reason: m[2]!.trim() || answer.trim().slice(0, 200) };
}

/** The reply text of a turn: what `done` carries, or the streamed tokens. */
function replyOf(done: ChatEvent, tokens: string): string {
  const d = done.delta;
  if (typeof d === 'string' && d.length > 0) return d;
  if (isObject(d)) {
    for (const key of ['text', 'answer', 'response']) if (typeof d[key] === 'string' && (d[key] as string).length > 0) return d[key] as string;
  }
  return tokens;
}

function tokenText(delta: unknown): string {
  if (typeof delta === 'string') return delta;
  if (isObject(delta) && typeof delta.text === 'string') return delta.text;
  return '';
}

export interface GoalLoopOptions {
  goal: ChatGoal;
  judge: Judge;
  /** Send the agent another turn on the same session. */
  reprompt: (prompt: string) => Promise<void>;
  /** End the session (the loop finished, or gave up). */
  end: (reason: ChatEnd) => void;
}

/**
 * A chat route that holds the agent to a goal: each `done` is judged; while the goal is not met
 * and iterations remain, the agent is prompted again instead of the turn ending. Every verdict
 * goes to the inner route as `goal_evaluated`; the final `done` carries the outcome.
 */
export class GoalLoop implements ChatRoute {
  private iteration = 1;
  private tokens = '';

  constructor(
    private readonly inner: ChatRoute,
    private readonly opts: GoalLoopOptions,
  ) {}

  deliver(event: ChatEvent): boolean {
    if (event.kind === 'token') this.tokens += tokenText(event.delta);
    if (event.kind !== 'done') {
      this.inner.deliver(event);
      return true;
    }
    void this.judge(event);
    return false;
  }

  closed(reason: ChatEnd): void {
    this.inner.closed?.(reason);
  }

  private async judge(done: ChatEvent): Promise<void> {
    const { goal } = this.opts;
    const id = done.session_id;
    let verdict: GoalVerdict;
    try {
      verdict = parseVerdict(await this.opts.judge(judgePrompt(goal.check, replyOf(done, this.tokens))));
    } catch (err) {
      this.inner.deliver({ session_id: id, kind: 'error', delta: { message: `goal check failed: ${(err as Error).message}` } });
      this.opts.end('error');
      return;
    }
    const last = verdict.met || this.iteration >= goal.max_iterations;
    this.inner.deliver({
      session_id: id,
      kind: 'goal_evaluated',
      delta: { met: verdict.met, reason: verdict.reason, iteration: this.iteration, max_iterations: goal.max_iterations, check: goal.check },
    });
    if (last) {
      const base = isObject(done.delta) ? done.delta : done.delta === undefined ? {} : { text: done.delta };
      this.inner.deliver({ ...done, delta: { ...base, goal: { met: verdict.met, iterations: this.iteration } } });
      this.opts.end('done');
      return;
    }
    this.iteration++;
    this.tokens = '';
    try {
      await this.opts.reprompt(`The goal is not met yet: ${verdict.reason}\nKeep working until this holds: ${goal.check}`);
    } catch (err) {
      this.inner.deliver({ session_id: id, kind: 'error', delta: { message: `re-prompt failed: ${(err as Error).message}` } });
      this.opts.end('error');
    }
  }
}
