import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceService, type InferenceOptions } from '../../src/inference/index.js';
import { removeTempDir, tempDir } from './temp.js';
import { scaled } from './timing.js';

/** A models.json in a fresh temp dir. */
export function modelsFile(rows: unknown[]): { path: string; dir: string; cleanup(): void } {
  const dir = tempDir('car-models-');
  const path = join(dir, 'models.json');
  writeFileSync(path, JSON.stringify({ models: rows }));
  return { path, dir, cleanup: () => removeTempDir(dir) };
}

export function openaiRow(id: string, endpoint: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, name: id, provider: 'local', capabilities: ['generate', 'tool_use'], source: { type: 'remote_api', endpoint, model: id }, ...extra };
}

export function anthropicRow(id: string, endpoint: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, name: id, provider: 'anthropic', capabilities: ['generate', 'tool_use'], source: { type: 'remote_api', protocol: 'anthropic', endpoint, model: id }, ...extra };
}

/** A service with quick retries (no real back-off waits) over the given models.json. */
export function service(modelsPath: string | null, overrides: Partial<InferenceOptions> = {}): InferenceService {
  return new InferenceService({
    modelsPath,
    ollamaEndpoint: null,
    discoveryTimeoutMs: scaled(2000),
    env: {},
    requestTimeoutMs: scaled(30_000),
    maxRetries: 2,
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 20,
    runnerQueueMax: 64,
    ...overrides,
  });
}

export const never = (): AbortSignal => new AbortController().signal;
