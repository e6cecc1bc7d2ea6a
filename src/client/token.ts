import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { resolveCarHome, tokenDir, type Platform } from '../util/car-paths.js';

export interface TokenLookup {
  /** Environment to read `CAR_AUTH_TOKEN`, `CAR_HOME`, `XDG_RUNTIME_DIR`, … from. */
  env: Readonly<Record<string, string | undefined>>;
  /** Read this file instead of the platform's default token file. */
  tokenFile?: string;
  platform?: NodeJS.Platform;
  home?: string;
}

function readTrimmed(path: string): string | null {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return text.length > 0 ? text : null;
  } catch {
    return null;
  }
}

/** The daemon's token directory for this environment; `null` when `CAR_HOME` is unusable. */
function tokenDirFor(lookup: Omit<TokenLookup, 'tokenFile'>): string | null {
  const p: Platform = { os: lookup.platform ?? process.platform, env: lookup.env, home: lookup.home ?? homedir(), cwd: process.cwd() };
  try {
    return tokenDir(p, resolveCarHome(p));
  } catch {
    return null;
  }
}

/** The platform default path of the daemon's `auth-token` file. */
export function defaultTokenFile(lookup: Omit<TokenLookup, 'tokenFile'>): string | null {
  const dir = tokenDirFor(lookup);
  return dir === null ? null : join(dir, 'auth-token');
}

/**
 * The token a client should present: a non-blank `CAR_AUTH_TOKEN` (trimmed), else the token file,
 * else `null`, meaning the daemon runs without auth and `session.auth` can be skipped.
 */
export function discoverToken(lookup: TokenLookup): string | null {
  const fromEnv = lookup.env.CAR_AUTH_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  const file = lookup.tokenFile ?? defaultTokenFile(lookup);
  return file === null ? null : readTrimmed(file);
}

/** The host token, read only from the `host-token` file beside `auth-token`. */
export function discoverHostToken(lookup: Omit<TokenLookup, 'tokenFile'>): string | null {
  const dir = tokenDirFor(lookup);
  return dir === null ? null : readTrimmed(join(dir, 'host-token'));
}

/** Where `discoverToken` looked, in words, for an error that says why no token was found. */
export function describeTokenLookup(lookup: TokenLookup): string {
  const file = lookup.tokenFile ?? defaultTokenFile(lookup);
  const env = lookup.env.CAR_AUTH_TOKEN === undefined ? 'unset' : 'blank';
  const where = file === null ? 'no token file (CAR_HOME is not usable)' : `the token file ${file} (missing or empty)`;
  return `tried $CAR_AUTH_TOKEN (${env}) and ${where}; the file's directory follows CAR_HOME, else XDG_RUNTIME_DIR, else ~/.config`;
}
