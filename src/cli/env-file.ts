import { readFileSync } from 'node:fs';
import { UsageError } from './usage-error.js';

export interface EnvFileEntries {
  entries: [key: string, value: string][];
  /** One message per line that was skipped, with its line number. */
  warnings: string[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `KEY=VALUE` lines; blank lines and `#` comments are skipped, `export ` and matching quotes tolerated. */
export function parseEnvFile(text: string): EnvFileEntries {
  const entries: [string, string][] = [];
  const warnings: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (line.startsWith('export ')) line = line.slice('export '.length).trimStart();
    const eq = line.indexOf('=');
    const key = eq === -1 ? '' : line.slice(0, eq).trim();
    if (!KEY.test(key)) {
      warnings.push(`line ${index + 1}: expected KEY=VALUE`);
      return;
    }
    entries.push([key, unquote(line.slice(eq + 1).trim())]);
  });
  return { entries, warnings };
}

function unquote(value: string): string {
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) {
    return value.slice(1, -1);
  }
  return value;
}

export interface EnvFileResult {
  found: boolean;
  applied: string[];
  /** Keys already present in the environment, which wins over the file. */
  overridden: string[];
  warnings: string[];
}

/**
 * Merge the file into `env` without replacing variables that are already set (within the file, the
 * last line for a key wins). CAR_HOME is never taken from the file: the file's own location depends on it.
 */
export function loadEnvFile(path: string, env: Record<string, string | undefined>): EnvFileResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { found: false, applied: [], overridden: [], warnings: [] };
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  const { entries, warnings } = parseEnvFile(text);
  const result: EnvFileResult = { found: true, applied: [], overridden: [], warnings: warnings.map((w) => `${path} ${w}`) };
  for (const [key, value] of new Map(entries)) {
    if (key === 'CAR_HOME') {
      result.warnings.push(`${path}: CAR_HOME cannot be set from the env file it lives in; ignored`);
    } else if (env[key] !== undefined) {
      result.overridden.push(key);
    } else {
      env[key] = value;
      result.applied.push(key);
    }
  }
  return result;
}
