import { z } from 'zod';

/**
 * What the planner needs to know about one miner, as plain numbers. The caller fills it from
 * inventory and the latest snapshot; nothing here reads a store.
 */
export const MINER_POWER_STATES = ['running', 'curtailed', 'paused', 'stopped'] as const;
export type MinerPowerState = (typeof MINER_POWER_STATES)[number];

export const energyMinerSchema = z.object({
  id: z.string().min(1),
  tenant: z.string().min(1),
  site: z.string().min(1),
  model: z.string().nullable(),
  labels: z.record(z.string(), z.string()).default({}),
  power_w: z.number().nonnegative(),
  hashrate_ghs: z.number().nonnegative(),
  /** null: computed from power_w and hashrate_ghs (a miner with no hashrate sorts as least efficient). */
  efficiency_jth: z.number().positive().nullable(),
  temp_chip_max_c: z.number().nullable(),
  /** Power target limits the miner accepts, when known. */
  power_target_min_w: z.number().positive().nullable(),
  power_target_max_w: z.number().positive().nullable(),
  state: z.enum(MINER_POWER_STATES),
  /** Since when the miner has been in `state` (for minimum on/off times); null: long enough ago. */
  state_since_ms: z.number().int().nullable(),
});

export type EnergyMiner = z.output<typeof energyMinerSchema>;

/** J/TH used for ordering: the reported figure, else power over hashrate, else +∞ (hashes nothing). */
export function orderingEfficiencyJth(m: EnergyMiner): number {
  if (m.efficiency_jth !== null) return m.efficiency_jth;
  if (m.hashrate_ghs > 0) return m.power_w / (m.hashrate_ghs / 1000);
  return Number.POSITIVE_INFINITY;
}
