import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../../runtime/logger.ts';

/**
 * One way to open Redis for a long-running service:
 *  - reconnects forever with capped exponential backoff + jitter (never gives up: Redis coming
 *    back must not need a restart of ours);
 *  - fails fast while disconnected (no offline queue, one retry per request), so a poll cycle
 *    never piles up behind a dead Redis: callers get an error, count it and rebuild state on
 *    the next cycle;
 *  - logs state transitions once (down / back) instead of one line per reconnect attempt, and
 *    never the password: URLs are logged through redactRedisUrl().
 * BullMQ workers need `maxRetriesPerRequest: null` and an offline queue: pass them in `overrides`.
 */
export interface RedisConnectionOptions {
  logger?: Logger;
  /** CLIENT SETNAME, shows up in CLIENT LIST */
  name?: string;
  /** don't connect until connect() is called (default false) */
  lazyConnect?: boolean;
  /** backoff cap between reconnect attempts (default 5000 ms) */
  maxReconnectDelayMs?: number;
  /** a reply slower than this fails the command (default 10000 ms; 0 disables) */
  commandTimeoutMs?: number;
  overrides?: RedisOptions;
}

/** The URL with its password (and username) replaced, for logs and error messages. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis://[unparseable url]';
  }
}

const CONNECT_TIMEOUT_MS = 5_000;

export function createRedis(url: string, opts: RedisConnectionOptions = {}): Redis {
  const log = opts.logger;
  const maxDelay = opts.maxReconnectDelayMs ?? 5_000;
  const commandTimeout = opts.commandTimeoutMs ?? 10_000;
  const redis = new Redis(url, {
    lazyConnect: opts.lazyConnect ?? false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: CONNECT_TIMEOUT_MS,
    ...(commandTimeout > 0 ? { commandTimeout } : {}),
    ...(opts.name ? { connectionName: opts.name } : {}),
    retryStrategy: times =>
      Math.min(maxDelay, 100 * 2 ** Math.min(times, 16)) * (0.75 + Math.random() * 0.25),
    ...opts.overrides,
  });
  if (commandTimeout > 0) boundHandshakeSeparately(redis, commandTimeout);
  const where = redactRedisUrl(url);
  let down = false;
  // An 'error' listener must exist or ioredis reports every failure as an unhandled error event.
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    // ioredis messages carry host:port and the reply text, never the AUTH arguments.
    log?.warn({ redis: where, err: err.message }, 'Redis connection error; reconnecting in the background');
  });
  redis.on('ready', () => {
    if (down) log?.info({ redis: where }, 'Redis connection restored');
    else log?.debug({ redis: where }, 'Redis connected');
    down = false;
  });
  return redis;
}

/**
 * ioredis applies `commandTimeout` to the connection's own setup too (HELLO, CLIENT SETNAME, the
 * INFO ready check), and a timeout there is fatal to the connection: with a short timeout (the
 * API's 500 ms rate-limit connection) a Redis that is merely slow, as on a loaded machine, was
 * reported as a connection error and the client reconnected forever without becoming ready.
 * The setup gets the connect timeout instead; commands once ready keep the short one.
 */
function boundHandshakeSeparately(redis: Redis, commandTimeoutMs: number): void {
  const handshakeMs = Math.max(commandTimeoutMs, CONNECT_TIMEOUT_MS);
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    redis.options.commandTimeout = redis.status === 'ready' ? commandTimeoutMs : handshakeMs;
    return send(...args);
  }) as Redis['sendCommand'];
}

/** Wait until the client is ready (e.g. at startup with the offline queue disabled). */
export async function waitForRedis(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return true;
  if (redis.status === 'wait') redis.connect().catch(() => undefined); // lazyConnect: reconnects continue in the background
  return await new Promise(resolve => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ok);
    };
    const onReady = (): void => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.on('ready', onReady);
  });
}
