import { z } from 'zod';
import type { MethodSpec } from './method.js';

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

/** An OpenRPC 1.3 document generated from the method table. */
export function buildOpenRpcDocument(methods: readonly MethodSpec[], info: { title: string; version: string }): object {
  return {
    openrpc: '1.3.2',
    info: { title: info.title, version: info.version },
    methods: methods.map((spec) => ({
      name: spec.name,
      summary: spec.summary,
      ...describeParams(spec),
      result: { name: 'result', schema: spec.result ? toSchema(spec.result) : {} },
      'x-role': spec.role ?? 'agent',
    })),
  };
}
