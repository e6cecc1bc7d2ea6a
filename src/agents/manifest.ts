import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensureDir, writeFileAtomic } from '../util/durable-file.js';
import { CarError } from '../util/errors.js';
import { isObject } from '../util/values.js';
import type { AgentSpec } from './types.js';

/** One manifest row: the spec and the agent's own token (the file is 0600). */
export interface ManifestEntry {
  spec: AgentSpec;
  token: string;
}

/**
 * The durable list of supervised agents (`agents.json`). Read whole, written whole: a temp file
 * fsynced and renamed over, then the directory fsynced, one write at a time in call order.
 * With no path it lives in memory only.
 */
export class ManifestStore {
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly path: string | null) {}

  /** Rows as stored; an absent file has none. */
  read(): ManifestEntry[] {
    if (this.path === null) return [];
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new CarError('unavailable', `agents manifest cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new CarError('unavailable', `agents manifest is not valid JSON: ${(err as Error).message}`);
    }
    const rows = isObject(json) && Array.isArray(json.agents) ? json.agents : [];
    return rows.filter((r): r is ManifestEntry => isObject(r) && isObject(r.spec) && typeof r.spec.id === 'string' && typeof r.token === 'string');
  }

  /** Persist `entries`; resolves once the file and its directory are on disk. */
  write(entries: readonly ManifestEntry[]): Promise<void> {
    const path = this.path;
    if (path === null) return Promise.resolve();
    const text = `${JSON.stringify({ version: 1, agents: entries }, null, 2)}\n`;
    const next = this.chain.then(async () => {
      await ensureDir(dirname(path));
      await writeFileAtomic(path, text, 0o600);
    });
    this.chain = next.catch(() => {});
    return next.catch((err: unknown) => {
      throw new CarError('unavailable', `agents manifest not written: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    });
  }
}
