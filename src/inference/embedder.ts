import type { Embedder } from '../memory/embedder.js';
import { CarError } from '../util/errors.js';
import { hasCapability } from './model-schema.js';
import type { InferenceService } from './service.js';

/**
 * Memory's `Embedder` backed by an embed model. The width comes from the model row's
 * `dimensions`, or from one probe call. Memory's own calls skip admission: they run inside
 * requests that may already hold a permit.
 */
export async function createEmbedder(service: InferenceService, modelId: string, signal: AbortSignal = new AbortController().signal): Promise<Embedder> {
  await service.load();
  const entry = service.registry.get(modelId);
  if (!entry) throw new CarError('not_found', `unknown embed model '${modelId}'`, { field: 'embedModel' });
  if (!hasCapability(entry.schema, 'embed')) throw new CarError('invalid', `model '${modelId}' cannot embed`, { field: 'embedModel' });
  const dimensions = entry.schema.dimensions ?? (await service.embed(['dimension probe'], { model: modelId, signal })).embeddings[0]?.length ?? 0;
  if (dimensions <= 0) throw new CarError('unavailable', `model '${modelId}' returned an empty embedding`);
  return {
    dimensions,
    async embed(texts: string[]): Promise<Float32Array[]> {
      const out = await service.embed(texts, { model: modelId, signal: new AbortController().signal });
      return out.embeddings.map((v) => Float32Array.from(v));
    },
  };
}
