import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeTempDir, tempDir } from './temp.js';
import { scaled } from './timing.js';

const MAIN = fileURLToPath(new URL('./canned-http-main.js', import.meta.url));

export interface CannedRoute {
  method: string;
  path: string;
  bodyIncludes?: string;
  status?: number;
  json?: unknown;
  sse?: { event?: string; data: unknown }[];
}

/** `canned-http-main` in its own process on 127.0.0.1. */
export class CannedHttp {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly dir: string,
  ) {}

  static async start(routes: CannedRoute[]): Promise<CannedHttp> {
    const dir = tempDir('canned-');
    const file = join(dir, 'routes.json');
    writeFileSync(file, JSON.stringify(routes));
    const child = spawn(process.execPath, [MAIN, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('canned server did not start')), scaled(10_000));
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`canned server exited with ${code}`));
      });
    });
    return new CannedHttp(child, url, dir);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await exited;
    }
    removeTempDir(this.dir);
  }
}
