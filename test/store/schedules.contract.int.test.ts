import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ScheduleRecord, ScheduleWindow } from '../../store/ports/schedules.ts';
import type { StoreBackend } from '../../store/store.ts';
import { waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import { BACKENDS, openTestStore, type TestStore } from './backends.ts';

// The schedules port on both backends: the same assertions, real Redis and real SQLite.

interface Def extends ScheduleRecord {
  name: string;
  cron: string;
}

const def = (tenant: string, name: string, created_ms: number): Def => ({
  id: randomUUID(),
  tenant,
  created_ms,
  name,
  cron: '0 17 * * 1-5',
});

const win = (start_ms: number, extra: Partial<ScheduleWindow> = {}): ScheduleWindow => ({
  start_ms,
  end_ms: start_ms + 60_000,
  started_ms: start_ms,
  ended_ms: null,
  start_job: `job-${start_ms}`,
  end_job: null,
  miners: 3,
  late: false,
  note: null,
  ...extra,
});

/** The farm store's Redis client queues nothing while connecting: wait until it is ready. */
async function ready(s: TestStore): Promise<TestStore> {
  if (s.backend === 'influx-redis' && !(await waitForRedis(s.redis, 10_000))) throw new Error('Redis is not reachable');
  return s;
}

async function until<T>(what: string, fn: () => Promise<T | null | false> | T | null | false, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 20));
  }
}

/** Another process on the same data: a second connection for the farm backend; the embedded store is one process, so the same handle. */
async function replicaOf(backend: StoreBackend, store: TestStore): Promise<{ store: TestStore; close(): Promise<void> }> {
  if (store.backend === 'embedded') return { store, close: async () => undefined };
  const other = await ready(await openTestStore(backend, { scope: store.keys.prefix }));
  return { store: other, close: () => other.close() };
}

describe.each(BACKENDS)('schedules port (%s)', backend => {
  let store: TestStore;

  beforeEach(async () => {
    store = await ready(await openTestStore(backend));
  });
  afterEach(async () => {
    await store?.destroy();
  });

  it('keeps each tenant\'s schedules to itself', async () => {
    const s = store.schedules;
    const a1 = def('acme', 'peak', 1_000);
    const a2 = def('acme', 'night', 2_000);
    const b1 = def('other', 'peak', 1_500);
    for (const d of [a2, b1, a1]) await s.save(d);

    expect(await s.get('acme', a1.id)).toEqual(a1);
    expect(await s.get('other', a1.id)).toBeNull();
    expect((await s.list('acme')).map(d => d.id)).toEqual([a1.id, a2.id]);
    expect((await s.list('other')).map(d => d.id)).toEqual([b1.id]);
    expect((await s.list('nobody')).length).toBe(0);
    expect((await s.listAll()).map(d => d.id).sort()).toEqual([a1.id, a2.id, b1.id].sort());

    const renamed = { ...a1, name: 'peak-2' };
    await s.save(renamed);
    expect(await s.get('acme', a1.id)).toEqual(renamed);

    expect(await s.delete('other', a1.id)).toBe(false);
    expect(await s.get('acme', a1.id)).toEqual(renamed);
    expect(await s.delete('acme', a1.id)).toBe(true);
    expect(await s.get('acme', a1.id)).toBeNull();
    expect(await s.delete('acme', a1.id)).toBe(false);
    expect((await s.listAll()).map(d => d.id).sort()).toEqual([a2.id, b1.id].sort());
  });

  it('lets exactly one of two racing claimers run a window phase', async () => {
    const replica = await replicaOf(backend, store);
    try {
      const id = randomUUID();
      const startMs = Date.UTC(2026, 11, 7, 17);
      for (let round = 0; round < 5; round++) {
        const at = startMs + round * 3_600_000;
        const wins = await Promise.all([
          store.schedules.claimWindow(id, at, 'start', 'replica-a', 60_000),
          replica.store.schedules.claimWindow(id, at, 'start', 'replica-b', 60_000),
          store.schedules.claimWindow(id, at, 'start', 'replica-c', 60_000),
        ]);
        expect(wins.filter(Boolean)).toHaveLength(1);
        expect(await replica.store.schedules.isWindowClaimed(id, at, 'start')).toBe(true);
        // The end of the same window and the next window are separate claims.
        expect(await store.schedules.isWindowClaimed(id, at, 'end')).toBe(false);
        expect(await replica.store.schedules.claimWindow(id, at, 'end', 'replica-b', 60_000)).toBe(true);
        expect(await store.schedules.claimWindow(id, at, 'end', 'replica-a', 60_000)).toBe(false);
      }
      expect(await store.schedules.isWindowClaimed(randomUUID(), startMs, 'start')).toBe(false);
    } finally {
      await replica.close();
    }
  });

  it('frees a claim once its time is up', async () => {
    const id = randomUUID();
    expect(await store.schedules.claimWindow(id, 1_000, 'start', 'a', 300)).toBe(true);
    expect(await store.schedules.claimWindow(id, 1_000, 'start', 'b', 300)).toBe(false);
    await until('the claim to expire', async () => !(await store.schedules.isWindowClaimed(id, 1_000, 'start')));
    expect(await store.schedules.claimWindow(id, 1_000, 'start', 'b', 60_000)).toBe(true);
  });

  it('records runs newest first, updates a run in place and keeps only the newest', async () => {
    const s = store.schedules;
    const id = randomUUID();
    const other = randomUUID();
    for (const start of [3_000, 1_000, 4_000, 2_000]) await s.saveWindow(id, win(start), 10);
    await s.saveWindow(other, win(9_000), 10);
    expect((await s.listWindows(id)).map(w => w.start_ms)).toEqual([4_000, 3_000, 2_000, 1_000]);

    const ended = win(3_000, { ended_ms: 3_500, end_job: 'end-job', note: 'nothing to put back' });
    await s.saveWindow(id, ended, 10);
    expect(await s.getWindow(id, 3_000)).toEqual(ended);
    expect(await s.getWindow(id, 5_000)).toBeNull();

    await s.saveWindow(id, win(5_000), 3);
    expect((await s.listWindows(id)).map(w => w.start_ms)).toEqual([5_000, 4_000, 3_000]);
    expect((await s.listWindows(other)).map(w => w.start_ms)).toEqual([9_000]);
  });

  it('deleting a schedule drops its run history', async () => {
    const d = def('acme', 'gone', 1);
    await store.schedules.save(d);
    await store.schedules.saveWindow(d.id, win(1_000), 10);
    expect(await store.schedules.delete('acme', d.id)).toBe(true);
    expect(await store.schedules.listWindows(d.id)).toEqual([]);
  });

  it('remembers what each window changed per miner, apart from other windows', async () => {
    const s = store.schedules;
    const id = randomUUID();
    const ref = s.windowMemoRef(id, 1_000);
    const next = s.windowMemoRef(id, 2_000);
    expect(s.windowMemoRef(id, 1_000)).toBe(ref);
    expect(next).not.toBe(ref);
    await s.rememberChange(ref, 'm2', { power_target_w: 3_100 });
    await s.rememberChange(ref, 'm1', { paused_by_us: true });
    await s.rememberChange(next, 'm3', { paused_by_us: false });
    expect((await s.changedMiners(ref)).sort()).toEqual(['m1', 'm2']);
    expect(await s.changeOf(ref, 'm2')).toEqual({ power_target_w: 3_100 });
    expect(await s.changeOf(ref, 'm3')).toBeNull();
    expect(await s.changedMiners(s.windowMemoRef(id, 3_000))).toEqual([]);
    if (store.backend === 'influx-redis') {
      // The memo expires (a memo without a TTL stayed in Redis for good).
      const ttl = await store.redis.pttl(ref);
      expect(ttl).toBeGreaterThan(7 * 24 * 3_600_000);
    }
  });

  it('tells every watcher about a change', async () => {
    const replica = await replicaOf(backend, store);
    const seen: string[] = [];
    const watch = await replica.store.schedules.watch(c => seen.push(`${c.op}:${c.id}`));
    try {
      await store.schedules.announce({ id: 's1', op: 'created' });
      await store.schedules.announce({ id: 's1', op: 'removed' });
      await until('both announcements', () => seen.length >= 2);
      expect(seen).toEqual(['created:s1', 'removed:s1']);
      await watch.close();
      await store.schedules.announce({ id: 's2', op: 'created' });
      // A later announcement seen by a fresh watcher proves the closed one had its chance.
      const fresh: string[] = [];
      const w2 = await replica.store.schedules.watch(c => fresh.push(c.id));
      await store.schedules.announce({ id: 's3', op: 'created' });
      await until('the fresh watcher', () => fresh.includes('s3'));
      await w2.close();
      expect(seen).toEqual(['created:s1', 'removed:s1']);
    } finally {
      await watch.close();
      await replica.close();
    }
  });

  it('keeps schedules, runs, claims and memos across a restart', async () => {
    const d = def('acme', 'kept', 5);
    await store.schedules.save(d);
    await store.schedules.saveWindow(d.id, win(1_000), 10);
    expect(await store.schedules.claimWindow(d.id, 1_000, 'start', 'before', 3_600_000)).toBe(true);
    const ref = store.schedules.windowMemoRef(d.id, 1_000);
    await store.schedules.rememberChange(ref, 'm1', { paused_by_us: true });
    await store.close();

    store = await ready(await store.reopen());
    expect(await store.schedules.get('acme', d.id)).toEqual(d);
    expect((await store.schedules.listAll()).map(s => s.id)).toEqual([d.id]);
    expect(await store.schedules.listWindows(d.id)).toEqual([win(1_000)]);
    expect(await store.schedules.isWindowClaimed(d.id, 1_000, 'start')).toBe(true);
    expect(await store.schedules.claimWindow(d.id, 1_000, 'start', 'after', 3_600_000)).toBe(false);
    expect(store.schedules.windowMemoRef(d.id, 1_000)).toBe(ref);
    expect(await store.schedules.changeOf(ref, 'm1')).toEqual({ paused_by_us: true });
  });
});
