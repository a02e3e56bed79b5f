import { farmOf } from '../../store/backends.ts';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { startApiServer } from '../../../api/server.ts';
import { silentLogger } from '../../../runtime/logger.ts';
import { redisKeys } from '../../../store/influx-redis/redis-keys.ts';
import { encodeWindowStat } from '../../../collector/window-stats.ts';
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
              redis: farmOf(infra.store).redis.status,
            }))) satisfies FastifyPluginAsyncZod,
        ],
        start: async () => void calls.push('start'),
        close: async () => void calls.push(`close(redis ${farmOf(infra.store).redis.status})`),
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
      // without aggregates the summary counted the miner table, loaded by the loader thread
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(Number(/^bosfleet_api_miner_table_load_seconds_count\{result="ok"\} (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
    await server.closed;
    await expect.poll(() => farmOf(server.infra.store).redis.status, { timeout: 2_000 }).toBe('end');
    expect(calls).toEqual(['start', 'close(redis ready)']);
    const r = new Redis(inject('redisUrl'));
    const left = await r.keys(`${prefix}:*`);
    if (left.length > 0) await r.del(...left);
    r.disconnect();
  });

  it('listens only once the recent window statistics are read ahead into memory', async () => {
    const prefix = `t_${randomUUID().slice(0, 8)}`;
    const keys = redisKeys(prefix);
    const r = new Redis(inject('redisUrl'));
    const HOUR = 3_600_000;
    const start = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
    const stat = {
      site: 's1',
      model: 'S19',
      polls: 360,
      reached: 360,
      temp_chip_max_max_c: 80,
      temp_board_max_c: 70,
    };
    const mean = (v: number): { sum: number; n: number } => ({ sum: v * 360, n: 360 });
    await r.sadd(keys.tenants(), 'acme');
    await r.hset(
      keys.windowStats('acme', '1h', start),
      'm-1|c1.run',
      encodeWindowStat({
        ...stat,
        hashrate_ghs: mean(90_000),
        hashrate_nominal_ghs: mean(100_000),
        power_w: mean(3_000),
        temp_chip_max_c: mean(75),
      }),
    );
    const config = testConfig({
      REDIS_URL: inject('redisUrl'),
      INFLUX_URL: inject('influxUrl'),
      REDIS_PREFIX: prefix,
      AUTH_MODE: 'none',
    });
    const server = await startApiServer(config, {
      log: silentLogger(),
      port: 0,
      host: '127.0.0.1',
      handleSignals: false,
      env: {},
    });
    try {
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const bytes = Number(/^bosfleet_api_window_cache_bytes (\S+)$/m.exec(metrics)?.[1]);
      expect(bytes).toBeGreaterThan(0);
    } finally {
      await server.close();
      const left = await r.keys(`${prefix}:*`);
      if (left.length > 0) await r.del(...left);
      r.disconnect();
    }
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
