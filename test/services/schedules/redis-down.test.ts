import { influxRedisStoreOver } from '../../../store/influx-redis/index.ts';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../api/app.ts';
import type { ApiInfra } from '../../../services/context.ts';
import type { ControlService } from '../../../services/control/control-service.ts';
import type { JobService } from '../../../services/jobs/job-service.ts';
import { createApiMetrics } from '../../../api/metrics.ts';
import { FleetQuery } from '../../../services/query/fleet-query.ts';
import { scheduleRoutes } from '../../../api/routes/v1/schedules.ts';
import { ScheduleService } from '../../../services/schedules/schedule-service.ts';
import { CredentialStore } from '../../../collector/credentials.ts';
import { InfluxClient } from '../../../store/influx-redis/influx-client.ts';
import { silentLogger } from '../../../runtime/logger.ts';
import { MinerClientPool } from '../../../collector/miner-client-pool.ts';
import { redisKeys } from '../../../store/influx-redis/redis-keys.ts';
import { testConfig, testKeys } from '../../api/app/helpers.ts';

// Issue 15, security 4: with Redis down, the schedule routes answered 500 while every other
// route answered 503. Redis here is a real client pointed at a closed loopback port (nothing
// listens on :9), the way production sees a Redis that went away. The schedule service's
// control and job services are not built: reading schedules never reaches them.

const dead = new Redis('redis://127.0.0.1:9', {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  lazyConnect: true,
  retryStrategy: () => null,
});
dead.on('error', () => undefined);

let app: Awaited<ReturnType<typeof buildApp>>;
let auth: { authorization: string };

beforeAll(async () => {
  const keys = await testKeys();
  const credentials = new CredentialStore({});
  const influx = new InfluxClient({ url: 'http://127.0.0.1:9', db: 'x', auth: 'none', flavour: '1', timeoutMs: 500 });
  const infra: ApiInfra = {
    config: testConfig({ AUTH_PUBLIC_KEY: keys.publicPem }),
    log: silentLogger(),
    store: influxRedisStoreOver({ redis: dead, keys: redisKeys('test:redis-down'), influx }),
    minerPool: new MinerClientPool(credentials),
    credentials,
  };
  const metrics = createApiMetrics();
  const fleetQuery = new FleetQuery({ store: infra.store, metrics }, { pollIntervalMs: 10_000 });
  const schedules = new ScheduleService(infra, { control: {} as ControlService, jobs: {} as JobService });
  app = await buildApp({
    infra,
    fleetQuery,
    metrics,
    extraRoutes: [scheduleRoutes({ services: { schedules } })],
  });
  await app.ready();
  auth = { authorization: `Bearer ${await keys.token({ tenant: 'acme', roles: ['operator'] })}` };
});

afterAll(async () => {
  await app?.close();
  dead.disconnect();
});

describe('schedule routes while Redis is down', () => {
  for (const url of ['/api/v1/schedules', '/api/v1/schedules/0b9f7f3e-7d56-4bb6-9a43-1f1f5a4c2f01', '/api/v1/miners']) {
    it(`GET ${url} is 503 unavailable`, async () => {
      const r = await app.inject({ method: 'GET', url, headers: auth });
      expect(r.statusCode, r.body).toBe(503);
      expect(r.json().error.code).toBe('unavailable');
      expect(r.body).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|Stream isn't writeable/);
    });
  }

  it('DELETE is 503 too', async () => {
    const r = await app.inject({
      method: 'DELETE',
      url: '/api/v1/schedules/0b9f7f3e-7d56-4bb6-9a43-1f1f5a4c2f01',
      headers: auth,
    });
    expect(r.statusCode, r.body).toBe(503);
  });
});
