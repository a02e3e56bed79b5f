import { randomUUID } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { FleetError } from '../../core/errors.ts';
import { CredentialPolicy } from '../../collector/inventory/credential-policy.ts';
import { deviceIdOf } from '../../collector/inventory/device-identity.ts';
import { canonicalHost, endpointKey, resolveHost, type Lookup } from '../../collector/inventory/endpoint.ts';
import { MinerClient } from '../../collector/miner-client.ts';
import {
  inventoryMinerSchema,
  minerIdSchema,
  scopeNameSchema,
  type InventoryMiner,
  type InventoryMinerEntry,
} from '../../collector/inventory/schema.ts';
import type { FleetEvent, HealthStatus, MinerSnapshot } from '../../core/samples.ts';
import type { ApiInventoryEntry, PutEntryResult } from '../../store/ports/inventory.ts';
import { recordSafely, type AuditLog } from '../control/audit.ts';
import type { ApiInfra, Caller } from '../context.ts';
import { hasRole } from '../context.ts';

/**
 * Admin side of the inventory: miners added through the API, miner credentials, and discovery
 * scans. Everything is scoped to the caller's tenant.
 *
 * Storage (what the collector reads), through the store's inventory port:
 *  - API entries: InventoryMinerEntry (inventoryMinerSchema), always with `id` and `tenant`
 *    set. The collector merges these with its file and scan miners and writes the result as
 *    the resolved inventory.
 *  - credentials through CredentialStore (AES-GCM sealed in the store). Names managed through the
 *    API are tenant-scoped: the stored name is `<tenant>:<name>`, and API inventory entries
 *    refer to that stored name. Names from the inventory file and `default` are the
 *    operator's: read-only here, and usable by a tenant only where MINER_SHARED_CREDENTIALS
 *    shares them with it (collector/inventory/credential-policy.ts).
 *
 * Identity: an address is stored in its canonical spelling (collector/inventory/endpoint.ts), and
 * a new entry is refused when any of the addresses it resolves to, with its port, is already
 * in the inventory of any tenant; the answer to another tenant never says whose it is. The
 * store refuses, in the same step as the write, an id or a literal endpoint taken meanwhile.
 *
 * Messages published through the store's pub/sub port, JSON, one per change:
 *   {"type":"inventory","op":"upsert"|"remove","id":"<miner id>","tenant":"<tenant>"}
 *       -> the collector re-reads the API entries.
 *   {"type":"scan","id":"<uuid>","cidr":"10.0.1.0/24","tenant":"acme","site":"dc2",
 *    "port":50051,"credentials":"acme:site-b","labels":{"rack":"r4"},
 *    "requested_by":"<sub>","requested_ms":1760000000000}
 *       -> the collector probes the range (port, credentials and labels are optional and
 *          default to the collector's defaults; tenant and site are always set).
 * Scan requests are also kept by the inventory port (same JSON, newest 1000), so a collector
 * that was not subscribed when the request was made can catch up.
 */

const cidrSchema = z
  .string()
  .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, { error: 'expected an IPv4 CIDR such as 10.0.0.0/24' })
  .refine(c => isIPv4(c.split('/')[0]!), { error: 'expected a valid IPv4 network address' })
  .refine(c => Number(c.split('/')[1]) >= 16 && Number(c.split('/')[1]) <= 32, {
    error: 'scan at most a /16 (65,536 addresses) at a time',
  });

/** A miner added through the API; tenant is always the caller's. */
export const inventoryMinerInputSchema = z.strictObject({
  id: minerIdSchema.optional(),
  address: z
    .string()
    .regex(/^[A-Za-z0-9.:%[\]_-]{1,255}$/, { error: 'expected a host name or IP address' }),
  port: z.number().int().min(1).max(65_535).optional(),
  site: scopeNameSchema.optional(),
  /** name of a credential entry (PUT /api/v1/inventory/credentials/:name), or a global one from the inventory file */
  credentials: scopeNameSchema.optional(),
  labels: z.record(z.string().min(1).max(64), z.string().max(256)).default({}),
});
export type InventoryMinerInput = z.input<typeof inventoryMinerInputSchema>;

export const credentialsInputSchema = z.strictObject({
  username: z.string().min(1).max(128),
  password: z.string().max(256),
});

export const scanRequestSchema = z.strictObject({
  cidr: cidrSchema,
  site: scopeNameSchema.optional(),
  port: z.number().int().min(1).max(65_535).optional(),
  credentials: scopeNameSchema.optional(),
  labels: z.record(z.string().min(1).max(64), z.string().max(256)).default({}),
});

export interface InventoryMinerView {
  id: string;
  address: string;
  port: number | null;
  tenant: string;
  site: string | null;
  credentials: string | null;
  labels: Record<string, string>;
  /** where the collector got it from; api entries not yet picked up are `pending` */
  source: 'api' | 'file' | 'scan';
  state: 'active' | 'pending' | 'quarantined';
  /** why a quarantined entry is neither polled nor controlled; null otherwise */
  reason: string | null;
  status: HealthStatus | null;
}

export interface CredentialView {
  name: string;
  username: string;
  /** tenant: managed through the API for this tenant; global: inventory file / default (read-only here) */
  scope: 'tenant' | 'global';
}

export interface ScanRequest {
  type: 'scan';
  id: string;
  cidr: string;
  tenant: string;
  site: string;
  port?: number;
  credentials?: string;
  labels: Record<string, string>;
  requested_by: string;
  requested_ms: number;
}

function issues(err: z.ZodError): string {
  return err.issues.map(i => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

export class InventoryService {
  private readonly infra: ApiInfra;
  private readonly audit: AuditLog;
  /** default site for entries and scans without one */
  private readonly defaultSite: string;
  private readonly policy: CredentialPolicy;
  private readonly lookup: Lookup | undefined;
  /** deadline of a host-name lookup at registration */
  private readonly resolveTimeoutMs: number;
  /** deadline of the identity probe of a new entry's miner */
  private readonly probeTimeoutMs: number;

  constructor(
    infra: ApiInfra,
    deps: { audit: AuditLog },
    options: { defaultSite?: string; lookup?: Lookup; resolveTimeoutMs?: number; probeTimeoutMs?: number } = {},
  ) {
    this.infra = infra;
    this.audit = deps.audit;
    this.defaultSite = options.defaultSite ?? 'default';
    this.policy = new CredentialPolicy(infra.config.MINER_SHARED_CREDENTIALS ?? '');
    this.lookup = options.lookup;
    this.resolveTimeoutMs = options.resolveTimeoutMs ?? 2_000;
    this.probeTimeoutMs = options.probeTimeoutMs ?? Math.min(1_500, infra.config.MINER_RPC_TIMEOUT_MS);
  }

  private admin(caller: Caller): void {
    if (!hasRole(caller, 'admin'))
      throw new FleetError('forbidden', 'inventory and credentials need the admin role');
  }

  private scoped(caller: Caller, name: string): string {
    return `${caller.tenant}:${name}`;
  }

  private display(caller: Caller, stored: string | undefined | null): string | null {
    if (!stored) return null;
    return stored.startsWith(`${caller.tenant}:`) ? stored.slice(caller.tenant.length + 1) : stored;
  }

  private async note(
    caller: Caller,
    message: string,
    data: Record<string, string | number | boolean>,
    miner = '',
    site = '',
  ): Promise<void> {
    const e: FleetEvent = {
      time_ms: Date.now(),
      tenant: caller.tenant,
      site,
      miner,
      kind: 'control_action',
      severity: 'info',
      message,
      actor: caller.sub,
      result: 'ok',
      data,
    };
    await recordSafely(this.audit, this.infra.log, [e]);
  }

  private async publish(message: object): Promise<void> {
    await this.infra.store.pubsub.publishInventoryChange(message).catch(err => {
      this.infra.log.warn(
        { err: (err as Error).message },
        'inventory change not announced; the collector picks it up on its next reload',
      );
    });
  }

  // ---- miners ----

  async listMiners(caller: Caller): Promise<{ items: InventoryMinerView[]; total: number }> {
    this.admin(caller);
    const { inventory } = this.infra.store;
    const [resolvedAll, apiAll, quarantined] = await Promise.all([
      inventory.readResolved(),
      inventory.listEntries(),
      inventory.readQuarantine(),
    ]);
    const resolved = new Map<string, InventoryMiner>();
    for (const m of resolvedAll) if (m.tenant === caller.tenant) resolved.set(m.id, m);
    const ids = [...resolved.keys()];
    const snaps = await this.infra.store.state.snapshots(ids).catch(() => [] as (MinerSnapshot | null)[]);
    const statusOf = new Map(ids.map((id, i) => [id, snaps[i]?.status ?? null]));
    const out: InventoryMinerView[] = [];
    for (const m of resolved.values()) {
      out.push({
        id: m.id,
        address: m.host,
        port: m.port,
        tenant: m.tenant,
        site: m.site,
        credentials: this.display(caller, m.credentials),
        labels: m.labels ?? {},
        source: m.source,
        state: 'active',
        reason: null,
        status: statusOf.get(m.id) ?? null,
      });
    }
    for (const [id, e] of apiAll) {
      if (!e || e.tenant !== caller.tenant || resolved.has(id)) continue;
      const q = quarantined.get(id);
      out.push({
        id,
        address: e.address,
        port: e.port ?? null,
        tenant: caller.tenant,
        site: e.site ?? null,
        credentials: this.display(caller, e.credentials),
        labels: e.labels ?? {},
        source: 'api',
        state: q ? 'quarantined' : 'pending',
        reason: q?.message ?? null,
        status: null,
      });
    }
    out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { items: out, total: out.length };
  }

  async getMiner(caller: Caller, id: string): Promise<InventoryMinerView> {
    const { items } = await this.listMiners(caller);
    const m = items.find(x => x.id === id);
    if (!m)
      throw new FleetError('not_found', `unknown miner '${id}' in your inventory`, {
        details: { miner: id },
      });
    return m;
  }

  /**
   * Stored credential name for an entry: the tenant's own entry, else an instance-wide one the
   * operator shared with this tenant. No name means `default`, under the same rule.
   */
  private async credentialName(caller: Caller, name: string | undefined): Promise<string> {
    const list = await this.infra.credentials.list();
    if (name !== undefined && list.some(c => c.source === 'api' && c.name === this.scoped(caller, name)))
      return this.scoped(caller, name);
    const wanted = name ?? 'default';
    if (list.some(c => c.source !== 'api' && c.name === wanted) && this.policy.mayUse(caller.tenant, wanted))
      return wanted;
    if (name === undefined)
      throw new FleetError(
        'invalid_argument',
        'credentials: required; the instance-wide `default` credentials are not shared with your tenant (an operator shares them with MINER_SHARED_CREDENTIALS); add your own with PUT /api/v1/inventory/credentials/:name and name them here',
        { details: { credentials: null } },
      );
    throw new FleetError(
      'invalid_argument',
      `credentials: no credentials named '${name}' for your tenant; add them with PUT /api/v1/inventory/credentials/${name} first (instance-wide credentials need an operator to share them with MINER_SHARED_CREDENTIALS)`,
      { details: { credentials: name } },
    );
  }

  /** Canonical spelling of an address, with the error naming the field. */
  private canonicalAddress(address: string): string {
    try {
      return canonicalHost(address).host;
    } catch (err) {
      throw new FleetError('invalid_argument', `address: ${(err as Error).message}`, {
        details: { address },
      });
    }
  }

  private async buildEntry(
    caller: Caller,
    input: unknown,
    forcedId?: string,
  ): Promise<InventoryMinerEntry & { id: string }> {
    const parsed = inventoryMinerInputSchema.safeParse(input);
    if (!parsed.success)
      throw new FleetError('invalid_argument', `invalid inventory entry: ${issues(parsed.error)}`);
    const e = parsed.data;
    if (forcedId !== undefined && e.id !== undefined && e.id !== forcedId)
      throw new FleetError(
        'invalid_argument',
        `the body's id '${e.id}' differs from the path's '${forcedId}'; ids cannot be changed (delete and add again)`,
      );
    const address = this.canonicalAddress(e.address);
    const id = forcedId ?? e.id ?? (e.port && e.port !== 50_051 ? `${address}:${e.port}` : address);
    const idOk = minerIdSchema.safeParse(id);
    if (!idOk.success)
      throw new FleetError(
        'invalid_argument',
        `cannot use '${id}' as a miner id; give an id (letters, digits, ".", "_", ":" or "-")`,
      );
    const credentials = await this.credentialName(caller, e.credentials);
    const entry = inventoryMinerSchema.parse({
      id,
      address,
      ...(e.port !== undefined ? { port: e.port } : {}),
      tenant: caller.tenant,
      site: e.site ?? this.defaultSite,
      credentials,
      labels: e.labels,
      created_ms: Date.now(),
    });
    return { ...entry, id };
  }

  /** The addresses an entry stands for now (a name is resolved); a name that does not resolve is bad input. */
  private async addressesOf(address: string): Promise<string[]> {
    try {
      return await resolveHost(address, {
        timeoutMs: this.resolveTimeoutMs,
        ...(this.lookup ? { lookup: this.lookup } : {}),
      });
    } catch (err) {
      throw new FleetError('invalid_argument', `address: ${(err as Error).message}`, { details: { address } });
    }
  }

  /**
   * Checks that neither the id nor the endpoint is taken by another miner of any tenant. Endpoints
   * compare by what they resolve to (every spelling of an address, and host names, resolved now),
   * and the answer to another tenant is the same whoever holds it.
   */
  private async checkFree(
    caller: Caller,
    entry: InventoryMinerEntry & { id: string },
    replacing: boolean,
  ): Promise<void> {
    const { inventory } = this.infra.store;
    const [resolvedAll, apiAll] = await Promise.all([inventory.readResolved(), inventory.listEntries()]);
    const api = apiAll.get(entry.id) ?? null;
    if (api && api.tenant !== caller.tenant)
      throw new FleetError('conflict', `miner id '${entry.id}' is already in use; choose another id`);
    if (api && !replacing)
      throw new FleetError(
        'conflict',
        `miner '${entry.id}' is already in your inventory; use PUT /api/v1/inventory/miners/${entry.id} to change it`,
      );
    const port = entry.port ?? 50_051;
    const others = new Map<string, { tenant: string; host: string; port: number }>();
    for (const m of resolvedAll) {
      if (m.id === entry.id) {
        if (m.tenant !== caller.tenant)
          throw new FleetError('conflict', `miner id '${entry.id}' is already in use; choose another id`);
        if (m.source === 'file')
          throw new FleetError(
            'conflict',
            `miner '${entry.id}' is defined in the inventory file; change it there`,
          );
        continue;
      }
      others.set(m.id, { tenant: m.tenant, host: m.host, port: m.port });
    }
    // Entries the collector has not picked up yet (or holds back) count too.
    for (const [id, e] of apiAll) {
      if (!e || id === entry.id || others.has(id)) continue;
      others.set(id, { tenant: e.tenant ?? '', host: e.address, port: e.port ?? 50_051 });
    }
    const wanted = new Set((await this.addressesOf(entry.address)).map(ip => endpointKey(ip, port)));
    const holders = await Promise.all(
      [...others].map(async ([id, o]) => {
        if (o.port !== port) return null;
        const ips = await resolveHost(o.host, {
          timeoutMs: this.resolveTimeoutMs,
          ...(this.lookup ? { lookup: this.lookup } : {}),
        }).catch(() => [] as string[]); // an entry whose name no longer resolves holds no address now
        return ips.some(ip => wanted.has(endpointKey(ip, port))) ? { id, tenant: o.tenant } : null;
      }),
    );
    const holder = holders.find(x => x !== null);
    if (holder) throw this.endpointTaken(caller, entry.address, port, holder);
  }

  /**
   * Asks the miner who it is (GetMinerDetails with the entry's credentials, short deadline) and
   * refuses a device another tenant's entry already holds (device-identity.ts). A miner that does
   * not answer now is checked by the collector before anything it reports is kept.
   */
  private async checkDevice(caller: Caller, entry: InventoryMinerEntry & { id: string }): Promise<void> {
    const port = entry.port ?? 50_051;
    const credentials = entry.credentials ?? 'default';
    const client = new MinerClient({
      minerId: entry.id,
      host: entry.address.includes(':') ? `[${entry.address}]` : entry.address,
      port,
      credentials: () => this.infra.credentials.resolve(credentials),
      timeoutMs: this.probeTimeoutMs,
      keepaliveMs: 0,
    });
    let device: string | null;
    try {
      const d = await client.unary('MinerService', 'GetMinerDetails', {}, { timeoutMs: this.probeTimeoutMs });
      device = deviceIdOf({ uid: d.uid, mac: d.mac_address || null, serial: d.serial_number ?? null });
    } catch {
      return; // not reachable (or not with these credentials) now: the collector checks at its first poll
    } finally {
      client.close();
    }
    if (device === null) return;
    const { inventory } = this.infra.store;
    const holder = await inventory.getDeviceClaim(device);
    if (!holder || holder.tenant === caller.tenant || holder.id === entry.id) return;
    const [[resolved], api] = await Promise.all([inventory.getResolved([holder.id]), inventory.hasEntry(holder.id)]);
    if (resolved || api) throw this.endpointTaken(caller, entry.address, port, holder);
  }

  /** One answer for "somebody has this device": a tenant learns only about its own entries. */
  private endpointTaken(
    caller: Caller,
    address: string,
    port: number,
    holder: { id: string; tenant: string },
  ): FleetError {
    return new FleetError(
      'conflict',
      holder.tenant === caller.tenant
        ? `address ${address}:${port} is already in your inventory as '${holder.id}'`
        : `address ${address}:${port} is already in the inventory`,
    );
  }

  /** What the store's own check refused (an id or endpoint taken since checkFree, or the entry gone). */
  private refused(caller: Caller, entry: ApiInventoryEntry, r: Exclude<PutEntryResult, { ok: true }>): FleetError {
    if (r.reason === 'not_found')
      return new FleetError('not_found', `miner '${entry.id}' is not in your API inventory; POST /api/v1/inventory/miners adds it`);
    if (r.reason === 'id_taken')
      return r.holder.tenant === caller.tenant
        ? new FleetError('conflict', `miner '${entry.id}' is already in your inventory; use PUT /api/v1/inventory/miners/${entry.id} to change it`)
        : new FleetError('conflict', `miner id '${entry.id}' is already in use; choose another id`);
    return this.endpointTaken(caller, entry.address, entry.port ?? 50_051, r.holder);
  }

  private async save(caller: Caller, entry: InventoryMinerEntry & { id: string }, mode: 'create' | 'replace'): Promise<void> {
    const stored: ApiInventoryEntry = { ...entry, tenant: caller.tenant };
    const r = await this.infra.store.inventory.putEntry(stored, mode);
    if (!r.ok) throw this.refused(caller, stored, r);
  }

  async addMiner(caller: Caller, input: unknown): Promise<InventoryMinerView> {
    this.admin(caller);
    const entry = await this.buildEntry(caller, input);
    await this.checkFree(caller, entry, false);
    await this.checkDevice(caller, entry);
    await this.save(caller, entry, 'create');
    await this.publish({ type: 'inventory', op: 'upsert', id: entry.id, tenant: caller.tenant });
    await this.note(
      caller,
      `inventory: miner ${entry.id} added (${entry.address}${entry.port ? `:${entry.port}` : ''})`,
      { op: 'inventory_add' },
      entry.id,
      entry.site ?? '',
    );
    return this.entryView(caller, entry);
  }

  async updateMiner(caller: Caller, id: string, input: unknown): Promise<InventoryMinerView> {
    this.admin(caller);
    const existing = await this.infra.store.inventory.getEntry(id);
    if (!existing || existing.tenant !== caller.tenant) {
      const [resolved] = await this.infra.store.inventory.getResolved([id]);
      if (resolved && resolved.tenant === caller.tenant)
        throw new FleetError(
          'conflict',
          `miner '${id}' comes from the ${resolved.source === 'file' ? 'inventory file' : 'network scan'}; ${resolved.source === 'file' ? 'change it there' : 'add it with POST to manage it here'}`,
        );
      throw new FleetError(
        'not_found',
        `miner '${id}' is not in your API inventory; POST /api/v1/inventory/miners adds it`,
      );
    }
    const entry = await this.buildEntry(caller, input, id);
    if (existing.created_ms !== undefined) entry.created_ms = existing.created_ms;
    await this.checkFree(caller, entry, true);
    await this.checkDevice(caller, entry);
    // Also lifts its device hold: a changed entry is checked afresh by the collector (device-identity.ts).
    await this.save(caller, entry, 'replace');
    await this.publish({ type: 'inventory', op: 'upsert', id, tenant: caller.tenant });
    await this.note(
      caller,
      `inventory: miner ${id} updated`,
      { op: 'inventory_update' },
      id,
      entry.site ?? '',
    );
    return this.entryView(caller, entry);
  }

  async removeMiner(caller: Caller, id: string): Promise<{ removed: true }> {
    this.admin(caller);
    const existing = await this.infra.store.inventory.getEntry(id);
    if (!existing || existing.tenant !== caller.tenant) {
      const [resolved] = await this.infra.store.inventory.getResolved([id]);
      if (resolved && resolved.tenant === caller.tenant)
        throw new FleetError(
          'conflict',
          `miner '${id}' comes from the ${resolved.source === 'file' ? 'inventory file; remove it there' : 'network scan; it will be found again by the next scan of its range'}`,
        );
      throw new FleetError('not_found', `miner '${id}' is not in your API inventory`);
    }
    if ((await this.infra.store.inventory.removeEntry(id, caller.tenant)) === null)
      throw new FleetError('not_found', `miner '${id}' is not in your API inventory`);
    await this.publish({ type: 'inventory', op: 'remove', id, tenant: caller.tenant });
    this.infra.minerPool.evict(id);
    // Its last snapshot would otherwise linger in fleet answers until it goes stale.
    await this.infra.store.state
      .removeMiner(id)
      .catch(err =>
        this.infra.log.warn(
          { miner: id, err: (err as Error).message },
          'snapshot of a removed miner not deleted',
        ),
      );
    await this.note(
      caller,
      `inventory: miner ${id} removed`,
      { op: 'inventory_remove' },
      id,
      existing.site ?? '',
    );
    return { removed: true };
  }

  private entryView(caller: Caller, e: InventoryMinerEntry & { id: string }): InventoryMinerView {
    return {
      id: e.id,
      address: e.address,
      port: e.port ?? null,
      tenant: caller.tenant,
      site: e.site ?? null,
      credentials: this.display(caller, e.credentials),
      labels: e.labels ?? {},
      source: 'api',
      state: 'pending',
      reason: null,
      status: null,
    };
  }

  // ---- credentials ----

  async listCredentials(caller: Caller): Promise<CredentialView[]> {
    this.admin(caller);
    const prefix = `${caller.tenant}:`;
    const out: CredentialView[] = [];
    for (const c of await this.infra.credentials.list()) {
      if (c.source === 'api') {
        if (c.name.startsWith(prefix))
          out.push({ name: c.name.slice(prefix.length), username: c.username, scope: 'tenant' });
        // API-managed names always carry a tenant prefix; anything else here belongs to another tenant.
      } else if (this.policy.mayUse(caller.tenant, c.name)) {
        // Only what an operator shared with this tenant (MINER_SHARED_CREDENTIALS).
        out.push({ name: c.name, username: c.username, scope: 'global' });
      }
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async putCredentials(caller: Caller, name: string, input: unknown): Promise<CredentialView> {
    this.admin(caller);
    const n = scopeNameSchema.safeParse(name);
    if (!n.success) throw new FleetError('invalid_argument', `invalid credentials name: ${issues(n.error)}`);
    const parsed = credentialsInputSchema.safeParse(input);
    if (!parsed.success)
      throw new FleetError('invalid_argument', `invalid credentials: ${issues(parsed.error)}`);
    await this.infra.credentials.put(this.scoped(caller, name), parsed.data);
    // Clients holding a token made with the old password re-login on their next UNAUTHENTICATED.
    await this.publish({
      type: 'inventory',
      op: 'credentials',
      name: this.scoped(caller, name),
      tenant: caller.tenant,
    });
    await this.note(caller, `credentials '${name}' set (user ${parsed.data.username})`, {
      op: 'credentials_put',
      name,
    });
    return { name, username: parsed.data.username, scope: 'tenant' };
  }

  async removeCredentials(caller: Caller, name: string): Promise<{ removed: true }> {
    this.admin(caller);
    const stored = this.scoped(caller, name);
    const users = [...(await this.infra.store.inventory.listEntries()).values()].filter(
      e => e && e.tenant === caller.tenant && e.credentials === stored,
    );
    if (users.length > 0)
      throw new FleetError(
        'conflict',
        `credentials '${name}' are used by ${users.length} miner(s) of your inventory; point them at other credentials first`,
      );
    const removed = await this.infra.credentials.remove(stored);
    if (!removed) throw new FleetError('not_found', `no credentials named '${name}' managed through the API`);
    await this.note(caller, `credentials '${name}' removed`, { op: 'credentials_remove', name });
    return { removed: true };
  }

  // ---- discovery ----

  async requestScan(caller: Caller, input: unknown): Promise<ScanRequest> {
    this.admin(caller);
    const parsed = scanRequestSchema.safeParse(input);
    if (!parsed.success)
      throw new FleetError('invalid_argument', `invalid scan request: ${issues(parsed.error)}`);
    const s = parsed.data;
    const credentials = await this.credentialName(caller, s.credentials);
    const req: ScanRequest = {
      type: 'scan',
      id: randomUUID(),
      cidr: s.cidr,
      tenant: caller.tenant,
      site: s.site ?? this.defaultSite,
      ...(s.port !== undefined ? { port: s.port } : {}),
      ...(credentials !== undefined ? { credentials } : {}),
      labels: s.labels,
      requested_by: caller.sub,
      requested_ms: Date.now(),
    };
    await this.infra.store.inventory.recordScanRequest(req, 1_000);
    await this.publish(req);
    await this.note(caller, `discovery scan of ${s.cidr} requested (site ${req.site})`, {
      op: 'scan',
      cidr: s.cidr,
    });
    return req;
  }
}
