import type { InventoryMiner, InventoryMinerEntry } from '../../collector/inventory/schema.ts';
import type { QuarantineEntry } from '../../collector/inventory/quarantine.ts';
import { FleetError } from '../../core/errors.ts';

/**
 * The inventory's storage: miners added through the API (one record per id, always with its
 * tenant), the collector's resolved inventory and the entries it holds back, device holds and
 * device-identity claims (shared by every collector shard), and API-managed miner credentials,
 * which this port only ever sees sealed (collector/secret-box.ts).
 */

/** Port a miner's gRPC API listens on when an entry names none. */
export const DEFAULT_MINER_PORT = 50_051;

/** An entry added through the API, as stored. */
export type ApiInventoryEntry = InventoryMinerEntry & { id: string; tenant: string };

/** The entry that holds an id or an endpoint. */
export interface EntryHolder {
  id: string;
  tenant: string;
}

export type PutEntryResult =
  | { ok: true }
  /** create: the id is already an entry (of this or another tenant) */
  | { ok: false; reason: 'id_taken'; holder: EntryHolder }
  /** another entry has the same canonical address and port */
  | { ok: false; reason: 'endpoint_taken'; holder: EntryHolder }
  /** replace: no entry with this id for this tenant */
  | { ok: false; reason: 'not_found' };

/** Who holds a device (device-identity.ts): the first entry to report it, unless one precedes it. */
export interface DeviceClaim {
  id: string;
  tenant: string;
  source: InventoryMiner['source'];
  created_ms?: number;
}

export interface InventoryPort {
  /** every API entry by id; null for a record that cannot be read (the caller reports it) */
  listEntries(): Promise<Map<string, InventoryMinerEntry | null>>;
  getEntry(id: string): Promise<InventoryMinerEntry | null>;
  hasEntry(id: string): Promise<boolean>;
  /**
   * Stores an entry in one atomic step with its checks: `create` is refused when the id is
   * taken, `replace` when the tenant has no entry with this id; both are refused when another
   * entry has the same address (canonical spelling) and port. `replace` lifts the entry's
   * device hold (a changed entry is checked afresh).
   */
  putEntry(entry: ApiInventoryEntry, mode: 'create' | 'replace'): Promise<PutEntryResult>;
  /** Removes the tenant's entry and its device hold; null (nothing removed) when the tenant has no such entry. */
  removeEntry(id: string, tenant: string): Promise<InventoryMinerEntry | null>;
  /** Keeps a scan request (newest first, at most `keep`) for a collector that was not listening. */
  recordScanRequest(request: object, keep: number): Promise<void>;
  /** newest first */
  listScanRequests(): Promise<unknown[]>;

  /** the collector's merged inventory (file, API, scans) */
  readResolved(): Promise<InventoryMiner[]>;
  /** resolved entries by id, in the order asked; null where absent */
  getResolved(ids: readonly string[]): Promise<(InventoryMiner | null)[]>;
  /** Replaces the resolved inventory and the held-back entries together. */
  writeResolved(miners: readonly InventoryMiner[], quarantined: readonly QuarantineEntry[]): Promise<void>;
  readQuarantine(): Promise<Map<string, QuarantineEntry>>;

  /** Holds an entry back because its device is another entry's, until the entry changes (`definition`). */
  setDeviceHold(id: string, definition: string): Promise<void>;
  readDeviceHolds(): Promise<Map<string, string>>;

  getDeviceClaim(device: string): Promise<DeviceClaim | null>;
  /** Claims a device nobody holds; false when another claim got there first. */
  claimDeviceIfFree(device: string, claim: DeviceClaim): Promise<boolean>;
  /** Takes a device over (an entry that precedes its holder). */
  setDeviceClaim(device: string, claim: DeviceClaim): Promise<void>;

  /** sealed credentials (SecretBox format); never a password in clear */
  getSealedCredential(name: string): Promise<string | null>;
  listSealedCredentials(): Promise<Map<string, string>>;
  putSealedCredential(name: string, sealed: string): Promise<void>;
  removeCredential(name: string): Promise<boolean>;
}

/** Refuses anything that is not a SecretBox seal, so a password in clear never reaches storage. */
export function assertSealed(name: string, sealed: string): void {
  if (!/^v1\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]*$/.test(sealed))
    throw new FleetError('internal', `credentials '${name}' reached the store unsealed; seal them with SecretBox first`);
}

/** JSON of a stored record, or null when it is not an object. */
export function parseRecord<T>(raw: string | null | undefined): T | null {
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as unknown;
    return v !== null && typeof v === 'object' ? (v as T) : null;
  } catch {
    return null;
  }
}
