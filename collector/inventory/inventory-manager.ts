import type { CredentialStore } from '../credentials.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { CollectorMetrics } from '../metrics.ts';
import type { InventoryPort } from '../../store/ports/inventory.ts';
import type { PubSubPort, Subscription } from '../../store/ports/pubsub.ts';
import { scanCidr, type ScanTarget } from './cidr-scan.ts';
import { CredentialPolicy } from './credential-policy.ts';
import { canonicalHost, endpointKey, resolveHost, type Lookup } from './endpoint.ts';
import { QUARANTINE_MESSAGES, type QuarantineEntry, type QuarantineReason } from './quarantine.ts';
import { fileMtime, loadInventoryFile, type LoadedInventoryFile } from './file-source.ts';
import { inventoryMinerSchema, type InventoryMiner } from './schema.ts';

export interface InventoryManagerOptions {
  filePath?: string;
  /** API entries, the resolved inventory and change notifications; without it, file and scans only */
  store?: { inventory: InventoryPort; pubsub: PubSubPort };
  credentials: CredentialStore;
  log: Logger;
  metrics?: CollectorMetrics;
  /** how often the file's mtime is checked @defaultValue 2000 */
  fileCheckMs?: number;
  scanConcurrency: number;
  scanTimeoutMs: number;
  defaults: { tenant: string; site: string; credentials: string; port: number };
  /** which instance-wide credentials tenants' API entries may use (MINER_SHARED_CREDENTIALS); none when absent */
  policy?: CredentialPolicy;
  /** how often host names of entries are resolved again @defaultValue 30000 */
  nameCheckMs?: number;
  /** resolver of host names (tests); the system resolver otherwise */
  lookup?: Lookup;
}

/** The definition of an entry a device hold applies to: changing the entry lifts the hold. */
function definitionOf(m: InventoryMiner): string {
  return JSON.stringify([m.host, m.port, m.tenant, m.credentials]);
}

/**
 * Merges the miners from the inventory file, CIDR scans and the API (the store) into one list
 * and tells the listener whenever it changes; no restart needed. Later sources do not
 * override earlier ones: file, then API (oldest first), then scans (a scanned address already
 * known is skipped). Hosts are put in their canonical spelling (endpoint.ts).
 *
 * The file is the operator's and trusted. An API entry (a tenant admin's) is held back —
 * quarantined, neither polled nor published, with a reason its admin sees — when its
 * credentials are not its tenant's own nor shared with it, when its endpoint is already
 * another tenant's, or when the device behind it turned out to be another entry's
 * (device-identity.ts).
 */
export class InventoryManager {
  private readonly opts: InventoryManagerOptions;
  private fileMiners: InventoryMiner[] = [];
  private apiMiners: InventoryMiner[] = [];
  private scanMiners = new Map<string, InventoryMiner[]>();
  private scanTargets: (ScanTarget & { every_ms?: number })[] = [];
  private fileMtimeMs: number | null = null;
  private timers: NodeJS.Timeout[] = [];
  private scanTimers = new Map<string, NodeJS.Timeout>();
  private subscription: Subscription | null = null;
  private listeners: ((miners: InventoryMiner[]) => void)[] = [];
  private lastKey = '';
  private readonly policy: CredentialPolicy;
  private quarantined = new Map<string, QuarantineEntry>();
  /** device holds (device-identity.ts): miner id -> definition of the entry when held */
  private deviceHolds = new Map<string, string>();
  /** every entry by id before quarantine, for "is the holder of a device still there" */
  private all = new Map<string, InventoryMiner>();
  /** host name -> the addresses it resolved to last (endpoint.ts); refreshed every nameCheckMs */
  private names = new Map<string, string[]>();
  private resolvingNames = false;
  private readonly abort = new AbortController();
  loaded = false;

  constructor(opts: InventoryManagerOptions) {
    this.opts = opts;
    this.policy = opts.policy ?? new CredentialPolicy('');
  }

  onChange(listener: (miners: InventoryMiner[]) => void): void {
    this.listeners.push(listener);
  }

  current(): InventoryMiner[] {
    return this.evaluate().miners;
  }

  /** Entries held back, with why. */
  quarantine(): QuarantineEntry[] {
    return [...this.evaluate().quarantined.values()];
  }

  /** An entry of any source by id, held back or not. */
  entry(id: string): InventoryMiner | undefined {
    return this.all.get(id);
  }

  /** Whether an entry is held back. */
  isHeld(id: string): boolean {
    return this.quarantined.has(id);
  }

  /** Hold an entry back because its device is another entry's (until the entry is changed). */
  async holdDevice(id: string): Promise<void> {
    const m = this.all.get(id);
    if (!m || m.source === 'file') return;
    this.deviceHolds.set(id, definitionOf(m));
    const { store } = this.opts;
    if (store) {
      await store.inventory
        .setDeviceHold(id, definitionOf(m))
        .then(() => store.pubsub.publishInventoryChange({ type: 'inventory', op: 'hold', id }))
        .catch(err => this.opts.log.warn({ miner: id, err: (err as Error).message }, 'device hold not shared with other collectors (store unavailable)'));
    }
    this.emitIfChanged();
  }

  private evaluate(): { miners: InventoryMiner[]; quarantined: Map<string, QuarantineEntry> } {
    const now = Date.now();
    const byId = new Map<string, InventoryMiner>();
    const all = new Map<string, InventoryMiner>();
    const endpoints = new Map<string, string>(); // endpoint -> tenant of its first entry
    const quarantined = new Map<string, QuarantineEntry>();
    const hold = (m: InventoryMiner, reason: QuarantineReason): void => {
      const prev = this.quarantined.get(m.id);
      quarantined.set(m.id, { id: m.id, tenant: m.tenant, reason, message: QUARANTINE_MESSAGES[reason], since_ms: prev?.reason === reason ? prev.since_ms : now });
    };
    const api = [...this.apiMiners].sort((a, b) => (a.created_ms ?? 0) - (b.created_ms ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const m of [...this.fileMiners, ...api]) {
      if (all.has(m.id)) continue;
      all.set(m.id, m);
      let host: string;
      try {
        host = canonicalHost(m.host).host;
      } catch {
        hold(m, 'invalid_address');
        continue;
      }
      const c = { ...m, host };
      all.set(m.id, c);
      // A host name stands for the addresses it resolves to now: another tenant's endpoint
      // reached through a name is still that endpoint.
      const keys = (this.names.get(host) ?? [host]).map(ip => endpointKey(ip, m.port));
      const first = keys.map(k => endpoints.get(k)).find(t => t !== undefined && t !== m.tenant);
      const claim = (): void => {
        for (const k of keys) if (!endpoints.has(k)) endpoints.set(k, m.tenant);
      };
      if (m.source === 'file') claim();
      else {
        if (!this.policy.mayUse(m.tenant, m.credentials)) {
          hold(m, 'credentials_not_permitted');
          continue;
        }
        if (first !== undefined && first !== m.tenant) {
          hold(m, 'endpoint_in_use');
          continue;
        }
        const held = this.deviceHolds.get(m.id);
        if (held !== undefined && held === definitionOf(c)) {
          hold(m, 'device_in_use');
          continue;
        }
        claim();
      }
      byId.set(m.id, c);
    }
    for (const list of this.scanMiners.values()) {
      for (const m of list) {
        if (all.has(m.id) || endpoints.has(endpointKey(m.host, m.port))) continue;
        all.set(m.id, m);
        const held = this.deviceHolds.get(m.id);
        if (held !== undefined && held === definitionOf(m)) hold(m, 'device_in_use');
        else byId.set(m.id, m);
      }
    }
    this.all = all;
    this.quarantined = quarantined;
    return { miners: [...byId.values()], quarantined };
  }

  async start(): Promise<void> {
    if (this.opts.filePath) {
      await this.reloadFile();
      this.timers.push(setInterval(() => void this.checkFile(), this.opts.fileCheckMs ?? 2_000));
    }
    if (this.opts.store) {
      // Listen first, then load the API entries (on every reconnect too): a change published
      // while not listening would be missed. Start waits a little for the first time.
      this.subscription = await this.opts.store.pubsub.subscribeInventoryChanges(
        {
          onMessage: msg => void this.onMessage(msg),
          onListening: () => this.reloadApi(),
          onError: err => this.opts.log.warn({ err: err.message }, 'inventory: API entries not loaded or not listening for changes (store unavailable); retried when it reconnects'),
        },
        { waitMs: 2_000 },
      );
    }
    this.loaded = true;
    await this.refreshNames();
    this.timers.push(setInterval(() => void this.refreshNames(), this.opts.nameCheckMs ?? 30_000));
    this.emitIfChanged(true);
    for (const t of this.scanTargets) this.armScan(t);
  }

  /**
   * Resolve the host names of all entries again; a name that now points at another tenant's
   * endpoint holds its entry back. A name that does not resolve keeps its last addresses.
   */
  private async refreshNames(): Promise<void> {
    if (this.resolvingNames) return;
    this.resolvingNames = true;
    try {
      const hosts = new Set<string>();
      for (const m of [...this.fileMiners, ...this.apiMiners]) {
        try {
          const c = canonicalHost(m.host);
          if (c.kind === 'name') hosts.add(c.host);
        } catch {
          // held back as invalid_address by evaluate()
        }
      }
      const next = new Map<string, string[]>();
      await Promise.all(
        [...hosts].map(async h => {
          const ips = await resolveHost(h, { timeoutMs: 2_000, ...(this.opts.lookup ? { lookup: this.opts.lookup } : {}) }).catch(() => this.names.get(h));
          if (ips) next.set(h, ips);
        }),
      );
      const changed = JSON.stringify([...next].sort()) !== JSON.stringify([...this.names].sort());
      this.names = next;
      if (changed) this.emitIfChanged();
    } finally {
      this.resolvingNames = false;
    }
  }

  private async checkFile(): Promise<void> {
    const m = await fileMtime(this.opts.filePath!);
    if (m !== null && m !== this.fileMtimeMs) await this.reloadFile();
  }

  private async reloadFile(): Promise<void> {
    const path = this.opts.filePath!;
    let file: LoadedInventoryFile & { mtimeMs: number };
    try {
      file = await loadInventoryFile(path);
    } catch (err) {
      // Keep the last good inventory when the file is broken mid-edit.
      this.opts.metrics?.inventoryErrors.inc({ source: 'file' });
      this.opts.log.error({ file: path, err: (err as Error).message }, 'inventory file rejected; keeping the previous inventory');
      this.fileMtimeMs = (await fileMtime(path)) ?? this.fileMtimeMs;
      return;
    }
    this.fileMtimeMs = file.mtimeMs;
    for (const p of file.problems) {
      this.opts.metrics?.inventoryErrors.inc({ source: 'file' });
      this.opts.log.warn({ file: path, entry: p.where, problem: p.message }, 'inventory entry skipped');
    }
    this.opts.credentials.setFileRefs(file.credentials);
    this.fileMiners = file.miners;
    if (this.loaded) void this.refreshNames();
    const newTargets = file.scans.map(s => ({ cidr: s.cidr, port: s.port, tenant: s.tenant, site: s.site, credentials: s.credentials, labels: s.labels, ...(s.every_ms ? { every_ms: s.every_ms } : {}) }));
    const changed = JSON.stringify(newTargets) !== JSON.stringify(this.scanTargets);
    this.scanTargets = newTargets;
    if (changed && this.loaded) {
      for (const t of this.scanTimers.values()) clearTimeout(t);
      this.scanTimers.clear();
      for (const t of this.scanTargets) this.armScan(t);
    }
    this.opts.log.info({ file: path, miners: file.miners.length, skipped: file.problems.length, scans: file.scans.length }, 'inventory file loaded');
    this.emitIfChanged();
  }

  private async reloadApi(): Promise<void> {
    const { store } = this.opts;
    if (!store) return;
    const entries = await store.inventory.listEntries();
    const d = this.opts.defaults;
    const out: InventoryMiner[] = [];
    for (const [id, raw] of entries) {
      const parsed = inventoryMinerSchema.safeParse(raw);
      if (!parsed.success) {
        this.opts.metrics?.inventoryErrors.inc({ source: 'api' });
        this.opts.log.warn({ entry: id }, 'API inventory entry skipped: invalid');
        continue;
      }
      const e = parsed.data;
      out.push({ id: e.id ?? id, host: e.address, port: e.port ?? d.port, tenant: e.tenant ?? d.tenant, site: e.site ?? d.site, credentials: e.credentials ?? d.credentials, labels: e.labels, source: 'api', ...(e.created_ms !== undefined ? { created_ms: e.created_ms } : {}) });
    }
    this.apiMiners = out;
    if (this.loaded) void this.refreshNames();
    // Holds set by any collector (shards) apply to every merged inventory.
    const holds = await store.inventory.readDeviceHolds().catch(() => null);
    if (holds) this.deviceHolds = holds;
    this.emitIfChanged();
  }

  private async onMessage(msg: string): Promise<void> {
    let parsed: { type?: string; cidr?: string; site?: string; tenant?: string; port?: number; credentials?: string } = {};
    try {
      parsed = JSON.parse(msg) as typeof parsed;
    } catch {
      // A bare notification means "inventory changed".
    }
    if (parsed.type === 'scan' && parsed.cidr) {
      const d = this.opts.defaults;
      const tenant = parsed.tenant ?? d.tenant;
      const credentials = parsed.credentials ?? d.credentials;
      // A scan asked for through the API is a tenant's: it may only log in with what the tenant may use.
      if (!this.policy.mayUse(tenant, credentials)) {
        this.opts.metrics?.inventoryErrors.inc({ source: 'scan' });
        this.opts.log.warn({ cidr: parsed.cidr, tenant, credentials }, 'network scan refused: its tenant may not use these credentials (MINER_SHARED_CREDENTIALS)');
        return;
      }
      void this.runScan({ cidr: parsed.cidr, port: parsed.port ?? d.port, tenant: parsed.tenant ?? d.tenant, site: parsed.site ?? d.site, credentials: parsed.credentials ?? d.credentials, labels: {} });
      return;
    }
    await this.reloadApi().catch(err => this.opts.log.warn({ err: (err as Error).message }, 'inventory: reloading API entries failed'));
  }

  private armScan(t: ScanTarget & { every_ms?: number }): void {
    const run = async (): Promise<void> => {
      await this.runScan(t);
      if (t.every_ms && !this.abort.signal.aborted) this.scanTimers.set(t.cidr, setTimeout(() => void run(), t.every_ms));
    };
    void run();
  }

  /** Scan a range now; found miners join the inventory. */
  async runScan(t: ScanTarget): Promise<InventoryMiner[]> {
    try {
      const res = await scanCidr(t, { concurrency: this.opts.scanConcurrency, timeoutMs: this.opts.scanTimeoutMs, signal: this.abort.signal });
      this.scanMiners.set(`${t.cidr}|${t.port}`, res.found);
      this.opts.log.info({ cidr: t.cidr, probed: res.probed, found: res.found.length, ms: res.durationMs }, 'network scan finished');
      this.emitIfChanged();
      return res.found;
    } catch (err) {
      this.opts.metrics?.inventoryErrors.inc({ source: 'scan' });
      this.opts.log.warn({ cidr: t.cidr, err: (err as Error).message }, 'network scan failed');
      return [];
    }
  }

  private emitIfChanged(force = false): void {
    if (!this.loaded) return;
    const before = new Set(this.quarantined.keys());
    const { miners, quarantined } = this.evaluate();
    const key = JSON.stringify([miners, [...quarantined.keys()]]);
    if (!force && key === this.lastKey) return;
    this.lastKey = key;
    const counts = { file: 0, api: 0, scan: 0 };
    for (const m of miners) counts[m.source]++;
    for (const [source, n] of Object.entries(counts)) this.opts.metrics?.inventoryMiners.set({ source }, n);
    for (const q of quarantined.values())
      if (!before.has(q.id)) this.opts.log.warn({ miner: q.id, tenant: q.tenant, reason: q.reason }, 'inventory entry held back: not polled or controlled');
    void this.publishResolved(miners, [...quarantined.values()]);
    for (const l of this.listeners) l(miners);
  }

  /** The API reads where each miner is (and which credential name it uses) from here. */
  private async publishResolved(miners: InventoryMiner[], quarantined: QuarantineEntry[]): Promise<void> {
    const { store } = this.opts;
    if (!store) return;
    try {
      await store.inventory.writeResolved(miners, quarantined);
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'resolved inventory not published (store unavailable); retried on next change');
      this.lastKey = '';
    }
  }

  async close(): Promise<void> {
    this.abort.abort();
    for (const t of this.timers) clearInterval(t);
    for (const t of this.scanTimers.values()) clearTimeout(t);
    await this.subscription?.close();
  }
}
