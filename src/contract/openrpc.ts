import { z } from 'zod';
import type { MethodRoute, MethodSpec } from './method.js';

type JsonSchema = Record<string, unknown>;

function toSchema(schema: z.ZodType): JsonSchema {
  try {
    const out = z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) as JsonSchema;
    delete out.$schema;
    return out;
  } catch {
    return {};
  }
}

interface ContentDescriptor {
  name: string;
  required?: boolean;
  schema: JsonSchema;
}

function describeParams(spec: MethodSpec): { paramStructure: string; params: ContentDescriptor[] } {
  const schema = toSchema(spec.params);
  if (schema.type === 'object' && typeof schema.properties === 'object' && schema.properties !== null) {
    const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
    const params = Object.entries(schema.properties as Record<string, JsonSchema>).map(([name, s]) => ({
      name,
      required: required.has(name),
      schema: s,
    }));
    return { paramStructure: 'by-name', params };
  }
  if (schema.type === 'array') {
    return { paramStructure: 'by-position', params: [{ name: 'items', schema: (schema.items as JsonSchema) ?? {} }] };
  }
  return { paramStructure: 'either', params: [{ name: 'params', schema }] };
}

function isRoute(entry: MethodSpec | MethodRoute): entry is MethodRoute {
  return 'spec' in entry && 'gates' in entry;
}

/**
 * An OpenRPC 1.3 document generated from the method table. Each method carries `x-role` (the
 * least role that may call it) and, given routes, `x-car-gates` (the gates it passes, in order).
 */
export function buildOpenRpcDocument(methods: readonly (MethodSpec | MethodRoute)[], info: { title: string; version: string }): object {
  return {
    openrpc: '1.3.2',
    info: { title: info.title, version: info.version },
    methods: methods.map((entry) => {
      const spec = isRoute(entry) ? entry.spec : entry;
      const out: Record<string, unknown> = {
        name: spec.name,
        summary: spec.summary,
        ...describeParams(spec),
        result: { name: 'result', schema: spec.result ? toSchema(spec.result) : {} },
        'x-role': spec.role ?? 'agent',
      };
      if (isRoute(entry)) out['x-car-gates'] = [...entry.gates];
      return out;
    }),
  };
}
