import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCALE = Number(process.env.CAR_TEST_TIMEOUT_SCALE ?? 1);
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
    const dir = mkdtempSync(join(tmpdir(), 'canned-'));
    const file = join(dir, 'routes.json');
    writeFileSync(file, JSON.stringify(routes));
    const child = spawn(process.execPath, [MAIN, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('canned server did not start')), 10_000 * SCALE);
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
    rmSync(this.dir, { recursive: true, force: true });
  }
}
