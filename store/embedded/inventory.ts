import type { InventoryMiner, InventoryMinerEntry } from '../../collector/inventory/schema.ts';
import type { QuarantineEntry } from '../../collector/inventory/quarantine.ts';
import {
  assertSealed,
  DEFAULT_MINER_PORT,
  parseRecord,
  type ApiInventoryEntry,
  type DeviceClaim,
  type InventoryPort,
  type PutEntryResult,
} from '../ports/inventory.ts';
import type { EmbeddedDatabase } from './database.ts';

const MIGRATIONS = [
  `CREATE TABLE inventory_entries (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, address TEXT NOT NULL, port INTEGER NOT NULL, entry TEXT NOT NULL);
   CREATE INDEX inventory_entries_endpoint ON inventory_entries (address, port);
   CREATE TABLE inventory_resolved (id TEXT PRIMARY KEY, miner TEXT NOT NULL);
   CREATE TABLE inventory_quarantine (id TEXT PRIMARY KEY, entry TEXT NOT NULL);
   CREATE TABLE inventory_device_holds (id TEXT PRIMARY KEY, definition TEXT NOT NULL);
   CREATE TABLE inventory_device_claims (device TEXT PRIMARY KEY, claim TEXT NOT NULL);
   CREATE TABLE inventory_credentials (name TEXT PRIMARY KEY, sealed TEXT NOT NULL);
   CREATE TABLE inventory_scan_requests (seq INTEGER PRIMARY KEY AUTOINCREMENT, request TEXT NOT NULL);`,
];

type Row = Record<string, string | number | null>;

/** The inventory in SQLite tables of the shared database; each check-and-write is one transaction. */
export class SqliteInventory implements InventoryPort {
  private readonly database: EmbeddedDatabase;

  constructor(database: EmbeddedDatabase) {
    this.database = database;
    database.migrate('inventory', MIGRATIONS);
  }

  private all(sql: string, ...params: (string | number)[]): Row[] {
    return this.database.db.prepare(sql).all(...params) as Row[];
  }

  private one(sql: string, ...params: (string | number)[]): Row | undefined {
    return this.database.db.prepare(sql).get(...params) as Row | undefined;
  }

  private run(sql: string, ...params: (string | number)[]): number {
    return Number(this.database.db.prepare(sql).run(...params).changes);
  }

  async listEntries(): Promise<Map<string, InventoryMinerEntry | null>> {
    const rows = this.all('SELECT id, entry FROM inventory_entries');
    return new Map(rows.map(r => [String(r.id), parseRecord<InventoryMinerEntry>(r.entry as string)]));
  }

  async getEntry(id: string): Promise<InventoryMinerEntry | null> {
    return parseRecord<InventoryMinerEntry>(this.one('SELECT entry FROM inventory_entries WHERE id = ?', id)?.entry as string | undefined);
  }

  async hasEntry(id: string): Promise<boolean> {
    return this.one('SELECT 1 AS x FROM inventory_entries WHERE id = ?', id) !== undefined;
  }

  async putEntry(entry: ApiInventoryEntry, mode: 'create' | 'replace'): Promise<PutEntryResult> {
    const port = entry.port ?? DEFAULT_MINER_PORT;
    return this.database.transaction((): PutEntryResult => {
      const cur = this.one('SELECT tenant FROM inventory_entries WHERE id = ?', entry.id);
      if (mode === 'create' && cur) return { ok: false, reason: 'id_taken', holder: { id: entry.id, tenant: String(cur.tenant) } };
      if (mode === 'replace' && (!cur || cur.tenant !== entry.tenant)) return { ok: false, reason: 'not_found' };
      const other = this.one('SELECT id, tenant FROM inventory_entries WHERE address = ? AND port = ? AND id <> ? LIMIT 1', entry.address, port, entry.id);
      if (other) return { ok: false, reason: 'endpoint_taken', holder: { id: String(other.id), tenant: String(other.tenant) } };
      this.run(
        `INSERT INTO inventory_entries (id, tenant, address, port, entry) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET tenant = excluded.tenant, address = excluded.address, port = excluded.port, entry = excluded.entry`,
        entry.id,
        entry.tenant,
        entry.address,
        port,
        JSON.stringify(entry),
      );
      if (mode === 'replace') this.run('DELETE FROM inventory_device_holds WHERE id = ?', entry.id);
      return { ok: true };
    });
  }

  async removeEntry(id: string, tenant: string): Promise<InventoryMinerEntry | null> {
    return this.database.transaction(() => {
      const cur = this.one('SELECT entry FROM inventory_entries WHERE id = ? AND tenant = ?', id, tenant);
      if (!cur) return null;
      this.run('DELETE FROM inventory_entries WHERE id = ?', id);
      this.run('DELETE FROM inventory_device_holds WHERE id = ?', id);
      return parseRecord<InventoryMinerEntry>(cur.entry as string);
    });
  }

  async recordScanRequest(request: object, keep: number): Promise<void> {
    this.database.transaction(() => {
      this.run('INSERT INTO inventory_scan_requests (request) VALUES (?)', JSON.stringify(request));
      this.run('DELETE FROM inventory_scan_requests WHERE seq NOT IN (SELECT seq FROM inventory_scan_requests ORDER BY seq DESC LIMIT ?)', keep);
    });
  }

  async listScanRequests(): Promise<unknown[]> {
    return this.all('SELECT request FROM inventory_scan_requests ORDER BY seq DESC')
      .map(r => parseRecord<unknown>(r.request as string))
      .filter(r => r !== null);
  }

  async readResolved(): Promise<InventoryMiner[]> {
    return this.all('SELECT miner FROM inventory_resolved')
      .map(r => parseRecord<InventoryMiner>(r.miner as string))
      .filter(m => m !== null);
  }

  async getResolved(ids: readonly string[]): Promise<(InventoryMiner | null)[]> {
    const stmt = this.database.db.prepare('SELECT miner FROM inventory_resolved WHERE id = ?');
    return ids.map(id => parseRecord<InventoryMiner>((stmt.get(id) as Row | undefined)?.miner as string | undefined));
  }

  async writeResolved(miners: readonly InventoryMiner[], quarantined: readonly QuarantineEntry[]): Promise<void> {
    this.database.transaction(() => {
      this.run('DELETE FROM inventory_resolved');
      this.run('DELETE FROM inventory_quarantine');
      const m = this.database.db.prepare('INSERT OR REPLACE INTO inventory_resolved (id, miner) VALUES (?, ?)');
      for (const x of miners) m.run(x.id, JSON.stringify(x));
      const q = this.database.db.prepare('INSERT OR REPLACE INTO inventory_quarantine (id, entry) VALUES (?, ?)');
      for (const x of quarantined) q.run(x.id, JSON.stringify(x));
    });
  }

  async readQuarantine(): Promise<Map<string, QuarantineEntry>> {
    const out = new Map<string, QuarantineEntry>();
    for (const r of this.all('SELECT id, entry FROM inventory_quarantine')) {
      const q = parseRecord<QuarantineEntry>(r.entry as string);
      if (q) out.set(String(r.id), q);
    }
    return out;
  }

  async setDeviceHold(id: string, definition: string): Promise<void> {
    this.run('INSERT INTO inventory_device_holds (id, definition) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET definition = excluded.definition', id, definition);
  }

  async readDeviceHolds(): Promise<Map<string, string>> {
    return new Map(this.all('SELECT id, definition FROM inventory_device_holds').map(r => [String(r.id), String(r.definition)]));
  }

  async getDeviceClaim(device: string): Promise<DeviceClaim | null> {
    return parseRecord<DeviceClaim>(this.one('SELECT claim FROM inventory_device_claims WHERE device = ?', device)?.claim as string | undefined);
  }

  async claimDeviceIfFree(device: string, claim: DeviceClaim): Promise<boolean> {
    return this.run('INSERT INTO inventory_device_claims (device, claim) VALUES (?, ?) ON CONFLICT(device) DO NOTHING', device, JSON.stringify(claim)) === 1;
  }

  async setDeviceClaim(device: string, claim: DeviceClaim): Promise<void> {
    this.run('INSERT INTO inventory_device_claims (device, claim) VALUES (?, ?) ON CONFLICT(device) DO UPDATE SET claim = excluded.claim', device, JSON.stringify(claim));
  }

  async getSealedCredential(name: string): Promise<string | null> {
    const r = this.one('SELECT sealed FROM inventory_credentials WHERE name = ?', name);
    return r ? String(r.sealed) : null;
  }

  async listSealedCredentials(): Promise<Map<string, string>> {
    return new Map(this.all('SELECT name, sealed FROM inventory_credentials').map(r => [String(r.name), String(r.sealed)]));
  }

  async putSealedCredential(name: string, sealed: string): Promise<void> {
    assertSealed(name, sealed);
    this.run('INSERT INTO inventory_credentials (name, sealed) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET sealed = excluded.sealed', name, sealed);
  }

  async removeCredential(name: string): Promise<boolean> {
    return this.run('DELETE FROM inventory_credentials WHERE name = ?', name) > 0;
  }
}
