// Active error conditions of a miner, as MinerService.GetErrors reports them. The firmware's error
// vocabulary is unpublished; codes here are our own, stable, upper-snake-case names.
import { anyPoolAlive } from './pools.ts';
import type { VirtualMiner, MinerView } from './virtual-miner.ts';

export interface MinerErrorRecord {
  atMs: number;
  message: string;
  codes: Array<{ code: string; reason: string; hint: string }>;
  components: Array<{ name: string; index: number }>;
}

export function activeErrors(miner: VirtualMiner, view: MinerView, now: number): MinerErrorRecord[] {
  const out: MinerErrorRecord[] = [];
  for (const f of miner.upgradeFailures) {
    out.push({
      atMs: f.atMs,
      message: f.message,
      codes: [
        {
          code: 'SYSTEM_UPGRADE_FAILED',
          reason: 'The firmware upgrade did not complete; the miner runs its previous firmware.',
          hint: 'Check the image is meant for this platform and version, then upgrade again.',
        },
      ],
      components: [{ name: 'system', index: 0 }],
    });
  }
  const dead = miner.deadBoardIndex();
  if (dead >= 0) {
    const board = view.boards[dead];
    out.push({
      atMs: miner.faultSince('hashboard_failure') ?? now,
      message: `Hashboard ${board?.id ?? dead} failed: no chips detected (0/${miner.spec.chipsPerBoard})`,
      codes: [
        {
          code: 'HASHBOARD_NO_CHIPS',
          reason: 'The hashboard did not enumerate any chips during initialization.',
          hint: 'Check the hashboard power and data cables; replace the hashboard if the problem persists.',
        },
      ],
      components: [{ name: 'hashboard', index: dead }],
    });
  }
  const c = miner.cooling;
  const hot = view.boards.filter(b => b.chipTempC > c.hotC);
  if (hot.length > 0 || miner.fault('overheat')) {
    const max = Math.max(view.maxChipTempC, 0);
    out.push({
      atMs: miner.faultSince('overheat') ?? now,
      message: `Chip temperature ${max.toFixed(1)} °C exceeds the hot threshold ${c.hotC} °C`,
      codes: [
        {
          code: 'TEMPERATURE_HOT',
          reason: 'Cooling cannot keep the chips below the hot temperature; fans run at full speed.',
          hint: 'Check airflow, ambient temperature and fans; consider lowering the power target.',
        },
      ],
      components: (hot.length > 0 ? hot : view.boards).map(b => ({ name: 'hashboard', index: b.index })),
    });
  }
  // A pool error is about the pools (Braiins OS cannot connect to any), not inferred from a 0
  // hashrate: a paused, warming-up or failing miner with a live pool has none.
  if (miner.deadPool || (miner.isMining && !anyPoolAlive(miner.poolGroups, false))) {
    out.push({
      atMs: miner.faultSince('dead_pool') ?? now,
      message: 'No pool is alive: cannot connect to any configured pool',
      codes: [
        {
          code: 'POOL_NONE_ALIVE',
          reason: 'All configured pools are unreachable or rejected the connection.',
          hint: 'Check the pool URLs, credentials and the network route to the pools.',
        },
      ],
      components: miner.poolGroups.flatMap(g => g.pools).map((_, i) => ({ name: 'pool', index: i })),
    });
  }
  const low = miner.fault('low_hashrate');
  if (low) {
    out.push({
      atMs: miner.faultSince('low_hashrate') ?? now,
      message: `Hashrate is ${Math.round(low.ratio * 100)} % of nominal`,
      codes: [
        {
          code: 'HASHRATE_LOW',
          reason: 'Many hardware errors: real hashrate is well below the nominal hashrate.',
          hint: 'Check the hashboards for failing chips and the PSU voltage.',
        },
      ],
      components: view.boards.map(b => ({ name: 'hashboard', index: b.index })),
    });
  }
  return out;
}
