import { describe, expect, it } from 'vitest';
import { readMinerColumns } from '../../../services/query/miner-table.ts';
import { snap } from './table-snapshots.ts';

// A store that answers from memory (the embedded one) never makes the loader wait for I/O: the
// load must still let the thread serve other work between its chunks.

describe('miner table load from an in-memory store', () => {
  it('lets a task queued after the load started run before the load ends', async () => {
    const ids = Array.from({ length: 2_000 }, (_, i) => `m${String(i).padStart(5, '0')}`);
    const store = {
      minersOf: async () => ids,
      snapshots: async (some: readonly string[]) => some.map(id => snap({ id })),
    };
    const order: string[] = [];
    const loading = readMinerColumns(store, 't', undefined).then(c => {
      order.push('loaded');
      return c;
    });
    setImmediate(() => order.push('other request'));
    const columns = await loading;
    expect(columns.size).toBe(2_000);
    expect(order).toEqual(['other request', 'loaded']);
  });
});
