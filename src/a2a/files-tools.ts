import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { ensureDirDurable, writeFileAtomic } from '../util/durable-file.js';
import { CarError } from '../util/errors.js';
import { isObject } from '../util/values.js';

/** A tool the listener's own runtime serves in process. */
export interface BuiltinTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  run(parameters: Record<string, unknown>): Promise<unknown>;
}

const pathParam = { type: 'string', description: 'A path relative to the served directory' };

/**
 * The basic filesystem tools an A2A listener that does not share a session offers: read, write
 * and list files under one root. Paths are confined to the root (symlinks included); files are
 * at most `maxFileBytes`; writes are atomic and fsynced before they are acknowledged.
 */
export function filesystemTools(root: string, maxFileBytes: number): BuiltinTool[] {
  const inside = async (raw: unknown, forWrite: boolean): Promise<string> => {
    if (typeof raw !== 'string' || raw === '') throw new CarError('invalid', 'path must be a non-empty string', { field: 'path' });
    const realRoot = await realpath(root);
    const target = resolve(realRoot, raw);
    const contained = (p: string): boolean => {
      const rel = relative(realRoot, p);
      return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
    };
    if (!contained(target)) throw new CarError('denied', `path '${raw}' is outside the served directory`, { field: 'path' });
    // The deepest existing ancestor, resolved, must still be inside: no escape through a symlink.
    let probe = forWrite ? dirname(target) : target;
    for (;;) {
      try {
        if (!contained(await realpath(probe))) throw new CarError('denied', `path '${raw}' leaves the served directory`, { field: 'path' });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || probe === realRoot) throw err;
        probe = dirname(probe);
      }
    }
    return target;
  };
  return [
    {
      name: 'read_file',
      description: 'Read a UTF-8 text file under the served directory.',
      parameters: { type: 'object', properties: { path: pathParam }, required: ['path'] },
      async run(p) {
        const path = await inside(p.path, false);
        const info = await stat(path);
        if (info.size > maxFileBytes) throw new CarError('limit', `file is ${info.size} bytes; at most ${maxFileBytes} are read`, { limit: maxFileBytes });
        return { path: p.path, content: await readFile(path, 'utf8') };
      },
    },
    {
      name: 'write_file',
      description: 'Write (replace) a UTF-8 text file under the served directory.',
      parameters: { type: 'object', properties: { path: pathParam, content: { type: 'string' } }, required: ['path', 'content'] },
      async run(p) {
        if (typeof p.content !== 'string') throw new CarError('invalid', 'content must be a string', { field: 'content' });
        const bytes = Buffer.byteLength(p.content);
        if (bytes > maxFileBytes) throw new CarError('limit', `content is ${bytes} bytes; at most ${maxFileBytes} are written`, { limit: maxFileBytes });
        const path = await inside(p.path, true);
        await ensureDirDurable(dirname(path));
        const existing = await lstat(path).catch(() => null);
        if (existing?.isSymbolicLink()) throw new CarError('denied', `path '${String(p.path)}' is a symbolic link`, { field: 'path' });
        return { path: p.path, bytes: await writeFileAtomic(path, p.content, 0o600) };
      },
    },
    {
      name: 'list_dir',
      description: 'List a directory under the served directory.',
      parameters: { type: 'object', properties: { path: pathParam } },
      async run(p) {
        const path = await inside(isObject(p) && typeof p.path === 'string' ? p.path : '.', false);
        const entries = await readdir(path, { withFileTypes: true });
        return {
          path: p.path ?? '.',
          entries: entries
            .map((e) => ({ name: e.name, kind: e.isDirectory() ? 'dir' : e.isFile() ? 'file' : 'other' }))
            .sort((a, b) => (a.name < b.name ? -1 : 1)),
        };
      },
    },
  ];
}
