import { pino, type Logger as PinoLogger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** JSON lines on stderr. Synchronous, so nothing is lost when the process exits right after logging. */
export function createLogger(level: LogLevel): PinoLogger {
  return pino({ name: 'car-server', level }, pino.destination({ dest: 2, sync: true }));
}
