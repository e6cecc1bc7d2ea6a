import { join, win32 } from 'node:path';

/** Environment variables the path rules read; callers pass them in explicitly. */
export interface PathEnv {
  CAR_HOME?: string | undefined;
  XDG_RUNTIME_DIR?: string | undefined;
  LOCALAPPDATA?: string | undefined;
  CAR_SERVER_SOCKET?: string | undefined;
}

const APP_DIR = 'ai.parslee.car';

/** Where the daemon writes `auth-token` and `host-token` on this platform. */
export function tokenDir(env: PathEnv, platform: NodeJS.Platform, home: string): string {
  if (env.CAR_HOME) return join(env.CAR_HOME, APP_DIR);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', APP_DIR);
  if (platform === 'win32') return win32.join(env.LOCALAPPDATA ?? win32.join(home, 'AppData', 'Local'), APP_DIR);
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, APP_DIR);
  return join(home, '.config', APP_DIR);
}

/** The state root: `$CAR_HOME`, or `~/.car`. */
export function carHome(env: PathEnv, home: string): string {
  return env.CAR_HOME || join(home, '.car');
}

/** The shared Unix socket path; `null` on Windows. */
export function defaultSocketPath(env: PathEnv, platform: NodeJS.Platform, home: string): string | null {
  if (env.CAR_SERVER_SOCKET) return env.CAR_SERVER_SOCKET;
  if (platform === 'win32') return null;
  if (env.CAR_HOME) return join(env.CAR_HOME, 'run', 'car-server.sock');
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, APP_DIR, 'car-server.sock');
  return join(home, '.car', 'run', 'car-server.sock');
}
