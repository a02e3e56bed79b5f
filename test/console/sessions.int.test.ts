import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleSessions, SESSION_MAX_MS } from '../../console/sessions.ts';
import { waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import { BACKENDS, openTestStore, type TestStore } from '../store/backends.ts';

// Console sessions and login codes on both store backends (real Redis with a random prefix; SQLite).
const caller = { sub: 'ada', tenant: 't1', roles: ['operator' as const] };

/** Everything the store holds for the console, as one string (keys and values). */
async function dump(store: TestStore): Promise<string> {
  if (store.backend === 'embedded') {
    const rows = store.database.db.prepare('SELECT * FROM console_secrets').all();
    return JSON.stringify(rows);
  }
  const keys = await store.redis.keys(`${store.keys.prefix}:*`);
  return keys.join(' ');
}

describe.each(BACKENDS)('console sessions on %s', backend => {
  let store: TestStore;
  let sessions: ConsoleSessions;

  beforeAll(async () => {
    store = await openTestStore(backend);
    if (store.backend === 'influx-redis' && !(await waitForRedis(store.redis, 10_000))) throw new Error('Redis is not reachable');
    sessions = new ConsoleSessions(store.sessions);
  });

  afterAll(async () => {
    await store.destroy();
  });

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
    const held = await dump(store);
    expect(held).not.toBe('');
    expect(held).not.toContain(code);
    expect(held).not.toContain(id);
    expect(await sessions.redeemLoginCode(code)).toBe('the.jwt.token');
    expect(await sessions.redeemLoginCode(code)).toBeNull();
  });
});
