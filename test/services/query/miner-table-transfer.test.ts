import { describe, expect, it } from 'vitest';
import type { MinerSnapshot } from '../../../core/samples.ts';
import {
  minerRowAt,
  minerTableOf,
  MinerTableBuilder,
  type MinerTable,
  type MinerTableStrings,
} from '../../../services/query/miner-table.ts';
import {
  stringsOf,
  tableFromMessage,
  tableMessage,
  type TableMessage,
} from '../../../services/query/miner-table-transfer.ts';
import { snap, type Spec } from './table-snapshots.ts';

// A table built in the loader thread and rebuilt in the request thread from one message: the
// same rows as a table built in place, and only the values that changed travel as values.

const fresh = (specs: Spec[]): MinerSnapshot[] =>
  JSON.parse(JSON.stringify(specs.map(snap))) as MinerSnapshot[];

/** What the loader thread does for one load: build against its base, make the message, keep the strings. */
function loaderStep(specs: Spec[], base: MinerTableStrings | undefined, baseVersion: number) {
  const b = new MinerTableBuilder('t', base);
  for (const s of fresh(specs)) b.add(s);
  const columns = b.columns();
  const { message, transfer } = tableMessage(columns, base, baseVersion);
  // through the structured clone of postMessage, buffers transferred
  const sent = structuredClone(message, { transfer }) as TableMessage;
  return { sent, kept: stringsOf(columns) };
}

function rowsOf(t: MinerTable) {
  return Array.from({ length: t.size }, (_, i) => ({
    ...minerRowAt(t, i),
    pools: Array.from({ length: t.poolStart[i + 1]! - t.poolStart[i]! }, (_, k) => {
      const j = t.poolStart[i]! + k;
      return [t.poolUrl[j], t.poolFlags[j], t.poolAccepted[j], t.poolRejected[j], t.poolStale[j]];
    }),
    haystack: t.haystack[i],
  }));
}

const first: Spec[] = [
  { id: 'a', hashrate: 90, labels: { rack: 'r1' }, pools: [{ url: 'stratum+tcp://p1', accepted: 1 }] },
  {
    id: 'b',
    hashrate: 80,
    status: 'degraded',
    labels: { rack: 'r2' },
    pools: [
      { url: 'stratum+tcp://p1', accepted: 2 },
      { url: 'stratum+tcp://p2', accepted: 3, active: false },
    ],
  },
  { id: 'c', hashrate: null, status: 'offline' },
  { id: 'd', hashrate: 70, hostname: 'dee' },
];
const second: Spec[] = [
  { id: 'a', hashrate: 91, labels: { rack: 'r1' }, pools: [{ url: 'stratum+tcp://p9', accepted: 5 }] },
  {
    id: 'b',
    hashrate: 81,
    status: 'degraded',
    labels: { rack: 'r2' },
    pools: [
      { url: 'stratum+tcp://p1', accepted: 4 },
      { url: 'stratum+tcp://p2', accepted: 6, active: false },
    ],
  },
  { id: 'bb', hashrate: 10, labels: { rack: 'r3' } },
  { id: 'd', hashrate: 71, hostname: 'dee-2' },
];

describe('miner table messages', () => {
  it('a first message carries every value and gives the table a direct build gives', () => {
    const { sent } = loaderStep(first, undefined, -1);
    expect(sent.baseVersion).toBe(-1);
    const t = tableFromMessage(sent, undefined, 1);
    expect(rowsOf(t)).toEqual(rowsOf(minerTableOf('t', fresh(first))));
  });

  it('a later message carries only what changed, and the request thread keeps its instances', () => {
    const one = loaderStep(first, undefined, -1);
    const t1 = tableFromMessage(one.sent, undefined, 1);
    const two = loaderStep(second, one.kept, 1);
    expect(two.sent.baseVersion).toBe(1);
    const t2 = tableFromMessage(two.sent, t1, 2);
    expect(rowsOf(t2)).toEqual(rowsOf(minerTableOf('t', fresh(second))));
    // only the new miner's values and d's hostname (with its search text) travelled
    expect(Array.from(two.sent.changes.id.rows)).toEqual([2]);
    expect(Array.from(two.sent.changes.hostname.rows)).toEqual([2, 3]);
    expect(Array.from(two.sent.changes.labels.rows)).toEqual([2]);
    expect(Array.from(two.sent.poolUrlChanges.rows)).toEqual([0]);
    // unchanged objects are the ones the request thread already had
    expect(t2.labels[0]).toBe(t1.labels[0]);
    expect(t2.labels[1]).toBe(t1.labels[1]);
    expect(t2.degraded[1]).toBe(t1.degraded[1]);
    expect(Object.isFrozen(t2.labels[2])).toBe(true);
  });

  it('refuses a message against another base than the one given', () => {
    const one = loaderStep(first, undefined, -1);
    const t1 = tableFromMessage(one.sent, undefined, 1);
    const two = loaderStep(second, one.kept, 5);
    expect(() => tableFromMessage(two.sent, t1, 6)).toThrow(/against version 5, not 1/);
  });
});
