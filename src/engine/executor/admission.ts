import type { Action, Precondition } from '../ir.js';
import { describePrecondition, preconditionHolds, type StateLookup } from '../preconditions.js';
import type { ToolDefinition } from '../tool-registry.js';
import { interpolate, InterpolationError, type Resolver } from './interpolation.js';
import type { ExecuteOptions, PolicyDenial } from './types.js';

/**
 * Checks made once, when an action is dispatched: the validator (unknown tool), `$id.output`
 * interpolation and the registered schema (when a checker is given). An unknown tool or a schema
 * mismatch rejects the action; a bad reference fails it (it cannot change on retry).
 */
export type Admission =
  | { kind: 'admitted'; parameters: Record<string, unknown> }
  | { kind: 'rejected'; reason: string }
  | { kind: 'failed'; error: string };

export function admit(action: Action, options: ExecuteOptions, resolve: Resolver): Admission {
  let tool: ToolDefinition | undefined;
  if (action.type === 'tool_call' && options.tools !== undefined) {
    tool = options.tools(action.tool as string);
    if (tool === undefined) {
      return { kind: 'rejected', reason: `unknown tool '${action.tool}': it is not registered on this session` };
    }
  }

  let parameters: Record<string, unknown>;
  try {
    parameters = interpolate(action.parameters, resolve);
  } catch (err) {
    if (err instanceof InterpolationError) return { kind: 'failed', error: err.message };
    throw err;
  }

  if (tool !== undefined && options.checkParameters !== undefined) {
    const problems = options.checkParameters(tool, parameters);
    if (problems.length > 0) {
      return { kind: 'rejected', reason: `parameters do not match the schema of tool '${tool.name}': ${problems.join('; ')}` };
    }
  }
  return { kind: 'admitted', parameters };
}

/** Why an attempt may not dispatch: the reason, and the policy denials among it. */
export interface Refusal {
  reason: string;
  denials: readonly PolicyDenial[];
}

const NO_DENIALS: readonly PolicyDenial[] = [];

/**
 * Checks made before every attempt, on the parameters the attempt dispatches with (references
 * already substituted) and the state as it is now: every policy (all violations collected), then
 * the caller's `authorize` hook (the permission tier). Null when the attempt may go.
 */
export function authorizeAttempt(
  action: Action,
  parameters: Record<string, unknown>,
  attempt: number,
  options: ExecuteOptions,
  state: StateLookup,
): Refusal | null {
  if (options.policies !== undefined) {
    const denials = options.policies.check({ id: action.id, tool: action.tool, parameters }, state);
    if (denials.length > 0) {
      const reason = denials.map((d) => `denied by policy '${d.policy_name}': ${d.reason}`).join('; ');
      return { reason, denials };
    }
  }
  if (options.authorize !== undefined) {
    const reason = options.authorize(action, parameters, attempt);
    if (reason !== null) return { reason, denials: NO_DENIALS };
  }
  return null;
}

/** Why this executor cannot run the action's invocation mode; null for `one_shot` and state actions. */
export function unsupportedMode(action: Action, options: ExecuteOptions): string | null {
  if (action.type !== 'tool_call' || action.invocation_mode === 'one_shot') return null;
  return `tool '${action.tool}' does not support streaming/long-running invocation over ${options.executorLabel ?? 'this executor'}`;
}

/** The first precondition that does not hold, described; null when all hold. */
export function failedPrecondition(action: Action, state: StateLookup): string | null {
  const preconditions = action.preconditions;
  for (let i = 0; i < preconditions.length; i++) {
    const p = preconditions[i] as Precondition;
    if (!preconditionHolds(p, state)) return `${describePrecondition(p)} does not hold`;
  }
  return null;
}
