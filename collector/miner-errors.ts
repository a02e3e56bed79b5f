import type { GetErrorsResponse } from '../proto/types.ts';
import { FleetError } from '../core/errors.ts';
import type { MinerClient } from './miner-client.ts';

/**
 * The errors a miner reports about itself (MinerService.GetErrors, API 1.2+), as stored with its
 * snapshot. Read at the details cadence and after every reboot (poller.ts), so a failed upgrade
 * (SYSTEM_UPGRADE_FAILED) or a hashboard error shows in the miner's detail, its degraded
 * reasons (`miner_errors`) and diagnose_miner even when the miner is not asked live.
 */
export interface StoredMinerError {
  /** as the miner sent it (its format is undocumented) */
  time: string | null;
  message: string;
  /** the miner's error codes, e.g. SYSTEM_UPGRADE_FAILED */
  codes: string[];
  hint: string | null;
  /** "hashboard 1", "system 0" … */
  component: string | null;
}

/** Most errors kept per miner (the snapshot stays small). */
const MAX_ERRORS = 20;

export function storedErrors(res: GetErrorsResponse): StoredMinerError[] {
  return (res.errors ?? []).slice(0, MAX_ERRORS).map(e => ({
    time: e.timestamp || null,
    message: e.message.slice(0, 500),
    codes: (e.error_codes ?? []).map(c => c.code).filter(Boolean),
    hint: e.error_codes?.find(c => c.hint)?.hint ?? null,
    component: e.components?.length ? e.components.map(c => `${c.name} ${c.index}`).join(', ') : null,
  }));
}

/** The miner's errors, or null when its API has no GetErrors (before 1.2). Other failures throw. */
export async function readMinerErrors(client: MinerClient): Promise<StoredMinerError[] | null> {
  try {
    return storedErrors(await client.unary('MinerService', 'GetErrors', {}));
  } catch (err) {
    if (err instanceof FleetError && err.code === 'unsupported') return null;
    throw err;
  }
}
