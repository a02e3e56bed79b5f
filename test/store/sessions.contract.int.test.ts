import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import { BACKENDS, openTestStore, type TestStore } from './backends.ts';

// The sessions port on both backends: expiry, one-time codes, survival across a restart.

async function open(backend: TestStore['backend'], reopen?: TestStore): Promise<TestStore> {
  const s = reopen ? await reopen.reopen() : await openTestStore(backend);
  if (s.backend === 'influx-redis' && !(await waitForRedis(s.redis, 5_000))) throw new Error('test Redis not reachable');
  return s;
}

const POLL = { timeout: 5_000, interval: 50 };

describe.each(BACKENDS)('sessions port on %s', backend => {
  let store: TestStore;
  beforeEach(async () => {
    store = await open(backend);
  });
  afterEach(async () => {
    await store.destroy();
  });

  it('returns a session until it expires, and none after', async () => {
    await store.sessions.saveSession('short', '{"s":1}', 300);
    await store.sessions.saveSession('long', '{"s":2}', 60_000);
    expect(await store.sessions.loadSession('short')).toBe('{"s":1}');
    await expect.poll(() => store.sessions.loadSession('short'), POLL).toBeNull();
    expect(await store.sessions.loadSession('long')).toBe('{"s":2}');
    expect(await store.sessions.loadSession('unknown')).toBeNull();
  });

  it('deletes a session, and a save replaces value and lifetime', async () => {
    await store.sessions.saveSession('a', 'one', 60_000);
    await store.sessions.saveSession('a', 'two', 300);
    expect(await store.sessions.loadSession('a')).toBe('two');
    await expect.poll(() => store.sessions.loadSession('a'), POLL).toBeNull();
    await store.sessions.saveSession('b', 'x', 60_000);
    await store.sessions.deleteSession('b');
    expect(await store.sessions.loadSession('b')).toBeNull();
    await store.sessions.deleteSession('never-there');
  });

  it('hands out a login code once, and not after it expired', async () => {
    await store.sessions.saveLoginCode('code', 'jwt', 60_000);
    // A session under the same hash is a different thing.
    expect(await store.sessions.loadSession('code')).toBeNull();
    expect(await store.sessions.takeLoginCode('code')).toBe('jwt');
    expect(await store.sessions.takeLoginCode('code')).toBeNull();
    await store.sessions.saveLoginCode('brief', 'jwt2', 200);
    await expect.poll(() => store.sessions.takeLoginCode('brief'), POLL).toBeNull();
  });

  it('keeps sessions and codes across a restart', async () => {
    await store.sessions.saveSession('kept', 'session', 60_000);
    await store.sessions.saveLoginCode('code', 'jwt', 60_000);
    await store.close();
    store = await open(backend, store);
    expect(await store.sessions.loadSession('kept')).toBe('session');
    expect(await store.sessions.takeLoginCode('code')).toBe('jwt');
  });
});
