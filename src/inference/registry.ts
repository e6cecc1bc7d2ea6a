import { CarError } from '../util/errors.js';
import { BUILTIN_MODELS } from './catalogue.js';
import { isLoopbackUrl, modelSchema, type ModelEntry, type ModelOrigin, type ModelSchema } from './model-schema.js';
import { readModelRows, writeModelRows } from './models-file.js';
import { DEFAULT_OLLAMA_ENDPOINT, discoverOllama } from './ollama.js';

export interface RegistryOptions {
  /** `models.json`; null = built-in catalogue (and discovery) only. */
  modelsPath: string | null;
  /** Local Ollama to discover; null skips discovery. */
  ollamaEndpoint: string | null;
  discoveryTimeoutMs: number;
  /** Where `api_key_env` names are looked up. */
  env: Readonly<Record<string, string | undefined>>;
}

const RESERVED_PREFIXES = ['parslee/', 'openrouter/'];
export const REGISTER_NOTE = 'written to models.json; takes effect at the next daemon start';

export interface WriteOutcome {
  id: string;
  path: string;
  note: string;
}

/**
 * The models this daemon knows: the built-in catalogue, `models.json` (its rows replace catalogue
 * rows of the same id) and what a local Ollama serves. Read once, on first use; registering or
 * unregistering rewrites `models.json` for the next start and leaves the running set alone.
 */
export class ModelRegistry {
  private byId = new Map<string, ModelEntry>();
  private loading: Promise<void> | null = null;
  private writes: Promise<unknown> = Promise.resolve();
  /** Problems met while loading (a bad models.json row, an unreachable Ollama), for the boot log. */
  readonly problems: string[] = [];

  constructor(private readonly options: RegistryOptions) {}

  /** Read models.json and discover Ollama, once; later calls wait for the same load. */
  load(): Promise<void> {
    this.loading ??= this.doLoad();
    return this.loading;
  }

  private async doLoad(): Promise<void> {
    const rows: [ModelSchema, ModelOrigin][] = BUILTIN_MODELS.map((m) => [m, 'catalogue']);
    if (this.options.ollamaEndpoint !== null) {
      const found = await discoverOllama(this.options.ollamaEndpoint, this.options.discoveryTimeoutMs);
      if (found.error !== null) this.problems.push(`ollama discovery: ${found.error}`);
      for (const m of found.models) rows.push([m, 'ollama']);
    }
    if (this.options.modelsPath !== null) {
      try {
        const raw = await readModelRows(this.options.modelsPath);
        raw.forEach((row, i) => {
          const parsed = modelSchema.safeParse(row);
          if (parsed.success) rows.push([parsed.data, 'models.json']);
          else this.problems.push(`models.json row ${i} skipped: ${parsed.error.issues[0]?.path.join('.') || 'row'}: ${parsed.error.issues[0]?.message}`);
        });
      } catch (err) {
        this.problems.push((err as Error).message);
      }
    }
    const byId = new Map<string, ModelEntry>();
    for (const [schema, origin] of rows) byId.set(schema.id, this.resolve(schema, origin));
    this.byId = byId;
  }

  private resolve(schema: ModelSchema, origin: ModelOrigin): ModelEntry {
    const src = schema.source;
    if (src.type === 'delegated') {
      return { schema, origin, endpoint: null, apiKey: null, staticallyAvailable: true, unavailableReason: null, isLocal: true };
    }
    if (src.type === 'ollama') {
      const endpoint = src.endpoint ?? this.options.ollamaEndpoint ?? DEFAULT_OLLAMA_ENDPOINT;
      return { schema, origin, endpoint, apiKey: null, staticallyAvailable: true, unavailableReason: null, isLocal: isLoopbackUrl(endpoint) };
    }
    const endpoint = src.endpoint ?? null;
    const apiKey = src.api_key_env ? (this.options.env[src.api_key_env] || null) : null;
    let reason: string | null = null;
    if (endpoint === null) reason = 'no endpoint configured';
    else if (src.api_key_env && apiKey === null) reason = `the API key variable ${src.api_key_env} is not set`;
    return {
      schema,
      origin,
      endpoint,
      apiKey,
      staticallyAvailable: reason === null,
      unavailableReason: reason,
      isLocal: endpoint !== null && isLoopbackUrl(endpoint),
    };
  }

  /** Every known model (after `load`), by id. */
  entries(): ModelEntry[] {
    return [...this.byId.values()].sort((a, b) => (a.schema.id < b.schema.id ? -1 : a.schema.id > b.schema.id ? 1 : 0));
  }

  get(id: string): ModelEntry | undefined {
    return this.byId.get(id);
  }

  get modelsPath(): string | null {
    return this.options.modelsPath;
  }

  /** Add or replace a row in models.json (trust tier forced to `community`). */
  async register(input: unknown): Promise<WriteOutcome> {
    const parsed = modelSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CarError('invalid', `invalid model schema: ${issue?.path.join('.') || 'schema'}: ${issue?.message}`, {
        field: issue?.path.join('.') || undefined,
      });
    }
    const schema = { ...parsed.data, trust_tier: 'community' };
    const reserved = RESERVED_PREFIXES.find((p) => schema.id.toLowerCase().startsWith(p) || `${schema.provider ?? ''}/`.toLowerCase() === p);
    if (reserved) {
      throw new CarError('invalid', `model '${schema.id}' is reserved: ${reserved}* models cannot be registered`, { field: 'id' });
    }
    return this.rewrite((rows) => {
      const at = rows.findIndex((r) => idOf(r) === schema.id);
      if (at >= 0) rows[at] = schema;
      else rows.push(schema);
      return schema.id;
    });
  }

  /** Remove a row from models.json; an id the file does not hold is `not_found`. */
  async unregister(id: string): Promise<WriteOutcome> {
    return this.rewrite((rows) => {
      const at = rows.findIndex((r) => idOf(r) === id);
      if (at < 0) throw new CarError('not_found', `model '${id}' is not in models.json`, { field: 'id' });
      rows.splice(at, 1);
      return id;
    });
  }

  /** Read-modify-write of models.json, one at a time. */
  private rewrite(change: (rows: unknown[]) => string): Promise<WriteOutcome> {
    const path = this.options.modelsPath;
    if (path === null) return Promise.reject(new CarError('unavailable', 'this daemon has no models.json location'));
    const run = this.writes.then(async () => {
      const rows = await readModelRows(path);
      const id = change(rows);
      await writeModelRows(path, rows);
      return { id, path, note: REGISTER_NOTE };
    });
    this.writes = run.catch(() => {});
    return run;
  }
}

function idOf(row: unknown): unknown {
  return row !== null && typeof row === 'object' ? (row as { id?: unknown }).id : undefined;
}
