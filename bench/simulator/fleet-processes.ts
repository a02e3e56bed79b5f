// A simulated fleet larger than one process can serve: one simulator process needs a listening
// and an accepted socket per miner, and this machine's hard limit is 20,000 descriptors, so a
// 10,000-miner fleet is split over several processes (distinct seeds and /16 address ranges),
// and their inventories are merged into one file for the collector.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { parse, stringify } from 'yaml';
import { spawnReady, stopChild } from '../lib/process-stats.ts';

/** Miners per simulator process: 2 descriptors per miner stays well under a 20,000 limit. */
export const MINERS_PER_SIMULATOR = 4_000;

export interface SimulatedFleet {
  /** the merged inventory (YAML) of every process */
  inventoryPath: string;
  children: ChildProcess[];
  stop(): Promise<void>;
}

interface InventoryDoc {
  miners: { id: string; [k: string]: unknown }[];
  [k: string]: unknown;
}

/**
 * Start ceil(miners / perProcess) simulators (process k: seed k+1, addresses from 127.(firstOctet+k).0.1)
 * and write one inventory; miner ids get the process number (`p2-sim-0001`) so they stay unique.
 */
export async function startSimulatedFleet(miners: number, dir: string, o: { perProcess?: number; firstOctet?: number } = {}): Promise<SimulatedFleet> {
  const perProcess = o.perProcess ?? MINERS_PER_SIMULATOR;
  // Other benches on this machine use 127.30-127.40; a range of our own avoids EADDRINUSE.
  const firstOctet = o.firstOctet ?? 160;
  const count = Math.ceil(miners / perProcess);
  const children: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const c of children) await stopChild(c);
  };
  try {
    // allSettled: a simulator that fails to start must not leave the others running
    const settled = await Promise.allSettled(
      Array.from({ length: count }, async (_, k) => {
        const n = Math.min(perProcess, miners - k * perProcess);
        const out = join(dir, `inventory-${k}.yaml`);
        const sim = await spawnReady(['bin/bos-fleet.ts', 'simulator', '--miners', String(n), '--seed', String(k + 1), '--base-address', `127.${firstOctet + k}.0.1`, '--inventory-out', out, '--json']);
        children.push(sim.child);
        return { k, doc: parse(readFileSync(out, 'utf8')) as InventoryDoc };
      }),
    );
    const failed = settled.find(r => r.status === 'rejected');
    if (failed) throw failed.reason;
    const parts = settled.map(r => (r as PromiseFulfilledResult<{ k: number; doc: InventoryDoc }>).value).sort((a, b) => a.k - b.k);
    const merged: InventoryDoc = { ...parts[0]!.doc, miners: parts.flatMap(p => (count === 1 ? p.doc.miners : p.doc.miners.map(m => ({ ...m, id: `p${p.k}-${m.id}` })))) };
    if (merged.miners.length !== miners) throw new Error(`the simulators serve ${merged.miners.length} miners, expected ${miners}`);
    const inventoryPath = join(dir, 'inventory.yaml');
    writeFileSync(inventoryPath, stringify(merged));
    return { inventoryPath, children, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
