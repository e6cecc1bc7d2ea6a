import { closeSync, mkdirSync, openSync, readSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { TailRequest, TailResult } from './types.js';

type Stdio = 'ignore' | 'pipe' | number;

/** The window of one stream `tail_log` reads: its lines, and whether older ones were cut off. */
interface Window {
  lines: string[];
  cut: boolean;
}

/**
 * Where an agent's stdout and stderr go: append-only files under the log directory (the child
 * writes them itself, so nothing passes through the daemon), or, with no directory, a ring of
 * the last `tailBytes` of each stream kept in memory.
 */
export class AgentLogs {
  private readonly rings = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  private readonly ringCut = { stdout: false, stderr: false };
  readonly stdoutPath: string | null;
  readonly stderrPath: string | null;

  constructor(
    id: string,
    private readonly dir: string | null,
    private readonly tailBytes: number,
  ) {
    this.stdoutPath = dir === null ? null : join(dir, `${id}.stdout.log`);
    this.stderrPath = dir === null ? null : join(dir, `${id}.stderr.log`);
  }

  /** stdio for `spawn`, and a function closing the daemon's copies of the file descriptors once spawned. */
  open(): { stdio: [Stdio, Stdio, Stdio]; release: () => void } {
    if (this.dir === null || this.stdoutPath === null || this.stderrPath === null) {
      return { stdio: ['ignore', 'pipe', 'pipe'], release: () => {} };
    }
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const out = openSync(this.stdoutPath, 'a', 0o600);
    let err: number;
    try {
      err = openSync(this.stderrPath, 'a', 0o600);
    } catch (e) {
      closeSync(out);
      throw e;
    }
    return {
      stdio: ['ignore', out, err],
      release: () => {
        closeSync(out);
        closeSync(err);
      },
    };
  }

  /** Collect piped output into the in-memory rings. */
  collect(stdout: Readable | null, stderr: Readable | null): void {
    stdout?.on('data', (chunk: Buffer) => this.append('stdout', chunk));
    stderr?.on('data', (chunk: Buffer) => this.append('stderr', chunk));
  }

  private append(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    let buf = Buffer.concat([this.rings[stream], chunk]);
    if (buf.length > this.tailBytes) {
      buf = buf.subarray(buf.length - this.tailBytes);
      this.ringCut[stream] = true;
    }
    this.rings[stream] = buf;
  }

  tail(req: TailRequest): TailResult {
    const out = this.window('stdout');
    const err = this.window('stderr');
    const pick = (w: Window): { lines: string[]; more: boolean } => {
      const end = Math.max(0, w.lines.length - req.offset);
      const start = Math.max(0, end - req.n);
      return { lines: w.lines.slice(start, end), more: start > 0 || w.cut };
    };
    const so = pick(out);
    const se = pick(err);
    let lines: string[];
    let more: boolean;
    if (req.stream === 'stdout') ({ lines, more } = so);
    else if (req.stream === 'stderr') ({ lines, more } = se);
    else {
      const both = pick({ lines: [...out.lines, ...err.lines], cut: out.cut || err.cut });
      ({ lines, more } = both);
    }
    return {
      lines,
      stdout: so.lines,
      stderr: se.lines,
      stdout_total: out.lines.length,
      stderr_total: err.lines.length,
      stdout_path: this.stdoutPath,
      stderr_path: this.stderrPath,
      more,
    };
  }

  private window(stream: 'stdout' | 'stderr'): Window {
    const path = stream === 'stdout' ? this.stdoutPath : this.stderrPath;
    if (path === null) return splitLines(this.rings[stream], this.ringCut[stream]);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], cut: false };
      throw e;
    }
    try {
      const size = fstatSync(fd).size;
      const len = Math.min(size, this.tailBytes);
      const buf = Buffer.alloc(len);
      let read = 0;
      while (read < len) {
        const n = readSync(fd, buf, read, len - read, size - len + read);
        if (n === 0) break;
        read += n;
      }
      return splitLines(buf.subarray(0, read), size > len);
    } finally {
      closeSync(fd);
    }
  }
}

/** Lines of a tail window; when the window starts mid-stream its first, partial line is dropped. */
function splitLines(buf: Buffer, cut: boolean): Window {
  let text = buf.toString('utf8');
  if (cut) {
    const nl = text.indexOf('\n');
    text = nl < 0 ? '' : text.slice(nl + 1);
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return { lines, cut };
}
