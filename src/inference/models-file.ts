import * as fsp from 'node:fs/promises';
import { dirname } from 'node:path';
import { CarError } from '../util/errors.js';
import { modelsFile } from './model-schema.js';

/** The file operations the writer uses; tests pass a recording stand-in. */
export interface ModelsFs {
  readFile(path: string, encoding: 'utf8'): Promise<string>;
  open(path: string, flags: string, mode?: number): Promise<{ writeFile(data: string): Promise<void>; sync(): Promise<void>; close(): Promise<void> }>;
  rename(from: string, to: string): Promise<void>;
  mkdir(path: string, options: { recursive: true; mode?: number }): Promise<unknown>;
  unlink(path: string): Promise<void>;
}

export const nodeFs: ModelsFs = fsp as unknown as ModelsFs;

/** The rows of `models.json` as stored (unparsed); an absent file has none. */
export async function readModelRows(path: string, fs: ModelsFs = nodeFs): Promise<unknown[]> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
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

let counter = 0;

/**
 * Replace `models.json` whole: write a temp file beside it, fsync it, rename it over the old one,
 * fsync the directory. A crash leaves the old file or the new one, never a torn one.
 */
export async function writeModelRows(path: string, rows: unknown[], fs: ModelsFs = nodeFs): Promise<void> {
  const dir = dirname(path);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}-${++counter}`;
  try {
    const fh = await fs.open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify({ models: rows }, null, 2)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.unlink(tmp).catch(() => {});
    throw err;
  }
  const dh = await fs.open(dir, 'r').catch(() => null);
  if (dh) {
    try {
      await dh.sync();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw err;
    } finally {
      await dh.close();
    }
  }
}
