import { createServer, Socket, type Server } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRedis, waitForRedis } from '../../store/influx-redis/redis-connection.ts';

// A Redis that answers, but slowly (a loaded machine): a TCP proxy in front of the real test
// Redis holds every reply back for REPLY_DELAY_MS. The delay is the only thing simulated.
const REPLY_DELAY_MS = 700;
let proxy: Server;
let proxyUrl: string;
const sockets = new Set<Socket>();

beforeAll(async () => {
  const target = new URL(inject('redisUrl'));
  proxy = createServer(client => {
    const upstream = new Socket();
    sockets.add(client).add(upstream);
    upstream.connect(Number(target.port), target.hostname);
    client.on('data', d => upstream.write(d));
    upstream.on('data', d => setTimeout(() => client.writable && client.write(d), REPLY_DELAY_MS));
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>(r => proxy.listen(0, '127.0.0.1', r));
  const addr = proxy.address();
  if (addr === null || typeof addr === 'string') throw new Error('proxy has no port');
  proxyUrl = `redis://127.0.0.1:${addr.port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise(r => proxy?.close(r));
});

describe('createRedis with a short command timeout against a slow Redis', () => {
  it('connects without reporting a connection error, and still times out slow commands', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) });
    // The API's rate-limit connection: 500 ms per command, so a slow Redis cannot stall requests.
    const redis = createRedis(proxyUrl, { logger: log, name: 'slow-test', commandTimeoutMs: 500 });
    try {
      expect(await waitForRedis(redis, 15_000), lines.join('')).toBe(true);
      expect(lines.join('')).not.toMatch(/connection error/i);
      // The command timeout still holds once connected: a 700 ms reply is too slow for 500 ms.
      await expect(redis.get('any')).rejects.toThrow(/Command timed out/);
      expect(redis.status).toBe('ready');
      expect(lines.join('')).not.toMatch(/connection error/i);
    } finally {
      redis.disconnect();
    }
  }, 30_000);
});
