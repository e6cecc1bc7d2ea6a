import { posix, win32, type PlatformPath } from 'node:path';

/**
 * What the path rules depend on. Callers pass the real values in (the binary and the client SDK
 * read them from their own process), so the rules themselves read nothing.
 */
export interface Platform {
  os: NodeJS.Platform;
  env: Readonly<Record<string, string | undefined>>;
  home: string;
  cwd: string;
}

export const APP_DIR = 'ai.parslee.car';
export const SHARED_SOCKET_NAME = 'car-server.sock';

/** `CAR_HOME` is set but not an absolute path. */
export class InvalidCarHomeError extends Error {
  override readonly name = 'InvalidCarHomeError';
}

export interface CarHome {
  dir: string;
  /** CAR_HOME was set: token files and the socket move under it. */
  explicit: boolean;
}

function pathFor(p: Platform): PlatformPath {
  return p.os === 'win32' ? win32 : posix;
}

export function resolveCarHome(p: Platform): CarHome {
  const raw = p.env.CAR_HOME;
  if (raw === undefined) return { dir: pathFor(p).join(p.home, '.car'), explicit: false };
  if (!pathFor(p).isAbsolute(raw)) {
    throw new InvalidCarHomeError(`CAR_HOME must be an absolute path, got ${JSON.stringify(raw)}`);
  }
  return { dir: raw, explicit: true };
}

/** XDG says a relative XDG_RUNTIME_DIR is invalid and must be ignored. */
function xdgRuntimeDir(p: Platform): string | null {
  const dir = p.env.XDG_RUNTIME_DIR;
  return dir && posix.isAbsolute(dir) ? dir : null;
}

/** Directory holding `auth-token` and `host-token`. */
export function tokenDir(p: Platform, carHome: CarHome): string {
  const path = pathFor(p);
  if (carHome.explicit) return path.join(carHome.dir, APP_DIR);
  switch (p.os) {
    case 'darwin':
      return path.join(p.home, 'Library', 'Application Support', APP_DIR);
    case 'win32':
      return path.join(p.env.LOCALAPPDATA || path.join(p.home, 'AppData', 'Local'), APP_DIR);
    default: {
      const xdg = xdgRuntimeDir(p);
      return xdg ? path.join(xdg, APP_DIR) : path.join(p.home, '.config', APP_DIR);
    }
  }
}

/** The socket every client looks for first; `null` on Windows (no Unix socket there). */
export function sharedSocketPath(p: Platform, carHome: CarHome, override: string | undefined): string | null {
  if (p.os === 'win32') return null;
  const path = pathFor(p);
  if (override) return path.resolve(p.cwd, override);
  if (carHome.explicit) return path.join(carHome.dir, 'run', SHARED_SOCKET_NAME);
  const xdg = xdgRuntimeDir(p);
  if (xdg) return path.join(xdg, APP_DIR, SHARED_SOCKET_NAME);
  return path.join(carHome.dir, 'run', SHARED_SOCKET_NAME);
}

/** Where a daemon that is not primary binds, so it never displaces the primary's socket. */
export function perPortSocketPath(p: Platform, sharedPath: string, port: number): string {
  const path = pathFor(p);
  return path.join(path.dirname(sharedPath), `car-server-${port}.sock`);
}

export function lockPath(p: Platform, carHome: CarHome): string {
  return pathFor(p).join(carHome.dir, 'run', 'daemon.lock');
}

export function envFilePath(p: Platform, carHome: CarHome): string {
  return pathFor(p).join(carHome.dir, 'env');
}
