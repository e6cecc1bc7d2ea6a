import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { tokenDir, type PathEnv } from '../util/car-paths.js';

export interface TokenLookup {
  env: PathEnv & { CAR_AUTH_TOKEN?: string | undefined };
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

/** The platform default path of the daemon's `auth-token` file. */
export function defaultTokenFile(lookup: Omit<TokenLookup, 'tokenFile'>): string {
  return join(tokenDir(lookup.env, lookup.platform ?? process.platform, lookup.home ?? homedir()), 'auth-token');
}

/**
 * The token a client should present: a non-blank `CAR_AUTH_TOKEN` (trimmed), else the token file,
 * else `null`, meaning the daemon runs without auth and `session.auth` can be skipped.
 */
export function discoverToken(lookup: TokenLookup): string | null {
  const fromEnv = lookup.env.CAR_AUTH_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  return readTrimmed(lookup.tokenFile ?? defaultTokenFile(lookup));
}

/** The host token, read only from the `host-token` file beside `auth-token`. */
export function discoverHostToken(lookup: Omit<TokenLookup, 'tokenFile'>): string | null {
  return readTrimmed(join(tokenDir(lookup.env, lookup.platform ?? process.platform, lookup.home ?? homedir()), 'host-token'));
}
