import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

let tmpCounter = 0;

/** fsync a directory so a rename or a newly created entry in it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    // Some platforms cannot open or sync a directory; the rename is still atomic there.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw err;
  } finally {
    await fh?.close();
  }
}

/**
 * Replace `path` with `data` so that a reader (or a restart after a crash) sees either the old
 * file or the new one, whole: write a temp file beside it, fsync it, rename it over, fsync the
 * directory. Returns the bytes written.
 */
export async function writeFileAtomic(path: string, data: string, mode = 0o600): Promise<number> {
  const tmp = `${path}.tmp-${process.pid}-${++tmpCounter}`;
  const buf = Buffer.from(data, 'utf8');
  try {
    const fh = await open(tmp, 'w', mode);
    try {
      await fh.writeFile(buf);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fsyncDir(dirname(path));
  return buf.length;
}
