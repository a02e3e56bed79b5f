import { describe, expect, it } from 'vitest';
import type { MinerSnapshot } from '../../../core/samples.ts';
import { MINER_SORT_KEYS } from '../../../api/schemas/miners.ts';
import { filterAndSort, type MinerFilter, type MinerOrder } from '../../../services/query/miner-list.ts';
import { MinerSortOrders } from '../../../services/query/miner-sort-orders.ts';
import { minerTableOf, type MinerTable } from '../../../services/query/miner-table.ts';
import { snap } from './table-snapshots.ts';

// Sort orders carried over from one table reload to the next must be the orders a fresh sort
// gives, whatever changed in between.

const ids = (t: MinerTable, rows: Int32Array): string[] => Array.from(rows, i => t.id[i]!);

/** 40 miners with ties, nulls (offline, no pools) and a few sites and firmwares. */
function fleet(change: (i: number) => Partial<Parameters<typeof snap>[0]> = () => ({})): MinerSnapshot[] {
  return Array.from({ length: 40 }, (_, i) =>
    snap({
      id: `m${String(i).padStart(2, '0')}`,
      hashrate: i % 7 === 3 ? null : 90_000 + (i % 5) * 1_000,
      site: ['north', 'south', 'east'][i % 3]!,
      firmware: i % 4 === 0 ? '26.04' : '26.05',
      pools: i % 6 === 0 ? [] : [{ url: `stratum+tcp://p${i % 3}`, accepted: i }],
      ...change(i),
    }),
  );
}

const ORDERS: MinerOrder[] = MINER_SORT_KEYS.flatMap(sort => (['asc', 'desc'] as const).map(order => ({ sort, order })));
const FILTERS: MinerFilter[] = [{}, { site: 'south' }, { firmware: '26.04' }, { q: 'm1' }, { site: 'nowhere' }];

function expectSameAsFreshSort(orders: MinerSortOrders, t: MinerTable): void {
  for (const o of ORDERS) {
    const all = orders.order(t, o);
    for (const f of FILTERS) expect(ids(t, filterAndSort(t, f, o, all)), `${o.sort} ${o.order} ${JSON.stringify(f)}`).toEqual(ids(t, filterAndSort(t, f, o)));
  }
}

describe('miner sort orders across table reloads', () => {
  it('sorts a first table as the comparator does, for every key, order and filter', () => {
    const orders = new MinerSortOrders();
    const t = minerTableOf('t', fleet(), 1);
    expectSameAsFreshSort(orders, t);
    orders.order(t, { sort: 'hashrate', order: 'desc' });
    expect(orders.lastHow).toBe('cached');
  });

  it('keeps the previous order when a reload changed no value', () => {
    const orders = new MinerSortOrders();
    const t1 = minerTableOf('t', fleet(), 1);
    const before = orders.order(t1, { sort: 'hashrate', order: 'desc' });
    const t2 = minerTableOf('t', fleet(), 2, t1);
    const after = orders.order(t2, { sort: 'hashrate', order: 'desc' });
    expect(orders.lastHow).toBe('kept');
    expect(after).toBe(before);
    expectSameAsFreshSort(orders, t2);
  });

  it('re-sorts when a poll changed values: hashrates, a miner gone offline, a pool moved', () => {
    const orders = new MinerSortOrders();
    const t1 = minerTableOf('t', fleet(), 1);
    for (const o of ORDERS) orders.order(t1, o);
    const t2 = minerTableOf(
      't',
      fleet(i =>
        i === 5
          ? { hashrate: 50_000 }
          : i === 10
            ? { status: 'offline', hashrate: null }
            : i === 3
              ? { hashrate: 120_000 }
              : i === 20
                ? { pools: [{ url: 'stratum+tcp://aaa', accepted: 1 }] }
                : {},
      ),
      2,
      t1,
    );
    const moved = ids(t2, orders.order(t2, { sort: 'hashrate', order: 'desc' }));
    expect(orders.lastHow).toBe('resorted');
    expect(moved[0]).toBe('m03');
    expect(moved.indexOf('m05')).toBe(moved.length - 1 - moved.filter((_, k) => Number.isNaN(t2.hashrate_ghs[k]!)).length);
    // the order of t1 is untouched: a request still paging through it sees its own order
    expect(ids(t1, orders.order(t1, { sort: 'hashrate', order: 'desc' }))[0]).not.toBe('m03');
    expectSameAsFreshSort(orders, t2);
    const byPool = ids(t2, orders.order(t2, { sort: 'pool', order: 'asc' }));
    expect(byPool[0]).toBe('m20');
  });

  it('sorts afresh when the rows are other miners (one added)', () => {
    const orders = new MinerSortOrders();
    const t1 = minerTableOf('t', fleet(), 1);
    orders.order(t1, { sort: 'temperature', order: 'desc' });
    const t2 = minerTableOf('t', [...fleet(), snap({ id: 'm99', hashrate: 1 })], 2, t1);
    orders.order(t2, { sort: 'temperature', order: 'desc' });
    expect(orders.lastHow).toBe('sorted');
    expectSameAsFreshSort(orders, t2);
  });
});
