import { join, resolve } from 'node:path';
import { parseBind } from '../a2a/bind.js';
import type { CliArgs } from './args.js';
import { LOG_LEVELS, type LogLevel } from './logger.js';
import { UsageError } from './usage-error.js';

export interface Settings {
  host: string;
  port: number;
  auth: boolean;
  /** false with --no-approvals or CAR_NO_APPROVALS=1 (the approval gate is off); absent means on. */
  approvals?: false;
  /** --socket or CAR_SERVER_SOCKET; otherwise the path rules decide. */
  socketOverride: string | undefined;
  handlerTimeoutMs: number | undefined;
  toolTimeoutMs: number | undefined;
  logLevel: LogLevel;
  /** --journal-dir as given (present only when the flag was); see resolveJournalDir. */
  journalDir?: string;
  /** --agents-manifest as given (present only when the flag was); see resolveAgentsManifest. */
  agentsManifest?: string;
  /** Memory consolidation cadence (--dream-interval / CAR_DREAM_INTERVAL), present when either is; 0 = off. */
  dreamIntervalMs?: number;
  /** CAR_INFERENCE_MAX_CONCURRENT: inference permits, present when set. */
  inferenceMaxConcurrent?: number;
  /** false with --no-dashboard; absent means the dashboard is served. */
  dashboard?: false;
  /** Where the MCP endpoint listens (--mcp-bind / CAR_MCP_BIND); null when `disabled`. */
  mcpBind: McpBind | null;
  /** --a2a-peer-listen: the peer listener's host:port; absent, the default, serves none. */
  a2aPeerBind?: string;
  /** --a2a-peer-allow-lan: that address may be off the loopback. */
  a2aPeerAllowLan?: true;
  /** --a2a-bind: the A2A server's host:port, served from the start; absent, it waits for a2a.start. */
  a2aBind?: string;
  /** --a2a-allow-lan: that address may be off the loopback. */
  a2aAllowLan?: true;
}

export interface McpBind {
  host: string;
  port: number;
  /** Named by a flag or the environment: failing to bind it fails the start (the default only warns). */
  explicit: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_PORT = 9100;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_MCP_BIND = '127.0.0.1:9102';
/** Longer delays overflow Node timers, which then fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Flags win over environment variables. Call after the env file has been merged into `env`. */
export function resolveSettings(args: CliArgs, env: Env): Settings {
  return {
    host: args.host ?? DEFAULT_HOST,
    port: args.port ?? DEFAULT_PORT,
    auth: !(args.noAuth || parseFlag(env, 'CAR_NO_AUTH')),
    ...((args.noApprovals || parseFlag(env, 'CAR_NO_APPROVALS')) && { approvals: false as const }),
    socketOverride: args.socket ?? nonEmpty(env.CAR_SERVER_SOCKET),
    handlerTimeoutMs: parseSeconds(env, 'CAR_HANDLER_TIMEOUT'),
    toolTimeoutMs: parseSeconds(env, 'CAR_TOOL_TIMEOUT'),
    logLevel: parseLogLevel(env),
    ...(args.journalDir !== undefined && { journalDir: args.journalDir }),
    ...(args.agentsManifest !== undefined && { agentsManifest: args.agentsManifest }),
    ...dreamInterval(args.dreamInterval ?? nonEmpty(env.CAR_DREAM_INTERVAL)),
    ...inferencePermits(nonEmpty(env.CAR_INFERENCE_MAX_CONCURRENT)),
    ...(args.noDashboard && { dashboard: false as const }),
    mcpBind: parseMcpBind(args.mcpBind ?? nonEmpty(env.CAR_MCP_BIND)),
    ...peerListen(args),
    ...a2aListen(args),
  };
}

/** The --a2a-bind address, checked as a2a.start checks its bind. */
function a2aListen(args: CliArgs): Pick<Settings, 'a2aBind' | 'a2aAllowLan'> {
  const bind = listenAddress(args.a2aBind, args.a2aAllowLan, '--a2a-bind', '--a2a-allow-lan');
  return bind === undefined ? {} : { a2aBind: bind, ...(args.a2aAllowLan && { a2aAllowLan: true as const }) };
}

/** The peer listener's address, checked as the listener will read it. */
function peerListen(args: CliArgs): Pick<Settings, 'a2aPeerBind' | 'a2aPeerAllowLan'> {
  const bind = listenAddress(args.a2aPeerListen, args.a2aPeerAllowLan, '--a2a-peer-listen', '--a2a-peer-allow-lan');
  return bind === undefined ? {} : { a2aPeerBind: bind, ...(args.a2aPeerAllowLan && { a2aPeerAllowLan: true as const }) };
}

/** A listener's host:port flag: no wildcard, loopback unless its LAN flag is given too. */
function listenAddress(raw: string | undefined, allowLan: boolean, flag: string, lanFlag: string): string | undefined {
  if (raw === undefined) {
    if (allowLan) throw new UsageError(`${lanFlag} needs ${flag}`);
    return undefined;
  }
  try {
    parseBind(raw, allowLan);
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message.replace('pass allow_non_loopback_bind', `add ${lanFlag}`)}`);
  }
  return raw.trim();
}

/** `host:port`, `[v6]:port` or `disabled`; absent means 127.0.0.1:9102. */
export function parseMcpBind(raw: string | undefined): McpBind | null {
  const explicit = raw !== undefined;
  const value = (raw ?? DEFAULT_MCP_BIND).trim();
  if (value.toLowerCase() === 'disabled') return null;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new UsageError(`--mcp-bind must be host:port (e.g. 127.0.0.1:9102) or disabled, got ${JSON.stringify(raw)}`);
  }
  return { host: m[1] ?? m[2]!, port, explicit };
}

/**
 * The event journal directory: `$CAR_HOME/journals` unless --journal-dir names one. In the flag a
 * leading `~/.car` stands for CAR_HOME (which may have been moved), any other leading `~` for the
 * home directory, and a relative path is taken from the working directory.
 */
export function resolveJournalDir(flag: string | undefined, where: FlagPathBase): string {
  return resolveFlagPath(flag, 'journals', where);
}

/** --agents-manifest: `$CAR_HOME/agents.json` unless given; read like --journal-dir. */
export function resolveAgentsManifest(flag: string | undefined, where: FlagPathBase): string {
  return resolveFlagPath(flag, 'agents.json', where);
}

export interface FlagPathBase {
  carHome: string;
  home: string;
  cwd: string;
}

function resolveFlagPath(flag: string | undefined, underHome: string, where: FlagPathBase): string {
  if (flag === undefined) return join(where.carHome, underHome);
  const underCarHome = /^~[\\/]\.car(?=[\\/]|$)/.exec(flag);
  if (underCarHome) return join(where.carHome, flag.slice(underCarHome[0].length));
  if (/^~(?=[\\/]|$)/.test(flag)) return join(where.home, flag.slice(1));
  return resolve(where.cwd, flag);
}

const INTERVAL_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `900`, `900s`, `15m`, `1.5h`, `250ms`; a bare number is seconds; `0` is off. */
function dreamInterval(raw: string | undefined): { dreamIntervalMs?: number } {
  if (raw === undefined) return {};
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(raw);
  const ms = m ? Math.round(Number(m[1]) * INTERVAL_UNITS[m[2] ?? 's']!) : NaN;
  if (!Number.isFinite(ms) || ms > MAX_TIMER_MS) {
    throw new UsageError(`--dream-interval must be a duration like 900, 15m or 0 (off), got ${JSON.stringify(raw)}`);
  }
  return { dreamIntervalMs: ms };
}

function inferencePermits(raw: string | undefined): { inferenceMaxConcurrent?: number } {
  if (raw === undefined) return {};
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new UsageError(`CAR_INFERENCE_MAX_CONCURRENT must be a whole number from 1 to 1024, got ${JSON.stringify(raw)}`);
  }
  return { inferenceMaxConcurrent: n };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function parseFlag(env: Env, name: string): boolean {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return false;
  const value = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new UsageError(`${name} must be 1 or 0, got ${JSON.stringify(raw)}`);
}

function parseSeconds(env: Env, name: string): number | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  const seconds = Number(raw.trim());
  const ms = Math.round(seconds * 1000);
  if (!Number.isFinite(seconds) || ms <= 0 || ms > MAX_TIMER_MS) {
    throw new UsageError(
      `${name} must be a positive number of seconds (at most ${MAX_TIMER_MS / 1000}), got ${JSON.stringify(raw)}`,
    );
  }
  return ms;
}

function parseLogLevel(env: Env): LogLevel {
  const raw = nonEmpty(env.CAR_LOG);
  if (raw === undefined) return 'info';
  const level = raw.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(`CAR_LOG must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return level as LogLevel;
}
