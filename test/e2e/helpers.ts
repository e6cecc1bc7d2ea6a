import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import WebSocket from 'ws';

/** The built binary; tests run from build/test/e2e/. */
export const BIN = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));

const STARTUP_TIMEOUT_MS = 5000;
const EXIT_TIMEOUT_MS = 5000;
const RPC_TIMEOUT_MS = 3000;

const deferred = new WeakMap<TestContext, (() => unknown)[]>();

/** Run `fn` after the test, last registered first (node:test runs `t.after` hooks first-in first-out). */
export function defer(t: TestContext, fn: () => unknown): void {
  let stack = deferred.get(t);
  if (!stack) {
    const fns: (() => unknown)[] = [];
    deferred.set(t, (stack = fns));
    t.after(async () => {
      for (const f of fns.reverse()) await f();
    });
  }
  stack.push(fn);
}

/** A fresh temp dir, removed after the test (after the processes started in it are gone). */
export function tempDir(t: TestContext, prefix = 'car-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  defer(t, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

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
  return { ...env, HOME: carHome, CAR_HOME: carHome, ...extra };
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
  const { child, stderr, exited } = spawnBin(t, { ...opts, args: ['--port', '0', ...(opts.args ?? [])] });
  const listening = await waitForLog(child, stderr, (l) => l.msg === 'listening', STARTUP_TIMEOUT_MS);
  return {
    child,
    listening,
    url: String(listening.url),
    socket: (listening.socket as string | null) ?? null,
    stderr,
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

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

export class RpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** A minimal JSON-RPC 2.0 client over one WebSocket. */
export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Resolves with the close code once the server (or we) closed the connection. */
  readonly closed: Promise<number>;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { code: number; message: string } };
      const waiter = msg.id === undefined ? undefined : this.pending.get(msg.id);
      if (!waiter) return;
      this.pending.delete(msg.id!);
      if (msg.error) waiter.reject(new RpcFailure(msg.error.code, msg.error.message));
      else waiter.resolve(msg.result);
    });
    this.closed = new Promise((resolve) => {
      ws.once('close', (code) => {
        for (const waiter of this.pending.values()) waiter.reject(new Error(`connection closed (${code})`));
        this.pending.clear();
        resolve(code);
      });
    });
  }

  /** `target` is a ws:// URL or a Unix socket path. Closed after the test. */
  static async connect(t: TestContext, target: string): Promise<RpcClient> {
    const url = target.startsWith('ws://') ? target : `ws+unix://${target}:/`;
    const ws = new WebSocket(url);
    defer(t, () => ws.terminate());
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      }),
      RPC_TIMEOUT_MS,
      `WebSocket open on ${url}`,
    );
    return new RpcClient(ws);
  }

  call(method: string, params?: unknown): Promise<unknown> {
    const id = this.nextId++;
    const result = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return withTimeout(result, RPC_TIMEOUT_MS, method);
  }

  close(): void {
    this.ws.close();
  }
}

/** auth → handshake → state.set/get round trip; returns the session.auth result. */
export async function exerciseSession(client: RpcClient, auth: Record<string, string>): Promise<Record<string, unknown>> {
  const authResult = (await client.call('session.auth', auth)) as Record<string, unknown>;
  const handshake = (await client.call('server.handshake', { protocol_version: 2 })) as Record<string, unknown>;
  assert.equal(handshake.protocol_version, 2);
  const value = { nested: [1, 'two', { three: true }] };
  assert.equal(await client.call('state.set', { key: 'e2e', value }), 'ok');
  assert.deepEqual(await client.call('state.get', { key: 'e2e' }), value);
  return authResult;
}
