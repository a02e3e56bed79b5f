import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Paths that may carry secrets anywhere in our log objects. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
  'credentials',
  '*.credentials',
  'secret',
  '*.secret',
];

export interface LoggerSettings {
  level?: string;
  /** File descriptor to write to: 1 for services, 2 for the stdio MCP server (stdout is the protocol). */
  fd?: 1 | 2;
  name?: string;
}

/** JSON logs in production; pretty logs when the destination is a terminal. */
export function createLogger(settings: LoggerSettings = {}): Logger {
  const fd = settings.fd ?? 1;
  const stream = fd === 2 ? process.stderr : process.stdout;
  const options: LoggerOptions = {
    level: settings.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: settings.name ? { component: settings.name } : undefined,
  };
  if (stream.isTTY && process.env.NODE_ENV !== 'production') {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { destination: fd, colorize: true } },
    });
  }
  return pino(options, pino.destination({ fd, sync: false }));
}

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
