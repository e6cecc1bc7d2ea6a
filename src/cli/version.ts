import { readFileSync } from 'node:fs';

/** The package version, read from the package.json next to dist/. */
export function packageVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const version = (pkg as { version?: unknown }).version;
    if (typeof version === 'string') return version;
  } catch {
    // Running from somewhere without the package.json beside it.
  }
  return '0.0.0';
}
