import type { Logger as PinoLogger } from 'pino';
import type { Daemon } from './daemon.js';

/**
 * SIGINT/SIGTERM stop the daemon gracefully (exit 0); a second signal exits 1 at once. Fatal
 * errors remove this run's files and exit 1.
 */
export function installProcessHandlers(daemon: Daemon, logger: PinoLogger): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting without waiting for connections');
      daemon.cleanupSync();
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal }, 'shutting down');
    daemon.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        daemon.cleanupSync();
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const onFatal = (err: unknown): void => {
    logger.fatal({ err }, 'fatal error');
    daemon.cleanupSync();
    process.exit(1);
  };
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
}
