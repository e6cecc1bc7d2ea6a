import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { RawClient, withTimeout } from '../helpers/raw-client.js';
import { defer } from '../helpers/temp.js';
import { scaled } from '../helpers/timing.js';

export { defer, tempDir } from '../helpers/temp.js';
export { RawClient, RpcFailure, withTimeout } from '../helpers/raw-client.js';

/** The built binary; tests run from build/test/e2e/. */
export const BIN = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));

/**
 * Bounds on waits for a child process (its "listening" line, its exit). Generous: a Node process
 * starting on a busy machine can take seconds; the waits end as soon as the event arrives.
 */
const STARTUP_TIMEOUT_MS = scaled(30_000);
const EXIT_TIMEOUT_MS = scaled(30_000);

export const tokenDirOf = (carHome: string): string => join(carHome, 'ai.parslee.car');
export const authTokenPath = (carHome: string): string => join(tokenDirOf(carHome), 'auth-token');
export const hostTokenPath = (carHome: string): string => join(tokenDirOf(carHome), 'host-token');
export const sharedSocketOf = (carHome: string): string => join(carHome, 'run', 'car-server.sock');
export const lockPathOf = (carHome: string): string => join(carHome, 'run', 'daemon.lock');

/** The parent's environment without CAR_* settings, with HOME and CAR_HOME pointing at `carHome`. */
export function cleanEnv(carHome: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('CAR_')) delete env[key];
  delete env.XDG_RUNTIME_DIR;
  return { ...env, HOME: carHome, CAR_HOME: carHome, CAR_MCP_BIND: 'disabled', ...extra };
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningDaemon {
  child: ChildProcess;
  /** The fields of the "listening" log line. */
  listening: LogLine;
  url: string;
  socket: string | null;
  stderr(): string;
  stdout(): string;
  logs(): LogLine[];
  exited: Promise<Exit>;
  waitForLog(match: (line: LogLine) => boolean, ms?: number): Promise<LogLine>;
  /** Send SIGTERM and wait for the exit. */
  stop(): Promise<Exit>;
}

interface SpawnOptions {
  carHome: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
}

function spawnBin(t: TestContext, opts: SpawnOptions): { child: ChildProcess; stderr: () => string; stdout: () => string; exited: Promise<Exit> } {
  const child = spawn(process.execPath, [BIN, ...(opts.args ?? [])], {
    env: cleanEnv(opts.carHome, opts.env),
    cwd: opts.cwd ?? opts.carHome,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  defer(t, async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { child, stderr: () => stderr, stdout: () => stdout, exited };
}

export function parseLogs(stderr: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // A partial line still being written.
    }
  }
  return lines;
}

function waitForLog(
  child: ChildProcess,
  stderr: () => string,
  match: (line: LogLine) => boolean,
  ms: number,
): Promise<LogLine> {
  return new Promise<LogLine>((resolve, reject) => {
    const timer = setTimeout(() => fail(`logged no matching line within ${ms} ms`), ms);
    const onData = (): void => {
      const line = parseLogs(stderr()).find(match);
      if (line) finish(() => resolve(line));
    };
    const onExit = (code: number | null): void => fail(`exited with ${code} before logging a matching line`);
    function fail(why: string): void {
      finish(() => reject(new Error(`car-server ${why}; stderr:\n${stderr()}`)));
    }
    function finish(settle: () => void): void {
      clearTimeout(timer);
      child.stderr!.off('data', onData);
      child.off('exit', onExit);
      settle();
    }
    child.stderr!.on('data', onData);
    child.once('exit', onExit);
    onData();
  });
}

/** Start the binary and wait for its "listening" line. Killed after the test if still running. */
export async function startDaemon(t: TestContext, opts: SpawnOptions): Promise<RunningDaemon> {
  const { child, stderr, stdout, exited } = spawnBin(t, { ...opts, args: ['--port', '0', ...(opts.args ?? [])] });
  const listening = await waitForLog(child, stderr, (l) => l.msg === 'listening', STARTUP_TIMEOUT_MS);
  return {
    child,
    listening,
    url: String(listening.url),
    socket: (listening.socket as string | null) ?? null,
    stderr,
    stdout,
    logs: () => parseLogs(stderr()),
    exited,
    waitForLog: (match, ms = STARTUP_TIMEOUT_MS) => waitForLog(child, stderr, match, ms),
    stop: () => {
      child.kill('SIGTERM');
      return withTimeout(exited, EXIT_TIMEOUT_MS, 'daemon exit after SIGTERM');
    },
  };
}

/** Run the binary to completion (for commands that exit on their own). */
export async function runToExit(
  t: TestContext,
  opts: SpawnOptions,
): Promise<Exit & { stdout: string; stderr: string }> {
  const { stderr, stdout, exited } = spawnBin(t, opts);
  const exit = await withTimeout(exited, EXIT_TIMEOUT_MS, 'car-server exit');
  return { ...exit, stdout: stdout(), stderr: stderr() };
}

/** auth → handshake → state.set/get round trip; returns the session.auth result. */
export async function exerciseSession(client: RawClient, auth: Record<string, string>): Promise<Record<string, unknown>> {
  const authResult = (await client.result('session.auth', auth)) as Record<string, unknown>;
  const handshake = (await client.result('server.handshake', { protocol_version: 2 })) as Record<string, unknown>;
  assert.equal(handshake.protocol_version, 2);
  const value = { nested: [1, 'two', { three: true }] };
  assert.equal(await client.result('state.set', { key: 'e2e', value }), 'ok');
  assert.deepEqual(await client.result('state.get', { key: 'e2e' }), value);
  return authResult;
}

/**
 * Supervised agent `id`'s own token: upserted over the wire by an owner connection (never
 * started), then read from the 0600 manifest, which is where the daemon keeps it.
 */
export async function agentTokenOf(t: TestContext, daemon: RunningDaemon, carHome: string, id: string): Promise<string> {
  const owner = await RawClient.connect(t, daemon.url);
  await owner.result('session.auth', { token: readFileSync(authTokenPath(carHome), 'utf8') });
  await owner.result('agents.upsert', { id, command: process.execPath });
  owner.close();
  const manifest = JSON.parse(readFileSync(join(carHome, 'agents.json'), 'utf8')) as { agents: { spec: { id: string }; token: string }[] };
  return manifest.agents.find((a) => a.spec.id === id)!.token;
}
