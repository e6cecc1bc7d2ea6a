import { CarError, type CarErrorKind } from '../../util/errors.js';
import { jsonEqual } from '../json-equal.js';
import type { StateLookup } from '../preconditions.js';

/** Rule kinds the daemon enforces. `deny_tool_callback` exists upstream only for in-process bindings. */
export const POLICY_RULES = ['deny_tool', 'deny_tool_param', 'require_state'] as const;
export type PolicyRule = (typeof POLICY_RULES)[number];

export type PolicyErrorReason = 'invalid' | 'unsupported' | 'unknown_session' | 'limit';

const POLICY_ERROR_KINDS: Readonly<Record<PolicyErrorReason, CarErrorKind>> = {
  invalid: 'invalid',
  unsupported: 'unavailable',
  unknown_session: 'not_found',
  limit: 'limit',
};

/** A policy request the engine refuses; `reason` says why in the policy engine's own words. */
export class PolicyError extends CarError {
  constructor(
    message: string,
    readonly reason: PolicyErrorReason,
    field?: string,
    limit?: number,
  ) {
    super(POLICY_ERROR_KINDS[reason], message, { field, limit });
    this.name = 'PolicyError';
  }
}

/** A policy as registered: which fields matter depends on the rule. */
export interface PolicySpec {
  name: string;
  rule: string;
  target?: string | undefined;
  key?: string | undefined;
  pattern?: string | undefined;
  value?: unknown;
}

export type Policy =
  | { name: string; rule: 'deny_tool'; target: string }
  | { name: string; rule: 'deny_tool_param'; target: string; key: string; pattern: string }
  | { name: string; rule: 'require_state'; key: string; value: unknown };

/** What a policy is asked about: the action (after `$id.output` interpolation) and live state. */
export interface PolicySubject {
  id: string;
  tool?: string | undefined;
  parameters: Record<string, unknown>;
}

function required(spec: PolicySpec, field: 'target' | 'key' | 'pattern'): string {
  const v = spec[field];
  if (typeof v !== 'string' || v.length === 0) {
    throw new PolicyError(`rule '${spec.rule}' needs a non-empty '${field}'`, 'invalid', field);
  }
  return v;
}

/** Check a registration and keep only the fields its rule uses. */
export function compilePolicy(spec: PolicySpec): Policy {
  if (typeof spec.name !== 'string' || spec.name.length === 0) {
    throw new PolicyError('a policy needs a non-empty name', 'invalid', 'name');
  }
  switch (spec.rule) {
    case 'deny_tool':
      return { name: spec.name, rule: 'deny_tool', target: required(spec, 'target') };
    case 'deny_tool_param':
      return {
        name: spec.name,
        rule: 'deny_tool_param',
        target: required(spec, 'target'),
        key: required(spec, 'key'),
        pattern: required(spec, 'pattern'),
      };
    case 'require_state':
      if (spec.value === undefined) throw new PolicyError("rule 'require_state' needs a 'value'", 'invalid', 'value');
      return { name: spec.name, rule: 'require_state', key: required(spec, 'key'), value: spec.value };
    case 'deny_tool_callback':
      throw new PolicyError(
        "rule 'deny_tool_callback' is not supported on the daemon (it needs an in-process callback); use deny_tool or deny_tool_param",
        'unsupported',
        'rule',
      );
    default:
      throw new PolicyError(
        `unknown rule ${JSON.stringify(spec.rule)}; expected one of ${POLICY_RULES.join(', ')}`,
        'invalid',
        'rule',
      );
  }
}

/** A parameter value as text: strings as they are, anything else as JSON. */
export function paramText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined) return '';
  return JSON.stringify(v) ?? String(v);
}

/**
 * Whether a stored state value satisfies `require_state`'s expected value. A string expectation
 * matches the same string, and also the value it spells as JSON, so `"true"` matches the boolean
 * `true` and `"3"` the number 3 (bindings pass the value as JSON text). Any other expectation is
 * compared structurally (and a stored string is read as JSON against it). A missing key counts
 * as null.
 */
export function stateMatches(actual: unknown, expected: unknown): boolean {
  if (jsonEqual(actual, expected)) return true;
  if (typeof expected === 'string') return jsonEqual(actual, parseJson(expected));
  if (typeof actual === 'string') return jsonEqual(parseJson(actual), expected);
  return false;
}

const UNPARSABLE = Symbol('unparsable');

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return UNPARSABLE;
  }
}

/** The reason `policy` denies `subject`, or null when it allows it. */
export function evaluatePolicy(policy: Policy, subject: PolicySubject, state: StateLookup): string | null {
  switch (policy.rule) {
    case 'deny_tool':
      return subject.tool === policy.target ? `tool '${policy.target}' is denied` : null;
    case 'deny_tool_param': {
      if (subject.tool !== policy.target || !Object.hasOwn(subject.parameters, policy.key)) return null;
      return paramText(subject.parameters[policy.key]).includes(policy.pattern)
        ? `param '${policy.key}' matches denied pattern '${policy.pattern}'`
        : null;
    }
    case 'require_state': {
      const { present, value } = state(policy.key);
      if (stateMatches(present ? value : null, policy.value)) return null;
      return present
        ? `state '${policy.key}' is ${paramText(value)}, required ${paramText(policy.value)}`
        : `state '${policy.key}' is not set, required ${paramText(policy.value)}`;
    }
  }
}

/** One line for `policy.list`. */
export function describePolicy(policy: Policy): string {
  switch (policy.rule) {
    case 'deny_tool':
      return `deny tool '${policy.target}'`;
    case 'deny_tool_param':
      return `deny tool '${policy.target}' when param '${policy.key}' contains '${policy.pattern}'`;
    case 'require_state':
      return `require state '${policy.key}' == ${paramText(policy.value)}`;
  }
}
