import { influxRedisStoreOver } from '../../../store/influx-redis/index.ts';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ApiInfra, Caller } from '../../../services/context.ts';
import { JobService } from '../../../services/jobs/job-service.ts';
import { CredentialStore } from '../../../collector/credentials.ts';
import { InfluxClient } from '../../../store/influx-redis/influx-client.ts';
import { silentLogger } from '../../../runtime/logger.ts';
import { MinerClientPool } from '../../../collector/miner-client-pool.ts';
import { redisKeys } from '../../../store/influx-redis/redis-keys.ts';
import { testConfig } from '../../api/app/helpers.ts';

// Issue 15, security 5: without BOSFLEET_SECRET_KEY the pool passwords of a running job sat in
// Redis in clear text. The instance now seals them with a key it generates once and keeps in a
// file (BOSFLEET_SECRET_KEY_FILE, mode 0600). Real Redis and BullMQ; the audit log is a no-op.

const operator: Caller = { sub: 'op', tenant: 'acme', roles: ['operator'] };
const PASSWORD = 'pool-pass-Zx81-never-in-clear';
const dir = mkdtempSync(join(tmpdir(), 'bosfleet-secret-'));
const prefix = `t_${randomUUID().slice(0, 8)}`;
let redis: Redis;

function infra(): ApiInfra {
  const credentials = new CredentialStore({});
  return {
    config: testConfig({ REDIS_PREFIX: prefix, BOSFLEET_SECRET_KEY_FILE: join(dir, 'secret.key') }),
    log: silentLogger(),
    store: influxRedisStoreOver({
      redis,
      keys: redisKeys(prefix),
      influx: new InfluxClient({ url: inject('influxUrl'), db: 'unused', auth: 'none', flavour: '1' }),
    }),
    minerPool: new MinerClientPool(credentials),
    credentials,
  };
}

function service(seen: unknown[]): JobService {
  const jobs = new JobService(infra(), { record: async () => undefined }, { stalledIntervalMs: 1_000 });
  jobs.register<{ n: number }>('batch-control', async ctx => {
    seen.push(await ctx.secrets<{ password: string }>());
    return { outcome: 'succeeded', message: 'done', summary: {} };
  });
  return jobs;
}

beforeAll(() => {
  redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  const stale = await redis.keys(`${prefix}:*`);
  if (stale.length > 0) await redis.del(...stale);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('job secrets without BOSFLEET_SECRET_KEY', () => {
  it('are sealed in Redis with a key the instance keeps, and a restarted instance opens them', async () => {
    const seen: unknown[] = [];
    const first = service(seen);
    // Enqueued before any worker runs, so the stored secret can be read while the job waits.
    const job = await first.enqueue(operator, 'batch-control', {
      label: 'set pools',
      payload: { n: 1 },
      minersTotal: 1,
      secrets: { password: PASSWORD },
    });
    const keys = await redis.keys(`${prefix}:*`);
    const values = await Promise.all(keys.map(async k => ((await redis.type(k)) === 'string' ? await redis.get(k) : '')));
    const stored = values.find(v => v?.startsWith('sealed:') || v?.startsWith('plain:'));
    expect(stored).toBeDefined();
    expect(stored).toMatch(/^sealed:/);
    for (const v of values) expect(v ?? '').not.toContain(PASSWORD);
    expect(statSync(join(dir, 'secret.key')).mode & 0o077).toBe(0);
    await first.close();

    // A new instance (restart) reads the same key file and runs the job.
    const second = service(seen);
    await second.start();
    try {
      const done = await second.waitUntilFinished(operator, job.id, 30_000);
      expect(done.status).toBe('succeeded');
      expect(seen).toEqual([{ password: PASSWORD }]);
    } finally {
      await second.close();
    }
  });
});
