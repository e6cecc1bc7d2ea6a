import type { ModelSchema } from './model-schema.js';

export const DEFAULT_OLLAMA_ENDPOINT = 'http://127.0.0.1:11434';

interface TagsResponse {
  models?: { name?: unknown; model?: unknown; details?: { family?: unknown; parameter_size?: unknown } }[];
}

/** Embedding models by name: Ollama's tags do not say what a model does. */
const EMBED_NAME = /embed|bge|e5-|minilm|nomic-embed|mxbai/i;

/**
 * The models a local Ollama serves, from its native `GET /api/tags`, as registry rows that
 * generate through its OpenAI-compatible `/v1`. An Ollama that does not answer within
 * `timeoutMs` (or answers something else) yields no models.
 */
export async function discoverOllama(endpoint: string, timeoutMs: number): Promise<{ models: ModelSchema[]; error: string | null }> {
  let body: TagsResponse;
  try {
    const res = await fetch(new URL('/api/tags', endpoint), { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return { models: [], error: `Ollama answered HTTP ${res.status}` };
    body = (await res.json()) as TagsResponse;
  } catch (err) {
    return { models: [], error: `Ollama did not answer: ${(err as Error).name === 'TimeoutError' ? 'timed out' : (err as Error).message}` };
  }
  const models: ModelSchema[] = [];
  for (const m of body.models ?? []) {
    const name = typeof m.name === 'string' ? m.name : typeof m.model === 'string' ? m.model : null;
    if (!name) continue;
    const embed = EMBED_NAME.test(name);
    const family = typeof m.details?.family === 'string' ? m.details.family : undefined;
    models.push({
      id: `ollama/${name}`,
      name,
      provider: 'ollama',
      ...(family !== undefined && { family }),
      capabilities: embed ? ['embed', 'classify'] : ['generate', 'tool_use'],
      source: { type: 'ollama', endpoint, model: name },
    });
  }
  return { models, error: null };
}
