import { createHash } from 'node:crypto';
import type { Shard } from '../config.ts';

/**
 * Which collector of a sharded deployment polls a miner: a stable hash of the miner id modulo
 * the shard count. Every collector reads the same inventory (file, scans, API) and keeps its
 * share, so miners added anywhere are polled exactly once, and scaling out is "run n collectors
 * with COLLECTOR_SHARD=0/n … n-1/n". The hash is not the scheduler's phase hash, so each shard's
 * start times still spread over the whole interval.
 */
export function shardOf(minerId: string, count: number): number {
  if (count <= 1) return 0;
  return createHash('md5').update(minerId).digest().readUInt32BE(0) % count;
}

export function inShard(minerId: string, shard: Shard): boolean {
  return shardOf(minerId, shard.count) === shard.index;
}
