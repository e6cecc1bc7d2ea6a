import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../util/durable-file.js';

export const AUTH_TOKEN_FILE = 'auth-token';
export const HOST_TOKEN_FILE = 'host-token';

/** 32 random bytes, base64url without padding: 43 characters. */
export function mintToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Create `dir` (and parents) and make it private to this user. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.platform !== 'win32') chmodSync(dir, 0o700);
}

/** Replace `path` atomically and durably with a 0600 file holding `contents`. */
export function writeSecretFile(path: string, contents: string): void {
  writeFileAtomicSync(path, contents, 0o600);
}

export function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * The token files this daemon wrote. `remove()` deletes only files that still hold what we wrote,
 * so a daemon that took over in the meantime keeps its own.
 */
export class TokenFiles {
  private readonly written = new Map<string, string>();

  /** `suffix` names a secondary daemon's own files (`auth-token-<port>`), beside the primary's. */
  constructor(
    readonly dir: string,
    private readonly suffix = '',
  ) {}

  get authTokenPath(): string {
    return join(this.dir, AUTH_TOKEN_FILE + this.suffix);
  }

  get hostTokenPath(): string {
    return join(this.dir, HOST_TOKEN_FILE + this.suffix);
  }

  /** With auth off leftover token files would only mislead clients, so they are removed. */
  write(authToken: string | null, hostToken: string | null): void {
    ensurePrivateDir(this.dir);
    if (authToken === null) removeFile(this.authTokenPath);
    else this.writeOne(this.authTokenPath, authToken);
    if (hostToken === null) removeFile(this.hostTokenPath);
    else this.writeOne(this.hostTokenPath, hostToken);
  }

  remove(): void {
    for (const [path, contents] of this.written) {
      if (readOrNull(path) === contents) removeFile(path);
    }
    this.written.clear();
  }

  private writeOne(path: string, contents: string): void {
    writeSecretFile(path, contents);
    this.written.set(path, contents);
  }
}
