import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRedis, waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import { redisKeys } from '../../store/influx-redis/redis-keys.ts';
import { ConsoleSessions, SESSION_MAX_MS } from '../../console/sessions.ts';
import type { Redis } from 'ioredis';

// Console sessions and login codes on a real Redis (random prefix).
let redis: Redis;
let sessions: ConsoleSessions;
const caller = { sub: 'ada', tenant: 't1', roles: ['operator' as const] };

beforeAll(async () => {
  redis = createRedis(inject('redisUrl'));
  if (!(await waitForRedis(redis, 10_000))) throw new Error('Redis is not reachable');
  sessions = new ConsoleSessions(redis, redisKeys(`test-console-${randomUUID()}`));
});

afterAll(() => {
  redis.disconnect();
});

describe('console sessions', () => {
  it('ends a session when the token would have expired', async () => {
    const { id } = await sessions.create(caller, Date.now() + 300);
    expect((await sessions.get(id))?.caller).toEqual(caller);
    await expect.poll(async () => await sessions.get(id), { timeout: 5_000, interval: 50 }).toBeNull();
  });

  it('lives at most 8 hours, whatever the token lifetime', async () => {
    const { id, session } = await sessions.create(caller, Date.now() + 30 * 86_400_000);
    expect(session.expires_ms - session.created_ms).toBe(SESSION_MAX_MS);
    expect(await sessions.get(id)).not.toBeNull();
  });

  it('forgets a session on logout, and knows no made-up id', async () => {
    const { id } = await sessions.create(caller, Date.now() + 60_000);
    await sessions.destroy(id);
    expect(await sessions.get(id)).toBeNull();
    expect(await sessions.get('x'.repeat(43))).toBeNull();
    expect(await sessions.get('../../etc')).toBeNull();
  });

  it('redeems a login code once, and stores neither code nor session id in the clear', async () => {
    const code = await sessions.mintLoginCode('the.jwt.token');
    const { id } = await sessions.create(caller, Date.now() + 60_000);
    const keys = await redis.keys('test-console-*');
    expect(keys.join(' ')).not.toContain(code);
    expect(keys.join(' ')).not.toContain(id);
    expect(await sessions.redeemLoginCode(code)).toBe('the.jwt.token');
    expect(await sessions.redeemLoginCode(code)).toBeNull();
  });
});
