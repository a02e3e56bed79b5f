import type { MinerSortKey } from '../../api/schemas/miners.ts';
import { comparator, numberColumn, type MinerOrder } from './miner-list.ts';
import type { MinerTable } from './miner-table.ts';

/**
 * Every row of a miner table in one sort order, kept per table and order, so a filter, sort or
 * page is a pass over a ready list instead of a sort of 10,000 rows.
 *
 * The table is reloaded every few seconds (a new version each time), so an order is carried
 * over from the tenant's previous table when the rows are the same miners in the same places:
 * if the sort column did not change, the previous order is this table's order as is; if some
 * values changed, the previous order is re-sorted, which for an almost sorted list costs close
 * to one pass (Array.prototype.sort is a merge sort that finds the sorted runs). The result is
 * always the order the comparator defines (a total order: ties go by id), however it was reached.
 */
export class MinerSortOrders {
  private readonly byTable = new WeakMap<MinerTable, Map<string, Int32Array>>();
  /** the newest table of each tenant an order was asked for: the base of the next table's orders */
  private readonly latest = new Map<string, MinerTable>();
  /** how each order was obtained (tests, metrics): 'sorted' from scratch, 'kept' or 'resorted' */
  lastHow: 'cached' | 'sorted' | 'kept' | 'resorted' = 'sorted';

  order(t: MinerTable, o: MinerOrder): Int32Array {
    const key = `${o.sort}\u0000${o.order}`;
    let orders = this.byTable.get(t);
    const hit = orders?.get(key);
    if (hit) {
      this.lastHow = 'cached';
      return hit;
    }
    if (!orders) this.byTable.set(t, (orders = new Map()));
    const prev = this.latest.get(t.tenant);
    if (!prev || prev.version < t.version) this.latest.set(t.tenant, t);
    const base = prev && prev !== t && sameRows(prev, t) ? this.byTable.get(prev)?.get(key) : undefined;
    const rows = base ? this.carriedOver(prev!, t, o, base) : this.sorted(t, o);
    orders.set(key, rows);
    return rows;
  }

  private sorted(t: MinerTable, o: MinerOrder): Int32Array {
    this.lastHow = 'sorted';
    const rows = new Int32Array(t.size);
    for (let i = 0; i < t.size; i++) rows[i] = i;
    return rows.sort(comparator(t, o));
  }

  private carriedOver(prev: MinerTable, t: MinerTable, o: MinerOrder, base: Int32Array): Int32Array {
    if (o.sort === 'id' || sameColumn(sortColumn(prev, o.sort), sortColumn(t, o.sort))) {
      this.lastHow = 'kept';
      return base;
    }
    this.lastHow = 'resorted';
    return Int32Array.from(Array.from(base).sort(comparator(t, o)));
  }
}

const sortColumn = (t: MinerTable, sort: Exclude<MinerSortKey, 'id'>): Float64Array => numberColumn(t, sort);

/** Same miners in the same rows (ids are in id order, so equal ids mean equal id ranks). */
function sameRows(a: MinerTable, b: MinerTable): boolean {
  if (a.size !== b.size) return false;
  for (let i = 0; i < a.size; i++) if (a.id[i] !== b.id[i]) return false;
  return true;
}

function sameColumn(a: Float64Array, b: Float64Array): boolean {
  if (a === b) return true;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y && !(Number.isNaN(x) && Number.isNaN(y))) return false;
  }
  return true;
}
