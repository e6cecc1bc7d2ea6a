import type { Action } from '../ir.js';
import { describePrecondition, preconditionHolds, type StateLookup } from '../preconditions.js';
import type { ToolDefinition } from '../tool-registry.js';
import { interpolate, InterpolationError, type Resolver } from './interpolation.js';
import type { ExecuteOptions } from './types.js';

/**
 * Dispatch-time checks, in order: the validator (unknown tool), `$id.output` interpolation, the
 * registered schema (when a checker is given), every policy, and the invocation mode. A
 * validator or policy block rejects the action; a bad reference or an unsupported mode fails it
 * (neither can change on retry).
 */
export type Admission =
  | { kind: 'admitted'; parameters: Record<string, unknown> }
  | { kind: 'rejected'; reason: string; denials: readonly { policy_name: string; reason: string }[] }
  | { kind: 'failed'; error: string };

const NO_DENIALS: readonly { policy_name: string; reason: string }[] = [];

export function admit(action: Action, options: ExecuteOptions, resolve: Resolver, state: StateLookup): Admission {
  let tool: ToolDefinition | undefined;
  if (action.type === 'tool_call' && options.tools !== undefined) {
    tool = options.tools(action.tool as string);
    if (tool === undefined) {
      return { kind: 'rejected', reason: `unknown tool '${action.tool}': it is not registered on this session`, denials: NO_DENIALS };
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
      return {
        kind: 'rejected',
        reason: `parameters do not match the schema of tool '${tool.name}': ${problems.join('; ')}`,
        denials: NO_DENIALS,
      };
    }
  }

  if (options.policies !== undefined) {
    const denials = options.policies.check({ id: action.id, tool: action.tool, parameters }, state);
    if (denials.length > 0) {
      const reason = denials.map((d) => `denied by policy '${d.policy_name}': ${d.reason}`).join('; ');
      return { kind: 'rejected', reason, denials };
    }
  }

  if (action.type === 'tool_call' && action.invocation_mode !== 'one_shot') {
    return {
      kind: 'failed',
      error: `tool '${action.tool}' does not support streaming/long-running invocation over ${options.executorLabel ?? 'this executor'}`,
    };
  }
  return { kind: 'admitted', parameters };
}

/** The first precondition that does not hold, described; null when all hold. */
export function failedPrecondition(action: Action, state: StateLookup): string | null {
  for (const p of action.preconditions) {
    if (!preconditionHolds(p, state)) return `${describePrecondition(p)} does not hold`;
  }
  return null;
}
