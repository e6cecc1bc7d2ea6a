import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { removeTempDir, tempDir } from './temp.js';
import { scaled } from './timing.js';

const require = createRequire(import.meta.url);
/** The aimock CLI (`llmock` bin: flag-driven, `-f` fixtures, `-p 0` for a free port). */
const CLI = join(dirname(require.resolve('@copilotkit/aimock')), 'cli.js');

export interface Fixture {
  match: Record<string, unknown>;
  response: Record<string, unknown>;
  [option: string]: unknown;
}

/**
 * An aimock server in its own process on 127.0.0.1: real HTTP and SSE for the OpenAI, Anthropic
 * and Ollama protocols, driven by fixtures and its `/__aimock` control API.
 */
export class AimockServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly dir: string,
  ) {}

  static async start(fixtures: Fixture[], args: string[] = []): Promise<AimockServer> {
    const dir = tempDir('aimock-');
    const file = join(dir, 'fixtures.json');
    writeFileSync(file, JSON.stringify({ fixtures }));
    const child = spawn(process.execPath, [CLI, '-p', '0', '-h', '127.0.0.1', '-f', file, '--log-level', 'info', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`aimock did not start:\n${out}`));
      }, scaled(15_000));
      const onData = (d: Buffer): void => {
        out += d.toString();
        const m = /listening on (http:\/\/[^\s]+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          child.stderr!.off('data', onData);
          resolve(m[1]!);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`aimock exited with ${code}:\n${out}`));
      });
    });
    child.stdout!.resume();
    child.stderr!.resume();
    return new AimockServer(child, url, dir);
  }

  /** OpenAI-compatible base URL. */
  get v1(): string {
    return `${this.url}/v1`;
  }

  private async control(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.url}/__aimock${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`aimock ${method} ${path}: HTTP ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  addFixtures(fixtures: Fixture[]): Promise<unknown> {
    return this.control('POST', '/fixtures', { fixtures });
  }

  /** The next request (whatever it is) fails with `status` once. */
  nextError(status: number, message = 'injected'): Promise<unknown> {
    return this.control('POST', '/error', { status, body: { message, type: status === 429 ? 'rate_limit_error' : 'server_error' } });
  }

  async journal(): Promise<{ method: string; path: string; body?: unknown; response?: { status?: number } }[]> {
    const out = (await this.control('GET', '/journal')) as unknown;
    return (Array.isArray(out) ? out : ((out as { entries?: unknown[] }).entries ?? [])) as never;
  }

  resetJournal(): Promise<unknown> {
    return this.control('POST', '/reset/journal');
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
