import { afterEach, expect, it } from 'vitest';
import { MEASUREMENTS } from '../../core/samples.ts';
import type { EmbeddedStore } from '../../store/embedded/index.ts';
import type { SeriesPoint } from '../../store/ports/series.ts';
import { openTestStore, type TestStore } from './backends.ts';

// Embedded only: what retention leaves behind. A dropped day's pages are reused by the next
// day's rows, so a store that keeps a fixed number of days stops growing.

const DAY = 86_400_000;
const D = Date.UTC(2026, 11, 1);
let store: TestStore | undefined;

afterEach(async () => {
  await store?.destroy();
});

const day = (start: number): SeriesPoint[] =>
  Array.from({ length: 20_000 }, (_, i) => ({
    measurement: MEASUREMENTS.miner,
    tags: { miner: `m${i % 50}`, model: 'S19', site: 's1', tenant: 'acme' },
    fields: { up: 1, status: 'online', hashrate_ghs: 100_000 + i, power_w: 3_000 },
    time_ms: start + i * 4_000,
  }));

it('reuses the pages of a dropped day table: the file does not grow day over day', async () => {
  store = await openTestStore('embedded');
  const db = (store as EmbeddedStore).database;
  const pages = (): number => Number((db.db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count);
  const writer = await store.series.openWriter({ flushIntervalMs: 0 });
  writer.write(day(D));
  await writer.flush();
  db.checkpoint();
  const oneDay = pages();
  // day 2 arrives, day 1 expires (rawDays 1 for the test's clock: 8 days later with the default 7)
  writer.write(day(D + DAY));
  await writer.flush();
  const report = await store.series.applyRetention(D + 9 * DAY - 1);
  expect(report.droppedTables).toEqual(['miner_20261201']);
  const free = Number((db.db.prepare('PRAGMA freelist_count').get() as { freelist_count: number }).freelist_count);
  expect(free).toBeGreaterThan(0);
  const twoDays = pages();
  writer.write(day(D + 2 * DAY));
  await writer.flush();
  db.checkpoint();
  // the third day fits in the pages the first one left
  expect(pages()).toBeLessThanOrEqual(twoDays + 2);
  expect(twoDays).toBeGreaterThan(oneDay);
  await writer.close();
});
