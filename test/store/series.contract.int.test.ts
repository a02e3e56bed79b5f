import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MEASUREMENTS } from '../../core/samples.ts';
import type { SeriesPoint, SeriesQuery, SeriesWriter } from '../../store/ports/series.ts';
import { BACKENDS, openTestStore, type TestStore } from './backends.ts';

// The series port on both backends: the same writes must read back the same (raw, bucketed,
// grouped, two-stage), scoped to one tenant, across two UTC days, and survive a restart. The
// embedded backend runs its own retention (day tables dropped whole, rollup rows deleted);
// InfluxDB's retention is its own retention policy / bucket setting, which the port reports.

const MIN = 60_000;
const DAY = 86_400_000;
/** 2026-12-05T00:00Z: points at 23:58..23:59 fall on the 5th, 00:00..00:01 on the 6th */
const D = Date.UTC(2026, 11, 5);
const T0 = D + DAY - 2 * MIN;

const miner = (tenant: string, id: string, site: string, t: number, h: number, extra: Record<string, number | string> = {}): SeriesPoint => ({
  measurement: MEASUREMENTS.miner,
  tags: { miner: id, model: 'S19', site, tenant },
  fields: { up: 1, status: 'online', hashrate_ghs: h, power_w: 3000 + h, ...extra },
  time_ms: t,
});

const rollup = (measurement: string, tenant: string, id: string, t: number, h: number): SeriesPoint => ({
  measurement,
  tags: { miner: id, model: 'S19', site: 's1', tenant },
  fields: { hashrate_ghs: h, up: 1, samples: 6 },
  time_ms: t,
});

function fixture(): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  for (let i = 0; i < 4; i++) {
    const t = T0 + i * MIN;
    out.push(miner('acme', 'm1', 's1', t, 100 + i));
    out.push(miner('acme', 'm2', 's2', t, 200 + i));
    out.push(miner('other', 'm3', 's1', t, 900 + i));
  }
  // a miner that was not reached: up=0 and status only
  out.push({ measurement: MEASUREMENTS.miner, tags: { miner: 'm2', model: 'S19', site: 's2', tenant: 'acme' }, fields: { up: 0, status: 'offline' }, time_ms: T0 + 4 * MIN });
  for (let i = 0; i < 4; i++) {
    out.push(rollup(MEASUREMENTS.miner1m, 'acme', 'm1', T0 + i * MIN, 10 + i));
    out.push(rollup(MEASUREMENTS.miner1m, 'acme', 'm2', T0 + i * MIN, 20 + i));
  }
  out.push(rollup(MEASUREMENTS.miner1h, 'acme', 'm1', D, 50));
  // events of two miners, one per minute
  for (let i = 0; i < 3; i++) {
    out.push({
      measurement: MEASUREMENTS.event,
      tags: { kind: 'status_changed', miner: i === 1 ? 'm2' : 'm1', severity: 'info', site: 's1', tenant: 'acme' },
      fields: { message: `event ${i}`, actor: null, result: null, data: null },
      time_ms: T0 + i * MIN,
    });
  }
  return out;
}

const range = { fromMs: T0, toMs: T0 + 10 * MIN };

describe.each(BACKENDS)('series port on %s', backend => {
  let store: TestStore;
  let writer: SeriesWriter;

  beforeEach(async () => {
    store = await openTestStore(backend);
    writer = await store.series.openWriter({ flushIntervalMs: 60_000 });
    writer.write(fixture());
    await writer.flush();
  });

  afterEach(async () => {
    await writer.close({ timeoutMs: 5_000 });
    await store.destroy();
  });

  const read = (q: Omit<SeriesQuery, 'tenant'> & { tenant?: string }) => store.series.reader.query({ tenant: 'acme', ...q });

  it('reads raw points across two days: per-miner mean, max and count of one tenant', async () => {
    const got = await read({
      measurement: MEASUREMENTS.miner,
      ...range,
      fields: [
        { fn: 'mean', field: 'hashrate_ghs', as: 'h' },
        { fn: 'max', field: 'power_w', as: 'pmax' },
        { fn: 'count', field: 'up', as: 'n' },
        { fn: 'mean', field: 'up', as: 'up' },
      ],
      groupBy: ['miner', 'site'],
    });
    expect(got).toEqual([
      { tags: { miner: 'm1', site: 's1' }, rows: [{ time: range.fromMs, h: 101.5, pmax: 3103, n: 4, up: 1 }] },
      { tags: { miner: 'm2', site: 's2' }, rows: [{ time: range.fromMs, h: 201.5, pmax: 3203, n: 5, up: 0.8 }] },
    ]);
    expect(writer.stats()).toMatchObject({ pending: 0, dropped: 0 });
    expect(writer.stats().written).toBe(fixture().length);
  });

  it('buckets by step aligned to the epoch, filling empty buckets with null; last takes the newest value', async () => {
    const got = await read({
      measurement: MEASUREMENTS.miner,
      tags: [{ tag: 'miner', in: ['m1'] }],
      fromMs: T0,
      toMs: T0 + 6 * MIN,
      fields: [
        { fn: 'mean', field: 'hashrate_ghs' },
        { fn: 'last', field: 'power_w' },
      ],
      stepMs: 2 * MIN,
      fill: 'null',
    });
    expect(got).toHaveLength(1);
    expect(got[0]!.rows).toEqual([
      { time: T0, hashrate_ghs: 100.5, power_w: 3101 },
      { time: T0 + 2 * MIN, hashrate_ghs: 102.5, power_w: 3103 },
      { time: T0 + 4 * MIN, hashrate_ghs: null, power_w: null },
    ]);
    const none = await read({
      measurement: MEASUREMENTS.miner,
      tags: [{ tag: 'miner', in: ['m1'] }],
      fromMs: T0,
      toMs: T0 + 6 * MIN,
      fields: [{ fn: 'mean', field: 'hashrate_ghs' }],
      stepMs: 2 * MIN,
      fill: 'none',
    });
    expect(none[0]!.rows.map(r => r.time)).toEqual([T0, T0 + 2 * MIN]);
  });

  it('filters a tag by a list (IN) and groups by another', async () => {
    const got = await read({
      measurement: MEASUREMENTS.miner,
      tags: [{ tag: 'miner', in: ['m1', 'm2', 'no.such|miner'] }],
      ...range,
      fields: [{ fn: 'sum', field: 'hashrate_ghs', as: 'h' }],
      groupBy: ['site'],
    });
    expect(got.map(g => [g.tags.site, g.rows[0]!.h])).toEqual([
      ['s1', 406],
      ['s2', 806],
    ]);
    const one = await read({ measurement: MEASUREMENTS.miner, tags: [{ tag: 'site', in: ['s2'] }], ...range, fields: [{ fn: 'count', field: 'hashrate_ghs', as: 'n' }] });
    expect(one.map(g => g.rows[0]!.n)).toEqual([4]);
  });

  it('a field alias named like a group tag leaves the tag as it is (tags and fields do not share names)', async () => {
    const got = await read({ measurement: MEASUREMENTS.miner, ...range, fields: [{ fn: 'max', field: 'hashrate_ghs', as: 'site' }], groupBy: ['miner', 'site'] });
    expect(got.map(g => [g.tags.miner, g.tags.site, g.rows[0]!.site])).toEqual([
      ['m1', 's1', 103],
      ['m2', 's2', 203],
    ]);
    const two = await read({
      measurement: MEASUREMENTS.miner,
      ...range,
      fields: [{ fn: 'max', field: 'hashrate_ghs', as: 'v' }],
      groupBy: ['miner', 'site'],
      then: { fields: [{ fn: 'sum', field: 'v', as: 'site' }], groupBy: ['site'] },
    });
    expect(two.map(g => [g.tags.site, g.rows[0]!.site])).toEqual([
      ['s1', 103],
      ['s2', 203],
    ]);
  });

  it('adds up per-miner means per step in a second stage (fleet sums)', async () => {
    const got = await read({
      measurement: MEASUREMENTS.miner1m,
      fromMs: T0,
      toMs: T0 + 4 * MIN,
      fields: [{ fn: 'mean', field: 'hashrate_ghs', as: 'v' }],
      stepMs: 2 * MIN,
      groupBy: ['miner'],
      fill: 'none',
      then: { fields: [{ fn: 'sum', field: 'v', as: 'v' }], fill: 'null' },
    });
    expect(got).toEqual([{ tags: {}, rows: [{ time: T0, v: 10.5 + 20.5 }, { time: T0 + 2 * MIN, v: 12.5 + 22.5 }] }]);
  });

  it('answers one tenant only, and nothing for an empty range or an unknown measurement', async () => {
    const other = await read({ tenant: 'other', measurement: MEASUREMENTS.miner, ...range, fields: [{ fn: 'count', field: 'hashrate_ghs', as: 'n' }], groupBy: ['miner'] });
    expect(other).toEqual([{ tags: { miner: 'm3' }, rows: [{ time: range.fromMs, n: 4 }] }]);
    const acme = await read({ measurement: MEASUREMENTS.miner, ...range, fields: [{ fn: 'count', field: 'hashrate_ghs', as: 'n' }], groupBy: ['miner'] });
    expect(acme.map(g => g.tags.miner)).toEqual(['m1', 'm2']);
    expect(await read({ tenant: 'nobody', measurement: MEASUREMENTS.miner, ...range, fields: [{ fn: 'count', field: 'up' }] })).toEqual([]);
    expect(await read({ measurement: MEASUREMENTS.miner, fromMs: D - 10 * DAY, toMs: D - 9 * DAY, fields: [{ fn: 'mean', field: 'up' }], stepMs: MIN })).toEqual([]);
    expect(await read({ measurement: 'fan', ...range, fields: [{ fn: 'mean', field: 'rpm' }] })).toEqual([]);
  });

  it('reads raw points newest first with a limit (events history)', async () => {
    const rows = await store.series.reader.points({ measurement: MEASUREMENTS.event, tenant: 'acme', ...range, limit: 2 });
    expect(rows.map(r => [r.time, r.miner, r.message])).toEqual([
      [T0 + 2 * MIN, 'm1', 'event 2'],
      [T0 + MIN, 'm2', 'event 1'],
    ]);
    const m2 = await store.series.reader.points({ measurement: MEASUREMENTS.event, tenant: 'acme', tags: [{ tag: 'miner', in: ['m2'] }], ...range, limit: 10 });
    expect(m2.map(r => r.message)).toEqual(['event 1']);
    expect(await store.series.reader.points({ measurement: MEASUREMENTS.event, tenant: 'other', ...range, limit: 10 })).toEqual([]);
  });

  it('stores a field it has never seen instead of failing, and a rollup point written again replaces the earlier one', async () => {
    writer.write([miner('acme', 'm1', 's1', T0 + 5 * MIN, 1, { hashrate_custom_ghs: 42 })]);
    writer.write([rollup(MEASUREMENTS.miner1m, 'acme', 'm1', T0, 99)]);
    await writer.flush();
    const got = await read({ measurement: MEASUREMENTS.miner, ...range, fields: [{ fn: 'max', field: 'hashrate_custom_ghs', as: 'x' }] });
    expect(got[0]!.rows[0]!.x).toBe(42);
    const r = await read({ measurement: MEASUREMENTS.miner1m, tags: [{ tag: 'miner', in: ['m1'] }], fromMs: T0, toMs: T0 + MIN, fields: [{ fn: 'count', field: 'hashrate_ghs', as: 'n' }, { fn: 'max', field: 'hashrate_ghs', as: 'h' }] });
    expect(r[0]!.rows[0]).toMatchObject({ n: 1, h: 99 });
  });

  it('keeps the data through a restart', async () => {
    await writer.close({ timeoutMs: 5_000 });
    await store.close();
    store = await store.reopen();
    writer = await store.series.openWriter({ flushIntervalMs: 60_000 });
    const got = await read({ measurement: MEASUREMENTS.miner, ...range, fields: [{ fn: 'count', field: 'hashrate_ghs', as: 'n' }], groupBy: ['miner'] });
    expect(got.map(g => [g.tags.miner, g.rows[0]!.n])).toEqual([
      ['m1', 4],
      ['m2', 4],
    ]);
    // and writes go on after it
    writer.write([miner('acme', 'm1', 's1', T0 + 5 * MIN, 1)]);
    await writer.flush();
    const after = await read({ measurement: MEASUREMENTS.miner, tags: [{ tag: 'miner', in: ['m1'] }], ...range, fields: [{ fn: 'count', field: 'hashrate_ghs', as: 'n' }] });
    expect(after[0]!.rows[0]!.n).toBe(5);
  });

  it('retention: embedded drops expired raw day tables whole and old rollup rows, and says what it dropped; InfluxDB keeps its own', async () => {
    writer.write([rollup(MEASUREMENTS.miner1m, 'acme', 'm1', D - 40 * DAY, 1), rollup(MEASUREMENTS.miner1h, 'acme', 'm1', D - 500 * DAY, 1)]);
    await writer.flush();
    // 8 days after the first day ended: the 5th is older than 7 days, the 6th is not
    const report = await store.series.applyRetention(D + 8 * DAY + HOUR);
    const count = async (measurement: string, fromMs: number, toMs: number): Promise<number> =>
      ((await read({ measurement, fromMs, toMs, fields: [{ fn: 'count', field: 'hashrate_ghs', as: 'n' }] }))[0]?.rows[0]?.n as number | undefined) ?? 0;
    if (backend === 'embedded') {
      expect(report.droppedTables.sort()).toEqual(['event_20261205', 'miner_20261205']);
      expect(report.deletedRows).toEqual({ miner_1m: 1, miner_1h: 1 });
      expect(await count(MEASUREMENTS.miner, range.fromMs, range.toMs)).toBe(4); // 00:00 and 00:01 of the 6th, m1 and m2
      expect(await count(MEASUREMENTS.miner1m, D - 41 * DAY, D + 2 * DAY)).toBe(8);
      expect(await count(MEASUREMENTS.miner1h, D - 501 * DAY, D + DAY)).toBe(1);
      // a second run finds nothing more
      expect(await store.series.applyRetention(D + 8 * DAY + HOUR)).toEqual({ droppedTables: [], deletedRows: {} });
    } else {
      expect(report).toMatchObject({ droppedTables: [], deletedRows: {} });
      expect(report.note).toMatch(/retention policy/);
      expect(await count(MEASUREMENTS.miner, range.fromMs, range.toMs)).toBe(8);
    }
  });
});

const HOUR = 3_600_000;
