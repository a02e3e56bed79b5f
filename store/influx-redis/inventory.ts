import type { Redis } from 'ioredis';
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
import type { RedisKeys } from './redis-keys.ts';

/**
 * The inventory in Redis (keys in redis-keys.ts): HASH inventory() id -> JSON entry,
 * HASH resolvedInventory() id -> JSON InventoryMiner, HASHes inventory:quarantine,
 * inventory:device-holds (id -> definition) and inventory:devices (device -> JSON DeviceClaim),
 * HASH credentials() name -> sealed, LIST scan:requests.
 */

// KEYS: entries, device holds. ARGV: id, tenant, address, port, mode, json.
// One script, so two API replicas cannot both add one endpoint.
const PUT_ENTRY = `
local function dec(s)
  local ok, v = pcall(cjson.decode, s)
  if ok and type(v) == 'table' then return v end
  return nil
end
local function tenantOf(e)
  if e and type(e.tenant) == 'string' then return e.tenant end
  return ''
end
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[5] == 'create' then
  if cur then return {'id_taken', ARGV[1], tenantOf(dec(cur))} end
else
  local c = cur and dec(cur)
  if not c or c.tenant ~= ARGV[2] then return {'not_found'} end
end
local port = tonumber(ARGV[4])
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if all[i] ~= ARGV[1] then
    local e = dec(all[i + 1])
    if e and e.address == ARGV[3] and (tonumber(e.port) or ${DEFAULT_MINER_PORT}) == port then
      return {'endpoint_taken', all[i], tenantOf(e)}
    end
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[6])
if ARGV[5] == 'replace' then redis.call('HDEL', KEYS[2], ARGV[1]) end
return {'ok'}
`;

// KEYS: entries, device holds. ARGV: id, tenant.
const REMOVE_ENTRY = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return false end
local ok, e = pcall(cjson.decode, cur)
if not ok or type(e) ~= 'table' or e.tenant ~= ARGV[2] then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return cur
`;

export class RedisInventory implements InventoryPort {
  private readonly redis: Redis;
  private readonly keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys) {
    this.redis = redis;
    this.keys = keys;
  }

  private get holdsKey(): string {
    return this.keys.custom('inventory', 'device-holds');
  }

  private get devicesKey(): string {
    return this.keys.custom('inventory', 'devices');
  }

  private get quarantineKey(): string {
    return this.keys.custom('inventory', 'quarantine');
  }

  private get scanKey(): string {
    return this.keys.custom('scan', 'requests');
  }

  async listEntries(): Promise<Map<string, InventoryMinerEntry | null>> {
    const all = await this.redis.hgetall(this.keys.inventory());
    return new Map(Object.entries(all).map(([id, json]) => [id, parseRecord<InventoryMinerEntry>(json)]));
  }

  async getEntry(id: string): Promise<InventoryMinerEntry | null> {
    return parseRecord<InventoryMinerEntry>(await this.redis.hget(this.keys.inventory(), id));
  }

  async hasEntry(id: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys.inventory(), id)) === 1;
  }

  async putEntry(entry: ApiInventoryEntry, mode: 'create' | 'replace'): Promise<PutEntryResult> {
    const out = (await this.redis.eval(
      PUT_ENTRY,
      2,
      this.keys.inventory(),
      this.holdsKey,
      entry.id,
      entry.tenant,
      entry.address,
      String(entry.port ?? DEFAULT_MINER_PORT),
      mode,
      JSON.stringify(entry),
    )) as string[];
    const [reason, id, tenant] = out;
    if (reason === 'ok') return { ok: true };
    if (reason === 'not_found') return { ok: false, reason };
    if (reason === 'id_taken' || reason === 'endpoint_taken') return { ok: false, reason, holder: { id: id!, tenant: tenant! } };
    throw new Error(`unexpected answer of the inventory script: ${String(reason)}`);
  }

  async removeEntry(id: string, tenant: string): Promise<InventoryMinerEntry | null> {
    const raw = (await this.redis.eval(REMOVE_ENTRY, 2, this.keys.inventory(), this.holdsKey, id, tenant)) as string | null;
    return parseRecord<InventoryMinerEntry>(raw);
  }

  async recordScanRequest(request: object, keep: number): Promise<void> {
    await this.redis.multi().lpush(this.scanKey, JSON.stringify(request)).ltrim(this.scanKey, 0, keep - 1).exec();
  }

  async listScanRequests(): Promise<unknown[]> {
    return (await this.redis.lrange(this.scanKey, 0, -1)).map(s => parseRecord<unknown>(s)).filter(r => r !== null);
  }

  async readResolved(): Promise<InventoryMiner[]> {
    const all = await this.redis.hgetall(this.keys.resolvedInventory());
    return Object.values(all)
      .map(json => parseRecord<InventoryMiner>(json))
      .filter(m => m !== null);
  }

  async getResolved(ids: readonly string[]): Promise<(InventoryMiner | null)[]> {
    if (ids.length === 0) return [];
    const raws = await this.redis.hmget(this.keys.resolvedInventory(), ...ids);
    return raws.map(raw => parseRecord<InventoryMiner>(raw));
  }

  async writeResolved(miners: readonly InventoryMiner[], quarantined: readonly QuarantineEntry[]): Promise<void> {
    const key = this.keys.resolvedInventory();
    const pipe = this.redis.multi().del(key).del(this.quarantineKey);
    if (quarantined.length > 0) pipe.hset(this.quarantineKey, Object.fromEntries(quarantined.map(q => [q.id, JSON.stringify(q)])));
    for (let i = 0; i < miners.length; i += 1_000) {
      const chunk = miners.slice(i, i + 1_000);
      pipe.hset(key, Object.fromEntries(chunk.map(m => [m.id, JSON.stringify(m)])));
    }
    const results = await pipe.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0]!;
  }

  async readQuarantine(): Promise<Map<string, QuarantineEntry>> {
    const all = await this.redis.hgetall(this.quarantineKey);
    const out = new Map<string, QuarantineEntry>();
    for (const [id, json] of Object.entries(all)) {
      const q = parseRecord<QuarantineEntry>(json);
      if (q) out.set(id, q);
    }
    return out;
  }

  async setDeviceHold(id: string, definition: string): Promise<void> {
    await this.redis.hset(this.holdsKey, id, definition);
  }

  async readDeviceHolds(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.holdsKey)));
  }

  async getDeviceClaim(device: string): Promise<DeviceClaim | null> {
    return parseRecord<DeviceClaim>(await this.redis.hget(this.devicesKey, device));
  }

  async claimDeviceIfFree(device: string, claim: DeviceClaim): Promise<boolean> {
    return (await this.redis.hsetnx(this.devicesKey, device, JSON.stringify(claim))) === 1;
  }

  async setDeviceClaim(device: string, claim: DeviceClaim): Promise<void> {
    await this.redis.hset(this.devicesKey, device, JSON.stringify(claim));
  }

  async getSealedCredential(name: string): Promise<string | null> {
    return this.redis.hget(this.keys.credentials(), name);
  }

  async listSealedCredentials(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.keys.credentials())));
  }

  async putSealedCredential(name: string, sealed: string): Promise<void> {
    assertSealed(name, sealed);
    await this.redis.hset(this.keys.credentials(), name, sealed);
  }

  async removeCredential(name: string): Promise<boolean> {
    return (await this.redis.hdel(this.keys.credentials(), name)) > 0;
  }
}
