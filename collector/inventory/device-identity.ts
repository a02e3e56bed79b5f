import type { Logger } from '../../runtime/logger.ts';
import type { DeviceClaim, InventoryPort } from '../../store/ports/inventory.ts';
import type { MinerDetailsInfo } from '../../core/samples.ts';
import type { InventoryMiner } from './schema.ts';

/**
 * A miner is who it says it is (Braiins uid, else MAC, else serial), not where it is: two
 * inventory entries can reach one device through different addresses, a port forward, or a
 * host name re-pointed after registration. The first entry to report a device holds it (a
 * claim in the store's inventory port, shared by every collector of a sharded deployment); an entry of another
 * tenant that reaches the same device is held back before anything it polled is kept. The
 * operator's inventory file wins over entries added through the API, and an older API entry
 * over a newer one. Two entries of the operator's file, or of one tenant, may share a device.
 */
export type { DeviceClaim };

/** Which of two entries keeps a device: the operator's file first, then the entry added first. */
function precedes(a: Pick<DeviceClaim, 'source' | 'created_ms' | 'id'>, b: Pick<DeviceClaim, 'source' | 'created_ms' | 'id'>): boolean {
  const rank = (c: typeof a): number => (c.source === 'file' ? 0 : 1);
  if (rank(a) !== rank(b)) return rank(a) < rank(b);
  return (a.created_ms ?? Number.MAX_SAFE_INTEGER) < (b.created_ms ?? Number.MAX_SAFE_INTEGER);
}

/** What the identity check needs of the inventory (InventoryManager). */
export interface IdentityInventory {
  /** an entry by id, held back or not */
  entry(id: string): InventoryMiner | undefined;
  /** whether an entry is held back */
  isHeld(id: string): boolean;
  /** hold an entry back because its device is another entry's */
  holdDevice(id: string): Promise<void>;
}

/** The device identity a miner reports, or null when it reports none. */
export function deviceIdOf(d: Pick<MinerDetailsInfo, 'uid' | 'mac' | 'serial'>): string | null {
  if (d.uid) return `uid:${d.uid}`;
  if (d.mac) return `mac:${d.mac.toLowerCase()}`;
  if (d.serial) return `serial:${d.serial}`;
  return null;
}

export class DeviceIdentity {
  private readonly store: InventoryPort;
  private readonly inventory: IdentityInventory;
  private readonly log: Logger;
  /** miner id -> the device it was admitted for; a different device is checked again */
  private readonly admitted = new Map<string, string>();

  constructor(o: { store: InventoryPort; inventory: IdentityInventory; log: Logger }) {
    this.store = o.store;
    this.inventory = o.inventory;
    this.log = o.log;
  }

  /**
   * Whether what was polled from `m` may be kept for its entry. False means the entry is held
   * back (or, with the store down, that an entry of a tenant could not be checked: nothing is kept
   * this time and it is checked again on its next poll).
   */
  async admit(m: InventoryMiner, details: Pick<MinerDetailsInfo, 'uid' | 'mac' | 'serial'>): Promise<boolean> {
    const device = deviceIdOf(details);
    if (device === null) return true;
    if (this.admitted.get(m.id) === device) return true;
    try {
      const ok = await this.claim(m, device, 2);
      if (ok) this.admitted.set(m.id, device);
      return ok;
    } catch (err) {
      this.log.warn({ miner: m.id, err: (err as Error).message }, 'device identity not checked (store unavailable); checked again on the next poll');
      return m.source === 'file';
    }
  }

  /** Forget what was admitted for an entry (it left the inventory or changed). */
  forget(id: string): void {
    this.admitted.delete(id);
  }

  private holds(c: DeviceClaim): boolean {
    const e = this.inventory.entry(c.id);
    return e !== undefined && e.tenant === c.tenant && !this.inventory.isHeld(c.id);
  }

  private async claim(m: InventoryMiner, device: string, tries: number): Promise<boolean> {
    const mine: DeviceClaim = { id: m.id, tenant: m.tenant, source: m.source, ...(m.created_ms !== undefined ? { created_ms: m.created_ms } : {}) };
    // An unreadable claim reads as none.
    const holder = await this.store.getDeviceClaim(device);
    if (holder === null) {
      if (await this.store.claimDeviceIfFree(device, mine)) return true;
      // Another collector claimed it between the read and the write.
      return tries > 1 ? this.claim(m, device, tries - 1) : false;
    }
    // One tenant's own duplicate, or the operator's, is not a tenancy matter.
    if (holder.id === m.id || holder.tenant === m.tenant || (m.source === 'file' && holder.source === 'file')) return true;
    const holderActive = this.holds(holder);
    if (!holderActive || precedes(mine, holder)) {
      if (holderActive) {
        this.log.warn({ miner: holder.id, device, by: m.id }, 'device claimed by an entry that precedes it; the entry that held it is held back');
        this.admitted.delete(holder.id);
        await this.inventory.holdDevice(holder.id);
      }
      await this.store.setDeviceClaim(device, mine);
      return true;
    }
    this.log.warn({ miner: m.id, tenant: m.tenant, device, holder: holder.id }, 'miner reports a device another tenant\'s entry holds; held back');
    await this.inventory.holdDevice(m.id);
    return false;
  }
}
