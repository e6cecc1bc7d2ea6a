import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CarError } from '../util/errors.js';
import { ensureDir, writeFileAtomic } from '../util/durable-file.js';
import { isObject } from '../util/values.js';

/** A chat goal: a check the agent's reply must satisfy, and how many turns it may take. */
export interface ChatGoal {
  check: string;
  max_iterations: number;
}

export const GOAL_ITERATIONS = { default: 8, min: 1, max: 50 } as const;

/** Trim the check (it must say something) and clamp the iterations to 1–50. */
export function normalizeGoal(input: { check: string; max_iterations?: number }): ChatGoal {
  const check = input.check.trim();
  if (check.length === 0) throw new CarError('invalid', 'goal.check must not be empty', { field: 'goal.check' });
  const n = Math.round(input.max_iterations ?? GOAL_ITERATIONS.default);
  return { check, max_iterations: Math.min(GOAL_ITERATIONS.max, Math.max(GOAL_ITERATIONS.min, n)) };
}

/**
 * Standing goals per chat session id (`goal.set`), kept in `chat-goals.json`: rewritten whole and
 * atomically (fsynced, then its directory) before a change is acknowledged. Read on first use.
 */
export class GoalStore {
  private goals: Map<string, ChatGoal> | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string | null,
    private readonly maxGoals: number,
  ) {}

  get(sessionId: string): ChatGoal | undefined {
    return this.load().get(sessionId);
  }

  all(): Record<string, ChatGoal> {
    return Object.fromEntries(this.load());
  }

  async set(sessionId: string, goal: ChatGoal): Promise<ChatGoal> {
    const goals = this.load();
    if (!goals.has(sessionId) && goals.size >= this.maxGoals) {
      throw new CarError('limit', `too many chat goals (limit ${this.maxGoals})`, { limit: this.maxGoals });
    }
    const previous = goals.get(sessionId);
    goals.set(sessionId, goal);
    try {
      await this.persist();
    } catch (err) {
      if (previous === undefined) goals.delete(sessionId);
      else goals.set(sessionId, previous);
      throw err;
    }
    return goal;
  }

  /** Clear one session's goal (true when there was one), or every goal (how many there were). */
  async clear(sessionId?: string): Promise<boolean | number> {
    const goals = this.load();
    if (sessionId === undefined) {
      const n = goals.size;
      if (n === 0) return 0;
      const saved = new Map(goals);
      goals.clear();
      await this.persist().catch((err: unknown) => {
        for (const [k, v] of saved) goals.set(k, v);
        throw err;
      });
      return n;
    }
    const previous = goals.get(sessionId);
    if (previous === undefined) return false;
    goals.delete(sessionId);
    await this.persist().catch((err: unknown) => {
      goals.set(sessionId, previous);
      throw err;
    });
    return true;
  }

  private load(): Map<string, ChatGoal> {
    if (this.goals !== null) return this.goals;
    const goals = new Map<string, ChatGoal>();
    if (this.path !== null) {
      let text: string | null = null;
      try {
        text = readFileSync(this.path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          throw new CarError('unavailable', `chat-goals.json cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      }
      if (text !== null) {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch (err) {
          throw new CarError('unavailable', `chat-goals.json is not valid JSON: ${(err as Error).message}`);
        }
        const rows = isObject(json) && isObject(json.goals) ? json.goals : {};
        for (const [id, g] of Object.entries(rows)) {
          if (isObject(g) && typeof g.check === 'string' && g.check.trim() !== '') {
            goals.set(id, normalizeGoal({ check: g.check, max_iterations: typeof g.max_iterations === 'number' ? g.max_iterations : undefined }));
          }
        }
      }
    }
    this.goals = goals;
    return goals;
  }

  private persist(): Promise<void> {
    const path = this.path;
    if (path === null) return Promise.resolve();
    const text = `${JSON.stringify({ goals: Object.fromEntries(this.load()) }, null, 2)}\n`;
    const next = this.chain.then(async () => {
      await ensureDir(dirname(path));
      await writeFileAtomic(path, text, 0o600);
    });
    this.chain = next.catch(() => {});
    return next.catch((err: unknown) => {
      throw new CarError('unavailable', `chat-goals.json not written: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    });
  }
}
