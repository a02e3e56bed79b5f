import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventKind, FleetEvent } from '../../core/samples.ts';
import { EmbeddedEvents } from '../../store/embedded/events.ts';
import { RECORD_CLOCK_SLACK_MS, type StoredEvent } from '../../store/ports/events.ts';
import { waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import { BACKENDS, openTestStore, type TestStore } from './backends.ts';

// The events port answers alike on both backends: a Redis stream + InfluxDB `event` points, or one
// SQLite table. History on the farm backend goes through a buffered writer, hence the polls.

const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;
const KINDS: EventKind[] = ['miner_offline', 'miner_online', 'control_action'];

function ev(i: number, over: Partial<FleetEvent> = {}): FleetEvent {
  return {
    time_ms: T0 + i * 1_000,
    tenant: 'acme',
    site: 'dc-1',
    miner: `m-${i % 4}`,
    kind: KINDS[i % 3]!,
    severity: i % 3 === 0 ? 'warning' : 'info',
    message: `event ${i}`,
    ...(i % 3 === 2 ? { actor: 'alice', result: 'ok', data: { power_target_w: 3000 + i } } : {}),
    ...over,
  };
}

const messages = (es: readonly FleetEvent[]): string[] => es.map(e => e.message);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const POLL = { timeout: 10_000, interval: 100 };

async function open(backend: TestStore['backend'], reopen?: TestStore): Promise<TestStore> {
  const s = reopen ? await reopen.reopen() : await openTestStore(backend);
  if (s.backend === 'influx-redis' && !(await waitForRedis(s.redis, 5_000))) throw new Error('test Redis not reachable');
  return s;
}

describe.each(BACKENDS)('events port on %s', backend => {
  let store: TestStore;
  beforeEach(async () => {
    store = await open(backend);
  });
  afterEach(async () => {
    await store.destroy();
  });

  it('reads the latest events newest recorded first, filtered, per tenant', async () => {
    await store.events.record(range(12).map(i => ev(i)));
    await store.events.record([ev(0, { tenant: 'beta', miner: 'b-1', message: 'beta event' })]);
    expect(messages(await store.events.recent('acme', { limit: 3 }))).toEqual(['event 11', 'event 10', 'event 9']);
    expect(messages(await store.events.recent('acme', { miner: 'm-1' }))).toEqual(['event 9', 'event 5', 'event 1']);
    expect(messages(await store.events.recent('acme', { kind: 'control_action', sinceMs: T0 + 5_000 }))).toEqual(['event 11', 'event 8', 'event 5']);
    expect(messages(await store.events.recent('beta'))).toEqual(['beta event']);
    expect(await store.events.recent('nobody')).toEqual([]);
    const [control] = await store.events.recent('acme', { kind: 'control_action', limit: 1 });
    expect(control).toMatchObject({ actor: 'alice', result: 'ok', data: { power_target_w: 3011 }, time_ms: T0 + 11_000, tenant: 'acme' });
  });

  it('orders by recording, not by event time (late producers appear as recorded)', async () => {
    await store.events.record([ev(5)]);
    await store.events.record([ev(1)]);
    expect(messages(await store.events.recent('acme'))).toEqual(['event 1', 'event 5']);
  });

  it('pages with the id of the last event as cursor, without gaps or repeats', async () => {
    await store.events.record(range(25).map(i => ev(i)));
    const seen: StoredEvent[] = [];
    let page = await store.events.recent('acme', { limit: 10 });
    while (page.length > 0) {
      seen.push(...page);
      page = await store.events.recent('acme', { limit: 10, beforeId: page[page.length - 1]!.id });
    }
    expect(messages(seen)).toEqual(range(25).reverse().map(i => `event ${i}`));
    const m2 = await store.events.recent('acme', { miner: 'm-2', limit: 2 });
    expect(messages(m2)).toEqual(['event 22', 'event 18']);
    expect(messages(await store.events.recent('acme', { miner: 'm-2', limit: 2, beforeId: m2[1]!.id }))).toEqual(['event 14', 'event 10']);
    await expect(store.events.recent('acme', { beforeId: "1' OR 1=1" })).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('keeps events of one series in one millisecond apart', async () => {
    const same = (m: string): FleetEvent => ev(0, { kind: 'hashboard_lost', message: m });
    await store.events.record([same('a'), same('b')]);
    await store.events.record([same('c')]);
    const got = await store.events.recent('acme');
    expect(got.map(e => e.time_ms)).toEqual([T0 + 2, T0 + 1, T0]);
    await expect
      .poll(async () => (await store.events.history('acme', { fromMs: T0, toMs: T0 + 10, limit: 10 })).events.map(e => e.message), POLL)
      .toEqual(['c', 'b', 'a']);
  });

  it('answers a time range from the history, inclusive, newest first, with severity and truncation', async () => {
    await store.events.record(range(12).map(i => ev(i)));
    await store.events.record([ev(4, { tenant: 'beta' })]);
    const h = (q: Partial<Parameters<TestStore['events']['history']>[1]>) =>
      store.events.history('acme', { fromMs: T0 + 2_000, toMs: T0 + 9_000, limit: 100, ...q });
    await expect.poll(async () => messages((await h({})).events), POLL).toEqual(range(8).map(i => `event ${9 - i}`));
    expect(await h({ severity: 'warning' })).toEqual({
      events: [9, 6, 3].map(i => expect.objectContaining({ message: `event ${i}`, severity: 'warning', tenant: 'acme' })),
      truncated: false,
    });
    expect(messages((await h({ kind: 'control_action', miner: 'm-1' })).events)).toEqual(['event 5']);
    const [e5] = (await h({ kind: 'control_action', miner: 'm-1' })).events;
    expect(e5).toEqual({ ...ev(5), tenant: 'acme' });
    expect(await h({ limit: 3 })).toMatchObject({ truncated: true, events: [{ message: 'event 9' }, { message: 'event 8' }, { message: 'event 7' }] });
    expect((await store.events.history('nobody', { fromMs: T0, toMs: T0 + 20_000, limit: 5 })).events).toEqual([]);
  });

  it('says whether the recent window reaches back to a time', async () => {
    const now = Date.now();
    expect(await store.events.covers('acme', now + RECORD_CLOCK_SLACK_MS + 60_000)).toBe(false);
    await store.events.record([ev(1)]);
    // Recorded just now: the window starts now, so it covers only times after now + slack.
    expect(await store.events.covers('acme', now - 60_000)).toBe(false);
    expect(await store.events.covers('acme', Date.now() + RECORD_CLOCK_SLACK_MS + 60_000)).toBe(true);
    expect(await store.events.covers('beta', Date.now() + RECORD_CLOCK_SLACK_MS + 60_000)).toBe(false);
  });

  it('keeps the audit trail across a restart', async () => {
    await store.events.record([ev(2), ev(5)]);
    await store.close();
    store = await open(backend, store);
    expect(messages(await store.events.recent('acme'))).toEqual(['event 5', 'event 2']);
    // The farm backend drains its pending InfluxDB writes on close.
    expect(messages((await store.events.history('acme', { fromMs: T0, toMs: T0 + 60_000, limit: 10 })).events)).toEqual(['event 5', 'event 2']);
  });
});

describe('embedded events retention', () => {
  it('deletes events older than the retention as new ones arrive', async () => {
    const store = await openTestStore('embedded');
    try {
      if (store.backend !== 'embedded') throw new Error('expected the embedded store');
      let now = T0 + 10 * 86_400_000;
      const events = new EmbeddedEvents(store.database, { retentionMs: 86_400_000, now: () => now });
      await events.record([ev(1, { time_ms: now - 2 * 86_400_000, message: 'old' }), ev(2, { time_ms: now - 3_600_000, message: 'fresh' })]);
      expect(messages(await events.recent('acme'))).toEqual(['fresh']);
      // The sweep runs at most once a minute: a minute later, "fresh" is still inside the day.
      now += 60_000;
      await events.record([ev(3, { time_ms: now, message: 'newest' })]);
      expect(messages(await events.recent('acme'))).toEqual(['newest', 'fresh']);
      now += 86_400_000;
      expect(events.prune()).toBe(1);
      expect(messages(await events.recent('acme'))).toEqual(['newest']);
    } finally {
      await store.destroy();
    }
  });
});
