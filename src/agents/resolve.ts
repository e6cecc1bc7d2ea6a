import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, sep } from 'node:path';

/** Where an executable name leads: an absolute path through PATH, or why not. */
export function findExecutable(name: string, path: string | undefined): { path: string } | { reason: string } {
  if (name.includes('/') || name.includes(sep)) {
    if (!isAbsolute(name)) return { reason: `'${name}' must be an absolute path or a bare name found on PATH` };
    return executable(name) ? { path: name } : { reason: `'${name}' is not an executable file` };
  }
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (executable(candidate)) return { path: candidate };
  }
  return { reason: `'${name}' was not found on PATH` };
}

/**
 * Resolve an agent's `interpreter` once: found on PATH, executable, and not under /tmp (a
 * world-writable place anyone could have planted it in). Returns the real path.
 */
export function resolveInterpreter(name: string, path: string | undefined): { path: string } | { reason: string } {
  const found = findExecutable(name, path);
  if (!('path' in found)) return found;
  const real = realpathSync(found.path);
  if (real === '/tmp' || real.startsWith('/tmp/') || found.path.startsWith('/tmp/')) {
    return { reason: `interpreter '${name}' resolves under /tmp, which is refused` };
  }
  if (!executable(real)) return { reason: `interpreter '${name}' is not executable` };
  return { path: real };
}

function executable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A working directory that exists, or why not. */
export function checkDir(dir: string): string | null {
  try {
    return statSync(dir).isDirectory() ? null : `cwd '${dir}' is not a directory`;
  } catch {
    return `cwd '${dir}' does not exist`;
  }
}
