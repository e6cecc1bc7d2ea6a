import { EventEmitter } from 'node:events';
import { after, before } from 'node:test';
import type { ClientOptions } from 'ws';
import { z } from 'zod';
import {
  ServerState,
  ServerStateConfig,
  defineMethod,
  listenTcp,
  type Listener,
  type MethodSpec,
  type ServerStateOptions,
  type ToolOutcome,
} from '../../src/index.js';
import { rawClient, type RawClient } from './raw-client.js';
import { scaled } from './timing.js';

/** What the embedder test methods observed, for assertions made outside the connection. */
export interface Hooks {
  /** Abort reasons seen by `test.sleep` handlers, by tag. */
  aborted: Map<string, unknown>;
  /** Every outcome promise `test.callback` started, in order. */
  outcomes: Promise<ToolOutcome>[];
  /** Result of the last `test.flood`. */
  flood: { sent: number; refused: boolean; done: boolean };
  /** Emits `held` / `admitted` (tag) when a `test.hold` / `test.admitted` handler starts waiting. */
  events: EventEmitter;
  /** Finishes the `test.hold` or `test.admitted` call holding this tag. */
  release: Map<string, () => void>;
}

export function newHooks(): Hooks {
  return {
    aborted: new Map(),
    outcomes: [],
    flood: { sent: 0, refused: false, done: false },
    events: new EventEmitter(),
    release: new Map(),
  };
}

/** Sleep `ms`, or reject with the signal's reason as soon as it aborts (no timer is left behind). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Methods an embedder might add; the wire tests use them for timing, errors and callbacks. */
export function testMethods(hooks: Hooks): MethodSpec[] {
  return [
    defineMethod({
      name: 'test.sleep',
      summary: 'Sleep for ms, then answer with the tag.',
      params: z.object({ ms: z.number().nonnegative(), tag: z.string().optional() }),
      async handler(p, ctx) {
        const tag = p.tag ?? String(p.ms);
        const signal = ctx.signal;
        signal.addEventListener('abort', () => hooks.aborted.set(tag, signal.reason), { once: true });
        await sleep(p.ms, signal);
        return tag;
      },
    }),
    defineMethod({
      name: 'test.throw',
      summary: 'Throw a plain Error with the given message.',
      params: z.object({ message: z.string() }),
      handler(p) {
        throw new Error(p.message);
      },
    }),
    defineMethod({
      name: 'test.callback',
      summary: 'Run a tool on the calling client through its WsToolExecutor and answer with the outcome.',
      params: z.object({
        tool: z.string(),
        parameters: z.record(z.string(), z.unknown()).optional(),
        action_id: z.string().optional(),
        timeout_ms: z.number().optional(),
        session_id: z.string().optional(),
        attempt: z.number().optional(),
      }),
      handler(p, ctx) {
        const outcome = ctx.session.toolExecutor.execute({
          tool: p.tool,
          parameters: p.parameters ?? {},
          actionId: p.action_id,
          timeoutMs: p.timeout_ms,
          sessionId: p.session_id,
          attempt: p.attempt,
        });
        hooks.outcomes.push(outcome);
        return outcome;
      },
    }),
    defineMethod({
      name: 'test.hold',
      summary: 'Answer with the tag once the test releases it (or fail when the call is abandoned).',
      params: z.object({ tag: z.string() }),
      handler(p, ctx) {
        const signal = ctx.signal;
        return new Promise((resolve, reject) => {
          hooks.release.set(p.tag, () => resolve(p.tag));
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
          hooks.events.emit('held', p.tag);
        });
      },
    }),
    defineMethod({
      name: 'test.admitted',
      summary: 'Hold an inference permit until the test releases the tag, or the call is abandoned.',
      params: z.object({ tag: z.string(), deadline_ms: z.number().positive().optional() }),
      admission: true,
      deadlineMs: (p, state) => p.deadline_ms ?? state.config.handlerTimeoutMs,
      handler(p, ctx) {
        const signal = ctx.signal;
        return new Promise((resolve, reject) => {
          hooks.release.set(p.tag, () => resolve(p.tag));
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
          hooks.events.emit('admitted', p.tag);
        });
      },
    }),
    defineMethod({
      name: 'test.flood',
      summary: 'Send count notifications of size bytes, one per event-loop turn, until one is refused.',
      params: z.object({ count: z.number().int().positive(), size: z.number().int().positive() }),
      async handler(p, ctx) {
        const payload = 'x'.repeat(p.size);
        hooks.flood = { sent: 0, refused: false, done: false };
        for (let i = 0; i < p.count; i++) {
          if (!ctx.session.channel.notify('test.blob', { i, payload })) {
            hooks.flood.refused = true;
            break;
          }
          hooks.flood.sent++;
          await new Promise((resolve) => setImmediate(resolve));
        }
        hooks.flood.done = true;
        return { sent: hooks.flood.sent };
      },
    }),
  ];
}

export const AUTH_TOKEN = 'tok';
export const HOST_TOKEN = 'host';

export class TestServer {
  readonly clients: RawClient[] = [];

  constructor(
    readonly state: ServerState,
    readonly listener: Listener,
    readonly hooks: Hooks,
  ) {}

  get url(): string {
    return `ws://${this.listener.address}/`;
  }

  /** Open a (not yet authenticated) client; closed by `close()`. */
  async connect(options: ClientOptions = {}): Promise<RawClient> {
    const c = await rawClient(this.url, options);
    this.clients.push(c);
    return c;
  }

  /**
   * The token of supervised agent `id`, upserting it (never started) if it is new. Only that token
   * binds the agent id in `session.auth`.
   */
  async agentToken(id: string): Promise<string> {
    const known = this.state.agents.tokenFor(id);
    if (known !== undefined) return known;
    await this.state.agents.upsert({ id, command: process.execPath });
    return this.state.agents.tokenFor(id)!;
  }

  /**
   * Open a client and authenticate it (and optionally handshake): with the daemon token, or, when
   * `params.agent_id` is given, with that agent's own token.
   */
  async authed(opts: { handshake?: boolean; params?: Record<string, unknown> } = {}): Promise<RawClient> {
    const c = await this.connect();
    const agentId = opts.params?.agent_id;
    const token = typeof agentId === 'string' && this.state.config.authEnabled ? await this.agentToken(agentId) : AUTH_TOKEN;
    const auth = await c.call('session.auth', { token, ...opts.params });
    if (!('result' in auth)) throw new Error(`auth failed: ${JSON.stringify(auth)}`);
    if (opts.handshake) await c.result('server.handshake', { protocol_version: 2 });
    return c;
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
    await this.state.close();
    await this.listener.close();
  }
}

/**
 * A real daemon on 127.0.0.1 with a random port, tokens `tok`/`host`, and the test methods. Its
 * deadlines are generous (and scaled by CAR_TEST_TIMEOUT_SCALE) so that no test races them by
 * accident; a test about a timeout sets a short one itself, on a server of its own.
 */
export async function startServer(overrides: Partial<ServerStateOptions> = {}): Promise<TestServer> {
  const hooks = newHooks();
  const config = new ServerStateConfig({
    authToken: AUTH_TOKEN,
    hostToken: HOST_TOKEN,
    handlerTimeoutMs: scaled(60_000),
    toolTimeoutMs: scaled(30_000),
    toolCallbackGraceMs: 50,
    ...overrides,
  }).withMethods(...testMethods(hooks));
  const state = ServerState.embedded(config);
  const listener = await listenTcp(state, { host: '127.0.0.1', port: 0 });
  return new TestServer(state, listener, hooks);
}

/**
 * A daemon for the enclosing `describe` (or file): started before its first test, closed after
 * its last. Use the returned value like a TestServer once the tests run.
 */
export function useServer(overrides: Partial<ServerStateOptions> | (() => Partial<ServerStateOptions>) = {}): TestServer {
  let current: TestServer | undefined;
  before(async () => {
    current = await startServer(typeof overrides === 'function' ? overrides() : overrides);
  });
  after(async () => {
    await current?.close();
    current = undefined;
  });
  return new Proxy({} as TestServer, {
    get(_target, key) {
      if (current === undefined) throw new Error(`useServer: the server is used outside its tests (reading ${String(key)})`);
      const value = Reflect.get(current, key, current) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(current) : value;
    },
  });
}

/** Resolves when the `test.hold` / `test.admitted` handlers with these tags are all waiting. */
export function waitForHeld(hooks: Hooks, tags: readonly string[], event: 'held' | 'admitted' = 'held'): Promise<void> {
  const missing = new Set(tags.filter((t) => !hooks.release.has(t)));
  if (missing.size === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const on = (tag: string): void => {
      missing.delete(tag);
      if (missing.size > 0) return;
      hooks.events.off(event, on);
      resolve();
    };
    hooks.events.on(event, on);
  });
}

/** Let the held call with this tag answer. */
export function releaseHeld(hooks: Hooks, tag: string): void {
  const release = hooks.release.get(tag);
  if (!release) throw new Error(`no held call '${tag}'`);
  hooks.release.delete(tag);
  release();
}
