import { describe, expect, it } from 'vitest';
import type { MinerSample, MinerSnapshot } from '../../../core/samples.ts';
import {
  decodeCursor,
  encodeCursor,
  filterAndSort,
  indexAfter,
  queryFingerprint,
} from '../../../services/query/miner-list.ts';
import {
  minerRowAt,
  minerTableOf,
  POOL_ACTIVE,
  POOL_ENABLED,
  type MinerTable,
} from '../../../services/query/miner-table.ts';
import { snap } from './table-snapshots.ts';

// The API's in-process miner table: rows from snapshots, filters, sort order and keyset cursors.

const ids = (t: ReturnType<typeof minerTableOf>, rows: Int32Array): string[] =>
  Array.from(rows, i => t.id[i]!);

describe('miner table', () => {
  it('holds what the snapshots say, and null where a miner was not reached', () => {
    const t = minerTableOf('t', [
      snap({
        id: 'a',
        hashrate: 90_000,
        pools: [
          { url: 'stratum+tcp://p1', accepted: 5 },
          { url: 'stratum+tcp://p2', accepted: 1, active: false },
        ],
      }),
      snap({ id: 'b', hashrate: null, status: 'offline' }),
      { ...snap({ id: 'x' }), ref: { ...snap({ id: 'x' }).ref, tenant: 'other' } },
    ]);
    expect(t.size).toBe(2);
    expect(minerRowAt(t, 0)).toMatchObject({
      id: 'a',
      reached: true,
      hashrate_ghs: 90_000,
      pct_nominal: 90,
      efficiency_jth: 3_000 / 90,
    });
    expect(minerRowAt(t, 1)).toMatchObject({
      id: 'b',
      reached: false,
      hashrate_ghs: null,
      power_w: null,
      last_seen_ms: null,
    });
    expect([t.poolStart[0], t.poolStart[1], t.poolStart[2]]).toEqual([0, 2, 2]);
    expect(t.poolUrl).toEqual(['stratum+tcp://p1', 'stratum+tcp://p2']);
    expect(t.poolFlags[1]! & POOL_ACTIVE).toBe(0);
    expect(t.poolFlags[0]! & (POOL_ENABLED | POOL_ACTIVE)).toBe(POOL_ENABLED | POOL_ACTIVE);
  });

  it('a reload keeps the instances of unchanged label sets and reasons of the table it replaces', () => {
    // (Strings are reused the same way, but JavaScript cannot tell two equal strings apart.)
    const load = (rack: string, prev?: MinerTable): MinerTable =>
      minerTableOf(
        't',
        JSON.parse(
          JSON.stringify([
            snap({ id: 'a', labels: { rack } }),
            snap({ id: 'b', status: 'degraded', labels: { rack: 'r9' } }),
            snap({ id: 'c', status: 'degraded', labels: { rack: 'r9' } }),
          ]),
        ) as MinerSnapshot[],
        2,
        prev,
      );
    const one = load('r1');
    const two = load('r2', one);
    expect(two.labels[1]).toBe(one.labels[1]);
    expect(two.labels[2]).toBe(one.labels[2]);
    expect(two.degraded[1]).toBe(one.degraded[1]);
    expect(two.labels[0]).toEqual({ rack: 'r2' });
    expect(two.labels[0]).not.toBe(one.labels[0]);
    expect(Object.isFrozen(two.labels[0])).toBe(true);
    // a miner added in between does not shift the match of the others
    const three = minerTableOf(
      't',
      [
        snap({ id: 'aa', labels: { rack: 'r9' } }),
        ...(JSON.parse(
          JSON.stringify([snap({ id: 'b', status: 'degraded', labels: { rack: 'r9' } })]),
        ) as MinerSnapshot[]),
      ],
      3,
      two,
    );
    expect(three.labels[1]).toBe(two.labels[1]);
    expect(three.labels[0]).not.toBe(two.labels[1]);
  });
});

describe('filters and sort', () => {
  const t = minerTableOf('t', [
    snap({ id: 'a', hashrate: 10, site: 's1', labels: { rack: '1' }, firmware: '26.01-plus' }),
    snap({ id: 'b', hashrate: 30, site: 's2', hostname: 'Big-Box' }),
    snap({ id: 'c', hashrate: null, status: 'offline', site: 's1' }),
    snap({ id: 'd', hashrate: 20, site: 's2', labels: { rack: '1' } }),
    snap({ id: 'e', hashrate: 20, site: 's1', status: 'degraded' }),
  ]);

  it('sort by value with nulls last in both directions, ties by id', () => {
    expect(ids(t, filterAndSort(t, {}, { sort: 'hashrate', order: 'desc' }))).toEqual([
      'b',
      'd',
      'e',
      'a',
      'c',
    ]);
    expect(ids(t, filterAndSort(t, {}, { sort: 'hashrate', order: 'asc' }))).toEqual([
      'a',
      'd',
      'e',
      'b',
      'c',
    ]);
    expect(ids(t, filterAndSort(t, {}, { sort: 'id', order: 'desc' }))).toEqual(['e', 'd', 'c', 'b', 'a']);
  });

  it('filter by site, status, label, firmware and free text', () => {
    const order = { sort: 'id', order: 'asc' } as const;
    expect(ids(t, filterAndSort(t, { site: 's1' }, order))).toEqual(['a', 'c', 'e']);
    expect(ids(t, filterAndSort(t, { status: 'degraded' }, order))).toEqual(['e']);
    expect(ids(t, filterAndSort(t, { labels: [['rack', '1']] }, order))).toEqual(['a', 'd']);
    expect(ids(t, filterAndSort(t, { firmware: '26.01' }, order))).toEqual(['a']);
    expect(ids(t, filterAndSort(t, { q: 'big-box' }, order))).toEqual(['b']);
    expect(ids(t, filterAndSort(t, { site: 's2', q: 'a.farm' }, order))).toEqual([]);
  });
});

describe('keyset cursors', () => {
  it('continue after the last row even when rows change between pages', () => {
    const order = { sort: 'hashrate' as const, order: 'desc' as const };
    const t = minerTableOf('t', [
      snap({ id: 'a', hashrate: 10 }),
      snap({ id: 'b', hashrate: 30 }),
      snap({ id: 'c', hashrate: null, status: 'offline' }),
      snap({ id: 'd', hashrate: 20 }),
      snap({ id: 'e', hashrate: 20 }),
    ]);
    const sorted = filterAndSort(t, {}, order);
    expect(ids(t, sorted)).toEqual(['b', 'd', 'e', 'a', 'c']);
    const fp = queryFingerprint({}, order);
    const cursor = encodeCursor(fp, t, sorted[1]!, 'hashrate');
    const at = decodeCursor(cursor, fp);
    expect(ids(t, sorted.subarray(indexAfter(t, sorted, at, order)))).toEqual(['e', 'a', 'c']);
    // 'd' disappeared and a new row arrived before the cursor position: no repeat, no gap after it
    const changed = minerTableOf('t', [
      snap({ id: 'a', hashrate: 10 }),
      snap({ id: 'b', hashrate: 30 }),
      snap({ id: 'c', hashrate: null, status: 'offline' }),
      snap({ id: 'e', hashrate: 20 }),
      snap({ id: 'f', hashrate: 25 }),
    ]);
    const resorted = filterAndSort(changed, {}, order);
    expect(ids(changed, resorted.subarray(indexAfter(changed, resorted, at, order)))).toEqual([
      'e',
      'a',
      'c',
    ]);
    expect(() => decodeCursor(cursor, queryFingerprint({ site: 'x' }, order))).toThrow(
      /other filters or sort/,
    );
  });

  it('a cursor on a null value continues among the nulls, by id', () => {
    const order = { sort: 'temperature' as const, order: 'asc' as const };
    const t = minerTableOf(
      't',
      ['a', 'b', 'c', 'd'].map(id =>
        snap({ id, hashrate: id === 'a' ? 5 : null, status: id === 'a' ? 'online' : 'offline' }),
      ),
    );
    const sorted = filterAndSort(t, {}, order);
    expect(ids(t, sorted)).toEqual(['a', 'b', 'c', 'd']);
    const fp = queryFingerprint({}, order);
    const at = decodeCursor(encodeCursor(fp, t, sorted[1]!, 'temperature'), fp);
    expect(at.v).toBeNull();
    expect(ids(t, sorted.subarray(indexAfter(t, sorted, at, order)))).toEqual(['c', 'd']);
  });

  it('rows loaded out of id order still sort ties by id', () => {
    const t = minerTableOf('t', [
      snap({ id: 'c', hashrate: 1 }),
      snap({ id: 'a', hashrate: 1 }),
      snap({ id: 'b', hashrate: 1 }),
    ]);
    const order = { sort: 'hashrate' as const, order: 'desc' as const };
    expect(ids(t, filterAndSort(t, {}, order))).toEqual(['a', 'b', 'c']);
    expect(ids(t, filterAndSort(t, {}, { sort: 'id', order: 'asc' }))).toEqual(['a', 'b', 'c']);
  });
});

describe('sort by text columns, fans and uptime', () => {
  const withPool = (id: string, url: string | null, extra: Partial<MinerSample> = {}): MinerSnapshot => {
    const s = snap({ id, hashrate: 10, pools: url === null ? [] : [{ url: 'stratum+tcp://backup', accepted: 0, active: false }, { url, accepted: 1 }] });
    return { ...s, sample: { ...s.sample!, ...extra } };
  };
  const t = minerTableOf('t', [
    withPool('a', 'stratum+tcp://zeta', { fan_rpm_min: 3000, system_uptime_s: 50 }),
    withPool('b', null, { fan_rpm_min: 5000, system_uptime_s: null }),
    withPool('c', 'stratum+tcp://alpha', { fan_rpm_min: 1000, system_uptime_s: 900 }),
    withPool('d', 'stratum+tcp://alpha', { fan_rpm_min: null, system_uptime_s: 10 }),
  ]);

  it('holds the slowest fan, the system uptime and the active pool of each miner', () => {
    expect(minerRowAt(t, 0)).toMatchObject({ fan_rpm_min: 3000, system_uptime_s: 50, pool: 'stratum+tcp://zeta' });
    expect(minerRowAt(t, 1)).toMatchObject({ fan_rpm_min: 5000, system_uptime_s: null, pool: null });
  });

  it('sorts by the active pool (text, nulls last, ties by id) and by fans and uptime', () => {
    expect(ids(t, filterAndSort(t, {}, { sort: 'pool', order: 'asc' }))).toEqual(['c', 'd', 'a', 'b']);
    expect(ids(t, filterAndSort(t, {}, { sort: 'pool', order: 'desc' }))).toEqual(['a', 'c', 'd', 'b']);
    expect(ids(t, filterAndSort(t, {}, { sort: 'fans', order: 'asc' }))).toEqual(['c', 'a', 'b', 'd']);
    expect(ids(t, filterAndSort(t, {}, { sort: 'uptime', order: 'desc' }))).toEqual(['c', 'a', 'd', 'b']);
  });

  it('pages through a text sort with keyset cursors, without repeats or gaps', () => {
    for (const order of [{ sort: 'pool', order: 'asc' }, { sort: 'pool', order: 'desc' }, { sort: 'site', order: 'asc' }] as const) {
      const sorted = filterAndSort(t, {}, order);
      const fp = queryFingerprint({}, order);
      const seen: string[] = [];
      let start = 0;
      while (start < sorted.length) {
        const row = sorted[start]!;
        seen.push(t.id[row]!);
        start = indexAfter(t, sorted, decodeCursor(encodeCursor(fp, t, row, order.sort), fp), order);
      }
      expect(seen).toEqual(ids(t, sorted));
    }
  });
});
