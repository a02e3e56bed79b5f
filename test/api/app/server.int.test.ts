import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { startApiServer } from '../../../api/server.ts';
import { silentLogger } from '../../../collector/logger.ts';
import { testConfig } from './helpers.ts';

// server.ts for real: connections, listen on a free port, answer over TCP, close cleanly.

describe('startApiServer', () => {
  it('listens, answers health over HTTP and closes its connections', async () => {
    const prefix = `t_${randomUUID().slice(0, 8)}`;
    const config = testConfig({
      REDIS_URL: inject('redisUrl'),
      INFLUX_URL: inject('influxUrl'),
      REDIS_PREFIX: prefix,
      AUTH_MODE: 'none',
      AUTH_NONE_TENANT: 'nobody',
    });
    const calls: string[] = [];
    const server = await startApiServer(config, {
      log: silentLogger(),
      port: 0,
      host: '127.0.0.1',
      handleSignals: false,
      env: { COLLECTOR_POLL_INTERVAL_MS: '5000' },
      // stands in for the control half: routes under /api/v1, started after listen, closed first
      extension: infra => ({
        routes: [
          (async app =>
            void app.get('/ext/ping', async req => ({
              tenant: req.caller.tenant,
              redis: infra.redis.status,
            }))) satisfies FastifyPluginAsyncZod,
        ],
        start: async () => void calls.push('start'),
        close: async () => void calls.push(`close(redis ${infra.redis.status})`),
      }),
    });
    try {
      expect(calls).toEqual(['start']);
      expect(await (await fetch(`${server.url}/api/v1/ext/ping`)).json()).toEqual({
        tenant: 'nobody',
        redis: 'ready',
      });
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const ready = await fetch(`${server.url}/health/ready`);
      expect(ready.status).toBe(200);
      const summary = await fetch(`${server.url}/api/v1/fleet/summary`);
      expect(summary.status).toBe(200);
      expect(await summary.json()).toMatchObject({
        tenant: 'nobody',
        totals: { miners: 0 },
        hint: expect.stringMatching(/no miners yet/),
      });
    } finally {
      await server.close();
    }
    await server.closed;
    await expect.poll(() => server.infra.redis.status, { timeout: 2_000 }).toBe('end');
    expect(calls).toEqual(['start', 'close(redis ready)']);
    const r = new Redis(inject('redisUrl'));
    const left = await r.keys(`${prefix}:*`);
    if (left.length > 0) await r.del(...left);
    r.disconnect();
  });

  it('bos-fleet api --help documents the options', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      join(import.meta.dirname, '../../../bin/bos-fleet.ts'),
      'api',
      '--help',
    ]);
    expect(stdout).toMatch(/--port <value>/);
    expect(stdout).toMatch(/AUTH_JWKS_URL/);
  });
});
