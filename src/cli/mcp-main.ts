#!/usr/bin/env node
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStdioHost, serveStdio } from '../mcp/stdio.js';
import { DEFAULT_MAX_ACTIONS } from '../engine/verify/index.js';
import { DEFAULT_POLICY_FILE_MAX_BYTES } from '../engine/policy/index.js';
import { envFilePath, InvalidCarHomeError, resolveCarHome, type Platform } from '../util/car-paths.js';
import { loadEnvFile } from './env-file.js';
import { createLogger, LOG_LEVELS, type LogLevel } from './logger.js';
import { USAGE_EXIT_CODE, UsageError } from './usage-error.js';
import { packageVersion } from './version.js';

export const MCP_USAGE = `Usage: car-mcp [options]

Serves CAR's MCP tools (memory, skills, verify, simulate, equivalent, optimize, policy_check)
over stdio, for MCP clients that launch a command.

This process keeps a memory graph of its own ($CAR_HOME/mcp/): only memory_add_fact is written
to disk; save_knowledge, save_procedural, delete, intervene and skill_ingest last as long as the
process. Several car-mcp processes may share that directory: each fact is added under a lock
after re-reading the file. It does not share memory with a running car-server. To share the
daemon's memory graph with its WebSocket clients, point the MCP client at the daemon's HTTP
endpoint instead:
http://127.0.0.1:9102/mcp (car-server --mcp-bind / CAR_MCP_BIND).

Options:
  --no-persist     keep memory_add_fact facts in memory too (no file)
  -h, --help       show this help
  --version        print the version

Environment:
  CAR_HOME   state root, absolute path (default ~/.car); policies are read from $CAR_HOME/policies
  CAR_LOG    log level on stderr (default warn)
`;

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      strict: true,
      allowPositionals: false,
      options: {
        'no-persist': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('.')[0]} (see --help)`);
  }
  if (values.help) return void process.stdout.write(MCP_USAGE);
  if (values.version) return void process.stdout.write(`car-mcp ${packageVersion()}\n`);

  const platform: Platform = { os: process.platform, env: process.env, home: homedir(), cwd: process.cwd() };
  const carHome = resolveCarHome(platform);
  loadEnvFile(envFilePath(platform, carHome), process.env);
  const level = (process.env.CAR_LOG ?? 'warn').trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`CAR_LOG must be one of ${LOG_LEVELS.join(', ')}`);
  const logger = createLogger(level as LogLevel);

  const host = await openStdioHost({
    version: packageVersion(),
    memoryDir: values['no-persist'] ? null : join(carHome.dir, 'mcp'),
    policyDirs: [join(carHome.dir, 'policies')],
    limits: { maxVerifyActions: DEFAULT_MAX_ACTIONS, resourcePageSize: 100, policyFileMaxBytes: DEFAULT_POLICY_FILE_MAX_BYTES },
    logger,
  });
  const session = await serveStdio(host, process.stdin, process.stdout);
  let closing = false;
  const stop = (): void => {
    if (closing) return;
    closing = true;
    session.close();
    void session.server
      .close()
      .catch(() => {})
      .then(() => host.close())
      .finally(() => process.exit(0));
  };
  process.stdin.once('end', stop);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  if (err instanceof UsageError || err instanceof InvalidCarHomeError) {
    process.stderr.write(`car-mcp: ${err.message}\n`);
    process.exit(USAGE_EXIT_CODE);
  }
  process.stderr.write(`car-mcp: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
