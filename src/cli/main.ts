#!/usr/bin/env node
import { homedir } from 'node:os';
import { parseCliArgs, USAGE } from './args.js';
import { Daemon, StartupAborted, StartupError } from './daemon.js';
import { loadEnvFile } from './env-file.js';
import { createLogger } from './logger.js';
import {
  envFilePath,
  InvalidCarHomeError,
  lockPath,
  resolveCarHome,
  sharedSocketPath,
  tokenDir,
  type Platform,
} from '../util/car-paths.js';
import { resolveSettings } from './settings.js';
import { installProcessHandlers } from './signals.js';
import { USAGE_EXIT_CODE, UsageError } from './usage-error.js';
import { packageVersion } from './version.js';

function hostPlatform(): Platform {
  return { os: process.platform, env: process.env, home: homedir(), cwd: process.cwd() };
}

async function main(): Promise<void> {
  const platform = hostPlatform();
  const carHome = resolveCarHome(platform);
  const args = parseCliArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (args.version) {
    process.stdout.write(`car-server ${packageVersion()}\n`);
    return;
  }

  const envFile = loadEnvFile(envFilePath(platform, carHome), process.env);
  const settings = resolveSettings(args, process.env);
  const logger = createLogger(settings.logLevel);
  for (const warning of envFile.warnings) logger.warn(warning);
  if (envFile.found) logger.debug({ applied: envFile.applied, overridden: envFile.overridden }, 'loaded $CAR_HOME/env');
  if (args.requireAuth) logger.warn('--require-auth is deprecated and has no effect: auth is on unless --no-auth is given');
  if (platform.os === 'win32' && settings.socketOverride !== undefined) {
    logger.warn('Unix sockets are not served on Windows; ignoring --socket / CAR_SERVER_SOCKET');
  }

  const daemon = new Daemon(
    {
      platform,
      settings,
      carHome,
      tokenDir: tokenDir(platform, carHome),
      sharedSocket: sharedSocketPath(platform, carHome, settings.socketOverride),
      lockPath: lockPath(platform, carHome),
      serverVersion: packageVersion(),
      env: { ...process.env },
    },
    logger,
  );
  installProcessHandlers(daemon, logger);
  try {
    await daemon.start();
  } catch (err) {
    if (err instanceof StartupAborted) return;
    logger.error({ err }, (err as Error).message);
    if (err instanceof StartupError && err.plainLine !== undefined) process.stderr.write(`car-server: ${err.plainLine}\n`);
    await daemon.stop();
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  if (err instanceof UsageError || err instanceof InvalidCarHomeError) {
    process.stderr.write(`car-server: ${err.message}\n`);
    process.exit(USAGE_EXIT_CODE);
  }
  process.stderr.write(`car-server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
