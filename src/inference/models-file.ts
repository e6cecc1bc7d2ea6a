import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ensureDirDurable, writeFileAtomic } from '../util/durable-file.js';
import { CarError } from '../util/errors.js';
import { modelsFile } from './model-schema.js';

/** The rows of `models.json` as stored (unparsed); an absent file has none. */
export async function readModelRows(path: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CarError('unavailable', `models.json cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CarError('unavailable', `models.json is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = modelsFile.safeParse(json);
  if (!parsed.success) throw new CarError('unavailable', 'models.json must be {"models": [...]} or an array of models');
  return parsed.data.models;
}

/**
 * Replace `models.json` whole and durably (its directory created durably if new; temp file, fsync,
 * rename, directory fsync): a crash leaves the old file or the new one, never a torn one.
 */
export async function writeModelRows(path: string, rows: unknown[]): Promise<void> {
  await ensureDirDurable(dirname(path));
  await writeFileAtomic(path, `${JSON.stringify({ models: rows }, null, 2)}\n`);
}
