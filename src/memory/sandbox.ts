import { lstat, mkdir, readlink, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { MemoryError } from './types.js';

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/** The deepest existing path at or above `p`, resolved through symlinks. */
async function realExistingPrefix(p: string): Promise<string> {
  let cur = p;
  for (;;) {
    try {
      return await realpath(cur);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      const up = dirname(cur);
      if (up === cur) throw err;
      cur = up;
    }
  }
}

/**
 * Where `memory.persist` / `memory.load` may touch: a name (a relative path) under the export
 * folder. A `..` segment and an absolute path are refused outright, and whatever part of the path
 * exists is resolved through symlinks and must still be inside (so a symlink cannot lead out).
 * `persist` creates missing parent directories (0700). Messages name the path as the caller gave
 * it, never where the folder is on disk.
 */
export async function resolveSandboxed(memoryDir: string, requested: string, verb: 'persist' | 'load'): Promise<string> {
  const reject = (why: string): MemoryError =>
    new MemoryError(`memory.${verb} rejected path ${JSON.stringify(requested)}: ${why}`, 'rejected_path');
  if (requested.length === 0) throw reject('empty path');
  if (requested.includes('\0')) throw reject('NUL byte in path');
  if (requested.split(/[\\/]+/).includes('..')) throw reject("'..' is not allowed");
  if (isAbsolute(requested) || /^[A-Za-z]:[\\/]/.test(requested)) throw reject('give a name inside the export folder, not an absolute path');

  try {
    return await resolveInside(memoryDir, requested, verb, reject);
  } catch (err) {
    if (err instanceof MemoryError) throw err;
    // File-system errors name absolute paths; the code says enough.
    throw reject((err as NodeJS.ErrnoException).code ?? 'cannot be resolved');
  }
}

async function resolveInside(memoryDir: string, requested: string, verb: 'persist' | 'load', reject: (why: string) => MemoryError): Promise<string> {
  await mkdir(memoryDir, { recursive: true, mode: 0o700 });
  const root = await realpath(memoryDir);
  const lexicalRoot = resolve(memoryDir);
  const target = resolve(lexicalRoot, requested);
  if (!inside(lexicalRoot, target) && !inside(root, target)) throw reject('outside the export folder');

  const real = await realExistingPrefix(target);
  if (real !== root && !inside(root, real)) throw reject('a symlink leads outside the export folder');
  const st = await lstat(target).catch(() => null);
  if (st?.isDirectory()) throw reject('is a directory');
  if (st?.isSymbolicLink()) {
    // A dangling link is judged by where it points.
    const pointee = await realExistingPrefix(resolve(dirname(target), await readlink(target)));
    if (pointee !== root && !inside(root, pointee)) throw reject('a symlink leads outside the export folder');
  }

  if (verb === 'persist') await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  return target;
}
