import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../runtime/config-loader.ts';
import { collectorConfigSchema, collectorIdOf } from '../../collector/config.ts';
import { inShard, shardOf } from '../../collector/inventory/shard.ts';

describe('shardOf', () => {
  const ids = Array.from({ length: 3_000 }, (_, i) => `rig-${i}`);

  it('is stable and puts every miner in exactly one of n shards, evenly', () => {
    for (const n of [2, 3, 7]) {
      const counts = new Array<number>(n).fill(0);
      for (const id of ids) {
        const s = shardOf(id, n);
        expect(s).toBe(shardOf(id, n));
        counts[s]!++;
        expect([...Array(n).keys()].filter(i => inShard(id, { index: i, count: n }))).toEqual([s]);
      }
      for (const c of counts) expect(Math.abs(c - ids.length / n)).toBeLessThan((ids.length / n) * 0.15);
    }
  });

  it('keeps everything in one shard when n = 1', () => {
    expect(ids.every(id => inShard(id, { index: 0, count: 1 }))).toBe(true);
  });
});

describe('COLLECTOR_SHARD', () => {
  it('rejects malformed and out-of-range shards with the expected form', () => {
    for (const bad of ['2/2', '1', 'a/b', '0/0', '-1/2']) {
      expect(() => parseConfig(collectorConfigSchema, { COLLECTOR_SHARD: bad })).toThrow(/COLLECTOR_SHARD.*expected i\/n/s);
    }
    expect(parseConfig(collectorConfigSchema, { COLLECTOR_SHARD: '1/3' }).COLLECTOR_SHARD).toBe('1/3');
  });

  it('gives shards on one host different default ids', () => {
    expect(collectorIdOf({ COLLECTOR_SHARD: '0/2' })).not.toBe(collectorIdOf({ COLLECTOR_SHARD: '1/2' }));
    expect(collectorIdOf({ COLLECTOR_SHARD: '1/2', COLLECTOR_ID: 'dc1-a' })).toBe('dc1-a');
  });
});
