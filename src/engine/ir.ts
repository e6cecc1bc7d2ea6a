import { randomUUID } from 'node:crypto';
import { CarError } from '../util/errors.js';
import { isObject } from '../util/values.js';

/** The proposal / action IR: what a model proposes and the runtime verifies and executes. */

export const ACTION_TYPES = ['tool_call', 'state_write', 'state_read', 'assertion'] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export const OPERATORS = ['eq', 'neq', 'gt', 'lt', 'gte', 'lte', 'exists', 'not_exists', 'contains'] as const;
export type Operator = (typeof OPERATORS)[number];

export const FAILURE_BEHAVIORS = ['abort', 'retry', 'skip'] as const;
export type FailureBehavior = (typeof FAILURE_BEHAVIORS)[number];

export const INVOCATION_MODES = ['one_shot', 'streaming', 'long_running'] as const;
export type InvocationMode = (typeof INVOCATION_MODES)[number];

/** Ordered from least to most severe. */
export const REVERSIBILITIES = ['reversible', 'compensable', 'irreversible'] as const;
export type Reversibility = (typeof REVERSIBILITIES)[number];

export interface Precondition {
  key: string;
  /** One of OPERATORS; any other string is kept and always fails the check. */
  operator: string;
  value: unknown;
  description: string;
}

export type Compensation =
  | { type: 'tool'; tool: string; parameters?: Record<string, unknown> }
  | { type: 'action_ref'; action_id: string };

export interface Action {
  id: string;
  type: ActionType;
  /** Required for `tool_call`. */
  tool?: string;
  parameters: Record<string, unknown>;
  /** Action ids that must finish first. */
  dependencies: string[];
  preconditions: Precondition[];
  /** Claimed state changes (key → value), for verify and simulate. */
  expected_effects: Record<string, unknown>;
  /** State keys read; ordered after whichever action writes them. */
  state_dependencies: string[];
  read_set: string[];
  write_set: string[];
  assumptions: unknown[];
  invocation_mode: InvocationMode;
  reversibility: Reversibility;
  compensation?: Compensation;
  idempotent: boolean;
  max_retries: number;
  failure_behavior: FailureBehavior;
  timeout_ms?: number;
  metadata: Record<string, unknown>;
}

export interface ActionProposal {
  id: string;
  source: string;
  timestamp: string;
  actions: Action[];
  context: Record<string, unknown>;
}

/** A proposal that cannot be read; `path` (the error's `field`) names the offending field, e.g. `actions[2].tool`. */
export class ProposalError extends CarError {
  constructor(
    message: string,
    readonly path: string,
    readonly actionId?: string,
  ) {
    super('invalid', message, { field: path, detail: actionId === undefined ? undefined : { action_id: actionId } });
    this.name = 'ProposalError';
  }
}

export const DEFAULT_MAX_RETRIES = 3;

/** 12 hex characters from a UUIDv4, the upstream's default id shape. */
export function shortId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 12);
}

/**
 * Absent list and map fields of a parsed action share these frozen empties: a 1,000-action
 * proposal keeps thousands fewer objects alive while it runs. Nothing writes to a parsed action.
 */
const EMPTY_LIST: never[] = Object.freeze([]) as unknown as never[];
const EMPTY_MAP: Record<string, never> = Object.freeze({}) as Record<string, never>;

const isString = (v: unknown): v is string => typeof v === 'string';
const isNonNegativeInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';

/**
 * Checks the fields of one object. The caller reads each field itself (`r.string('tool',
 * raw.tool)`): a load by a constant name stays fast where one by a variable key does not.
 */
class Reader {
  /** Where the object sits, e.g. `actions[3]`; given as an action index, it is spelled out only for an error. */
  constructor(
    private readonly at: string | number,
    private readonly actionId?: string,
  ) {}

  private get path(): string {
    return typeof this.at === 'number' ? `actions[${this.at}]` : this.at;
  }

  fail(field: string, message: string): never {
    const where = this.actionId !== undefined ? `${this.path}.${field} (action '${this.actionId}')` : `${this.path}.${field}`;
    throw new ProposalError(`${where} ${message}`, `${this.path}.${field}`, this.actionId);
  }

  optional<T>(field: string, v: unknown, check: (v: unknown) => v is T, expected: string): T | undefined {
    if (v === undefined || v === null) return undefined;
    if (!check(v)) this.fail(field, `must be ${expected}`);
    return v;
  }

  string(field: string, v: unknown): string | undefined {
    return this.optional(field, v, isString, 'a string');
  }

  object(field: string, v: unknown): Record<string, unknown> {
    return this.optional(field, v, isObject, 'an object') ?? EMPTY_MAP;
  }

  stringArray(field: string, v: unknown): string[] {
    const arr = this.optional(field, v, Array.isArray, 'an array');
    if (arr === undefined || arr.length === 0) return EMPTY_LIST;
    for (let i = 0; i < arr.length; i++) {
      if (typeof arr[i] !== 'string') this.fail(`${field}[${i}]`, 'must be a string');
    }
    return arr as string[];
  }

  array(field: string, v: unknown): unknown[] {
    const arr = this.optional(field, v, Array.isArray, 'an array');
    return arr === undefined || arr.length === 0 ? EMPTY_LIST : arr;
  }

  enumOf<T extends string>(field: string, v: unknown, allowed: readonly T[], fallback: T): T {
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(field, `must be one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`);
    }
    return v as T;
  }

  nonNegativeInt(field: string, v: unknown): number | undefined {
    return this.optional(field, v, isNonNegativeInt, 'a non-negative integer');
  }

  boolean(field: string, v: unknown): boolean | undefined {
    return this.optional(field, v, isBoolean, 'a boolean');
  }
}

function parsePrecondition(raw: unknown, r: Reader, index: number): Precondition {
  if (!isObject(raw)) r.fail(`preconditions[${index}]`, 'must be an object');
  const pr = raw as Record<string, unknown>;
  if (typeof pr.key !== 'string' || pr.key.length === 0) r.fail(`preconditions[${index}].key`, 'is required');
  const operator = pr.operator === undefined || pr.operator === null ? 'eq' : pr.operator;
  if (typeof operator !== 'string') r.fail(`preconditions[${index}].operator`, 'must be a string');
  return {
    key: pr.key as string,
    operator: operator as string,
    value: pr.value === undefined ? null : pr.value,
    description: typeof pr.description === 'string' ? pr.description : '',
  };
}

function parseCompensation(raw: unknown, r: Reader): Compensation | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) r.fail('compensation', 'must be an object');
  const c = raw as Record<string, unknown>;
  if (c.type === 'tool') {
    if (typeof c.tool !== 'string' || c.tool.length === 0) r.fail('compensation.tool', 'is required');
    if (c.parameters !== undefined && !isObject(c.parameters)) r.fail('compensation.parameters', 'must be an object');
    return c.parameters === undefined
      ? { type: 'tool', tool: c.tool as string }
      : { type: 'tool', tool: c.tool as string, parameters: c.parameters as Record<string, unknown> };
  }
  if (c.type === 'action_ref') {
    if (typeof c.action_id !== 'string' || c.action_id.length === 0) r.fail('compensation.action_id', 'is required');
    return { type: 'action_ref', action_id: c.action_id as string };
  }
  return r.fail('compensation.type', `must be "tool" or "action_ref" (got ${JSON.stringify(c.type)})`);
}

function preconditionsOf(raw: unknown[], r: Reader): Precondition[] {
  return raw.length === 0 ? EMPTY_LIST : raw.map((p, i) => parsePrecondition(p, r, i));
}

function parseAction(raw: unknown, index: number): Action {
  if (!isObject(raw)) throw new ProposalError(`actions[${index}] must be an object`, `actions[${index}]`);
  const idRaw = raw.id;
  if (idRaw !== undefined && idRaw !== null && (typeof idRaw !== 'string' || idRaw.length === 0)) {
    throw new ProposalError(`actions[${index}].id must be a non-empty string`, `actions[${index}].id`);
  }
  const id = (idRaw as string | undefined) ?? shortId();
  const r = new Reader(index, id);
  if (raw.type === undefined || raw.type === null) r.fail('type', `is required (one of ${ACTION_TYPES.join(', ')})`);
  const type = r.enumOf('type', raw.type, ACTION_TYPES, 'tool_call');
  const tool = r.string('tool', raw.tool);
  if (type === 'tool_call' && (tool === undefined || tool.length === 0)) r.fail('tool', 'is required for a tool_call');
  const action: Action = {
    id,
    type,
    parameters: r.object('parameters', raw.parameters),
    dependencies: r.stringArray('dependencies', raw.dependencies),
    preconditions: preconditionsOf(r.array('preconditions', raw.preconditions), r),
    expected_effects: r.object('expected_effects', raw.expected_effects),
    state_dependencies: r.stringArray('state_dependencies', raw.state_dependencies),
    read_set: r.stringArray('read_set', raw.read_set),
    write_set: r.stringArray('write_set', raw.write_set),
    assumptions: r.array('assumptions', raw.assumptions),
    invocation_mode: r.enumOf('invocation_mode', raw.invocation_mode, INVOCATION_MODES, 'one_shot'),
    reversibility: r.enumOf('reversibility', raw.reversibility, REVERSIBILITIES, 'irreversible'),
    idempotent: r.boolean('idempotent', raw.idempotent) ?? false,
    max_retries: r.nonNegativeInt('max_retries', raw.max_retries) ?? DEFAULT_MAX_RETRIES,
    failure_behavior: r.enumOf('failure_behavior', raw.failure_behavior, FAILURE_BEHAVIORS, 'abort'),
    metadata: r.object('metadata', raw.metadata),
  };
  if (tool !== undefined) action.tool = tool;
  const compensation = parseCompensation(raw.compensation, r);
  if (compensation) action.compensation = compensation;
  const timeout = r.nonNegativeInt('timeout_ms', raw.timeout_ms);
  if (timeout !== undefined) action.timeout_ms = timeout;
  if ((type === 'state_write' || type === 'state_read') && typeof action.parameters.key !== 'string') {
    r.fail('parameters.key', `is required for a ${type} (a string)`);
  }
  return action;
}

/**
 * Read an ActionProposal from untrusted JSON, filling every default. Throws ProposalError naming
 * the action and field at fault.
 */
export function parseProposal(input: unknown): ActionProposal {
  if (!isObject(input)) throw new ProposalError('proposal must be an object', 'proposal');
  const r = new Reader('proposal');
  if (!Array.isArray(input.actions)) r.fail('actions', 'is required (an array of actions)');
  const actions = (input.actions as unknown[]).map((a, i) => parseAction(a, i));
  const seen = new Map<string, number>();
  actions.forEach((a, i) => {
    const first = seen.get(a.id);
    if (first !== undefined) {
      throw new ProposalError(
        `actions[${i}].id '${a.id}' repeats the id of actions[${first}]`,
        `actions[${i}].id`,
        a.id,
      );
    }
    seen.set(a.id, i);
  });
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i] as Action;
    for (let j = 0; j < a.dependencies.length; j++) {
      const dep = a.dependencies[j] as string;
      if (!seen.has(dep)) {
        throw new ProposalError(
          `actions[${i}].dependencies[${j}] (action '${a.id}') names unknown action '${dep}'`,
          `actions[${i}].dependencies[${j}]`,
          a.id,
        );
      }
    }
  }
  return {
    id: r.string('id', input.id) || shortId(),
    source: r.string('source', input.source) ?? 'unknown',
    timestamp: r.string('timestamp', input.timestamp) ?? new Date().toISOString(),
    actions,
    context: r.object('context', input.context),
  };
}

/** The worst declared reversibility; an empty proposal counts as reversible. */
export function rollbackContract(actions: readonly Action[]): Reversibility {
  let worst = 0;
  for (const a of actions) worst = Math.max(worst, REVERSIBILITIES.indexOf(a.reversibility));
  return REVERSIBILITIES[worst] as Reversibility;
}
