import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';

/** The full path of `program` in one of `dirs`, or null. */
export function findProgram(program: string, dirs: readonly string[]): string | null {
  for (const dir of dirs) {
    const path = join(dir, program);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

export function hasPath(path: string): boolean {
  return existsSync(path);
}
