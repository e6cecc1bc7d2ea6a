import { outputRef } from './model.js';
import { isObject as isPlainObject } from '../../util/values.js';

/**
 * The part of JSON Schema verify checks tool parameters against: `type` (a name or a list of
 * names), `required`, `properties` and `items` (one schema, or a list for tuples), nested to any
 * depth. Every other keyword is ignored. Values that are `$<id>.output` references are not checked,
 * since they only exist at run time.
 */

export interface SchemaViolation {
  /** Where in the parameters, e.g. `parameters.user.age` or `parameters.tags[2]`. */
  path: string;
  message: string;
}

const MAX_VIOLATIONS = 20;

type Schema = Record<string, unknown>;

const isSchema: (v: unknown) => v is Schema = isPlainObject;

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'object':
      return isPlainObject(value);
    case 'array':
      return Array.isArray(value);
    case 'null':
      return value === null;
    default:
      // A type name this subset does not know constrains nothing.
      return true;
  }
}

function childPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function check(value: unknown, schema: Schema, path: string, out: SchemaViolation[]): void {
  if (out.length >= MAX_VIOLATIONS || outputRef(value) !== undefined) return;
  const type = schema.type;
  const types = typeof type === 'string' ? [type] : Array.isArray(type) ? type.filter((t): t is string => typeof t === 'string') : [];
  if (types.length > 0 && !types.some((t) => matchesType(value, t))) {
    out.push({ path, message: `must be ${types.join(' or ')} (got ${typeOf(value)})` });
    return;
  }
  if (isPlainObject(value)) {
    if (Array.isArray(schema.required)) {
      for (const name of schema.required) {
        if (typeof name === 'string' && !Object.hasOwn(value, name)) {
          out.push({ path: childPath(path, name), message: 'is required' });
        }
      }
    }
    if (isSchema(schema.properties)) {
      for (const name of Object.keys(schema.properties)) {
        const sub = schema.properties[name];
        if (isSchema(sub) && Object.hasOwn(value, name)) check(value[name], sub, childPath(path, name), out);
      }
    }
  } else if (Array.isArray(value)) {
    const items = schema.items;
    if (isSchema(items)) value.forEach((item, i) => check(item, items, `${path}[${i}]`, out));
    else if (Array.isArray(items)) {
      items.forEach((sub, i) => {
        if (isSchema(sub) && i < value.length) check(value[i], sub, `${path}[${i}]`, out);
      });
    }
  }
}

/** Ways `parameters` break `schema` (at most 20); empty when they fit or the schema is not an object. */
export function schemaViolations(parameters: unknown, schema: unknown, path = 'parameters'): SchemaViolation[] {
  const out: SchemaViolation[] = [];
  if (isSchema(schema)) check(parameters, schema, path, out);
  return out.length <= MAX_VIOLATIONS ? out : out.slice(0, MAX_VIOLATIONS);
}
