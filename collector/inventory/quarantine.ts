import type { RedisKeys } from '../../store/influx-redis/redis-keys.ts';

/**
 * Inventory entries the collector holds back: neither polled nor published in the resolved
 * inventory (so no control action reaches them), with the reason their tenant's admin sees.
 * HASH miner id -> JSON QuarantineEntry, rewritten by the collector with every inventory change.
 */
export type QuarantineReason = 'credentials_not_permitted' | 'invalid_address' | 'endpoint_in_use' | 'device_in_use';

export interface QuarantineEntry {
  id: string;
  tenant: string;
  reason: QuarantineReason;
  /** for the entry's own tenant: never names another tenant or its miner */
  message: string;
  since_ms: number;
}

export function quarantineKey(keys: RedisKeys): string {
  return keys.custom('inventory', 'quarantine');
}

export const QUARANTINE_MESSAGES: Record<QuarantineReason, string> = {
  credentials_not_permitted:
    "its credentials are not your tenant's own and no operator shared them with your tenant (MINER_SHARED_CREDENTIALS); point it at credentials of your own",
  invalid_address: 'its address is neither an IP address nor a host name',
  endpoint_in_use: 'its address is already in the inventory; it is not polled or controlled from this entry',
  device_in_use: 'the miner at this address reports the identity of a device already in the inventory; it is not polled or controlled from this entry',
};
