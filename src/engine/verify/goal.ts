import { isObject } from '../../util/values.js';
import type { Precondition } from '../ir.js';
import { VerifyInputError } from './types.js';

/** Goal kinds a simulated state cannot decide: they fail closed and are reported by name. */
export const UNDERIVABLE_GOALS = ['tool_receipts_grounded', 'plan_achieved', 'state_consistent', 'command', 'model_judge'] as const;

/** A goal as the simulation evaluates it. */
export type Goal =
  | { kind: 'state'; predicate: Precondition }
  | { kind: 'all_of' | 'any_of'; of: Goal[] }
  | { kind: 'underivable'; name: string };

const COMBINATORS = new Set(['all_of', 'any_of']);
const KINDS = new Set<string>(['state_predicate', ...COMBINATORS, ...UNDERIVABLE_GOALS]);
const MAX_DEPTH = 32;

function predicate(raw: unknown, path: string): Precondition {
  if (!isObject(raw) || typeof raw.key !== 'string' || raw.key === '') throw new VerifyInputError('a state_predicate needs a key', `${path}.key`);
  const op = raw.operator ?? raw.op ?? (Object.hasOwn(raw, 'value') ? 'eq' : 'exists');
  if (typeof op !== 'string') throw new VerifyInputError('operator must be a string', `${path}.operator`);
  return { key: raw.key, operator: op === 'equals' ? 'eq' : op, value: raw.value, description: '' };
}

function build(kind: string, body: unknown, path: string, depth: number): Goal {
  if (kind === 'state_predicate') return { kind: 'state', predicate: predicate(body, path) };
  if (COMBINATORS.has(kind)) {
    const list = Array.isArray(body) ? body : isObject(body) && Array.isArray(body.conditions) ? body.conditions : null;
    if (list === null) throw new VerifyInputError(`${kind} takes a list of conditions`, path);
    return { kind: kind as 'all_of' | 'any_of', of: list.map((g, i) => parse(g, `${path}[${i}]`, depth + 1)) };
  }
  return { kind: 'underivable', name: kind };
}

function parse(raw: unknown, path: string, depth: number): Goal {
  if (depth > MAX_DEPTH) throw new VerifyInputError(`goal nests deeper than ${MAX_DEPTH}`, path);
  if (!isObject(raw)) throw new VerifyInputError('a goal condition must be an object', path);
  // Internally tagged: {type: "state_predicate", key, value} / {type: "all_of", conditions: [...]}.
  if (typeof raw.type === 'string' && KINDS.has(raw.type)) {
    const { type, ...rest } = raw;
    const body = COMBINATORS.has(type) ? (rest.conditions ?? rest.of ?? []) : rest;
    return build(type, body, path, depth);
  }
  // Externally tagged: {state_predicate: {key, value}} / {all_of: [...]}.
  const keys = Object.keys(raw);
  if (keys.length === 1 && KINDS.has(keys[0]!)) return build(keys[0]!, raw[keys[0]!], `${path}.${keys[0]}`, depth);
  // Anything else is the earlier flat form: every key must hold its value.
  return { kind: 'all_of', of: keys.map((key) => ({ kind: 'state', predicate: { key, operator: 'eq', value: raw[key], description: '' } })) };
}

/** Read a GoalCondition (either serde tagging) or a flat `{key: value}` map. */
export function parseGoal(raw: unknown): Goal {
  return parse(raw, 'goal', 0);
}

/** Every state key a goal reads. */
export function goalKeys(goal: Goal, out: Set<string> = new Set()): Set<string> {
  if (goal.kind === 'state') out.add(goal.predicate.key);
  else if (goal.kind !== 'underivable') for (const g of goal.of) goalKeys(g, out);
  return out;
}

/** The names of the conditions that cannot be decided from a simulated state, sorted. */
export function underivable(goal: Goal, out: Set<string> = new Set()): string[] {
  if (goal.kind === 'underivable') out.add(goal.name);
  else if (goal.kind !== 'state') for (const g of goal.of) underivable(g, out);
  return [...out].sort();
}

/** Evaluate with `holds` deciding state predicates; underivable conditions are false. */
export function goalHolds(goal: Goal, holds: (p: Precondition) => boolean): boolean {
  switch (goal.kind) {
    case 'state':
      return holds(goal.predicate);
    case 'all_of':
      return goal.of.every((g) => goalHolds(g, holds));
    case 'any_of':
      return goal.of.some((g) => goalHolds(g, holds));
    default:
      return false;
  }
}
