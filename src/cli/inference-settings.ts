import { isAbsolute, join } from 'node:path';
import { UsageError } from './usage-error.js';

type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_OLLAMA = 'http://127.0.0.1:11434';

/** Where the binary looks for models and which local services it asks. */
export interface InferenceSettings {
  /** `CAR_MODELS_PATH`, else `$CAR_HOME/models.json`. */
  modelsPath: string;
  /** `OLLAMA_HOST` (Ollama's own variable), else 127.0.0.1:11434; null with `CAR_NO_OLLAMA=1`. */
  ollamaEndpoint: string | null;
  /** `CAR_EMBED_MODEL`: the model memory embeds facts with. */
  embedModel: string | null;
  /** `CAR_SKILLS_MODEL`: the model skill distillation, evolution and repair run on. */
  skillsModel: string | null;
  /** `CAR_ASSISTANT_MODEL`: the model the MCP assistant tools run on. */
  assistantModel: string | null;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/**
 * `OLLAMA_HOST` as Ollama reads it: `host`, `host:port`, or a URL; a wildcard bind address means
 * this machine.
 */
export function ollamaEndpointOf(raw: string | undefined): string {
  const v = nonEmpty(raw);
  if (v === undefined) return DEFAULT_OLLAMA;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `http://${v}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`OLLAMA_HOST must be host[:port] or an http(s) URL, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`OLLAMA_HOST must be an http(s) address, got ${JSON.stringify(raw)}`);
  }
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = '127.0.0.1';
  if (url.port === '' && !/:\d+$/.test(url.host) && !/^[a-z]+:\/\//i.test(v)) url.port = '11434';
  return url.origin;
}

export function resolveInferenceSettings(env: Env, carHome: string): InferenceSettings {
  const modelsPath = nonEmpty(env.CAR_MODELS_PATH);
  if (modelsPath !== undefined && !isAbsolute(modelsPath)) {
    throw new UsageError(`CAR_MODELS_PATH must be an absolute path, got ${JSON.stringify(modelsPath)}`);
  }
  const noOllama = nonEmpty(env.CAR_NO_OLLAMA);
  if (noOllama !== undefined && !['0', '1', 'true', 'false', 'yes', 'no', 'on', 'off'].includes(noOllama.toLowerCase())) {
    throw new UsageError(`CAR_NO_OLLAMA must be 1 or 0, got ${JSON.stringify(noOllama)}`);
  }
  const skipOllama = noOllama !== undefined && ['1', 'true', 'yes', 'on'].includes(noOllama.toLowerCase());
  return {
    modelsPath: modelsPath ?? join(carHome, 'models.json'),
    ollamaEndpoint: skipOllama ? null : ollamaEndpointOf(env.OLLAMA_HOST),
    embedModel: nonEmpty(env.CAR_EMBED_MODEL) ?? null,
    skillsModel: nonEmpty(env.CAR_SKILLS_MODEL) ?? null,
    assistantModel: nonEmpty(env.CAR_ASSISTANT_MODEL) ?? null,
  };
}
