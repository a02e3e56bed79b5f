import type { Redis } from 'ioredis';
import type { CredentialStore } from '../credentials.ts';
import type { Logger } from '../logger.ts';
import type { CollectorMetrics } from '../metrics.ts';
import type { RedisKeys } from '../redis-keys.ts';
import { scanCidr, type ScanTarget } from './cidr-scan.ts';
import { fileMtime, loadInventoryFile, type LoadedInventoryFile } from './file-source.ts';
import { inventoryMinerSchema, type InventoryMiner } from './schema.ts';

export interface InventoryManagerOptions {
  filePath?: string;
  redis?: Redis;
  keys: RedisKeys;
  credentials: CredentialStore;
  log: Logger;
  metrics?: CollectorMetrics;
  /** how often the file's mtime is checked @defaultValue 2000 */
  fileCheckMs?: number;
  scanConcurrency: number;
  scanTimeoutMs: number;
  defaults: { tenant: string; site: string; credentials: string; port: number };
}

/**
 * Merges the miners from the inventory file, CIDR scans and the API (Redis) into one list
 * and tells the listener whenever it changes; no restart needed. Later sources do not
 * override earlier ones: file, then API, then scans (a scanned address already known is skipped).
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
  private subscriber: Redis | null = null;
  private listeners: ((miners: InventoryMiner[]) => void)[] = [];
  private lastKey = '';
  private readonly abort = new AbortController();
  loaded = false;

  constructor(opts: InventoryManagerOptions) {
    this.opts = opts;
  }

  onChange(listener: (miners: InventoryMiner[]) => void): void {
    this.listeners.push(listener);
  }

  current(): InventoryMiner[] {
    const byId = new Map<string, InventoryMiner>();
    const addresses = new Set<string>();
    for (const m of [...this.fileMiners, ...this.apiMiners]) {
      if (!byId.has(m.id)) {
        byId.set(m.id, m);
        addresses.add(`${m.host}:${m.port}`);
      }
    }
    for (const list of this.scanMiners.values()) {
      for (const m of list) if (!byId.has(m.id) && !addresses.has(`${m.host}:${m.port}`)) byId.set(m.id, m);
    }
    return [...byId.values()];
  }

  async start(): Promise<void> {
    if (this.opts.filePath) {
      await this.reloadFile();
      this.timers.push(setInterval(() => void this.checkFile(), this.opts.fileCheckMs ?? 2_000));
    }
    if (this.opts.redis) {
      const sub = this.opts.redis.duplicate();
      this.subscriber = sub;
      sub.on('error', () => undefined); // reconnects by itself; Redis outages are reported by the snapshot writer
      sub.on('message', (_ch, msg) => void this.onMessage(msg));
      // The offline queue is off, so a subscribe sent while connecting fails: subscribe whenever the
      // connection becomes ready (first connect and every reconnect), then load the API entries.
      // Start waits a little for the first time.
      const first = new Promise<void>(resolve => sub.on('ready', () => void this.listen(sub).finally(resolve)));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([first, new Promise<void>(resolve => (timer = setTimeout(resolve, 2_000)))]);
      clearTimeout(timer);
    }
    this.loaded = true;
    this.emitIfChanged(true);
    for (const t of this.scanTargets) this.armScan(t);
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
    const { redis, keys } = this.opts;
    if (!redis) return;
    const entries = await redis.hgetall(keys.inventory());
    const d = this.opts.defaults;
    const out: InventoryMiner[] = [];
    for (const [id, json] of Object.entries(entries)) {
      let raw: unknown;
      try {
        raw = JSON.parse(json);
      } catch {
        raw = null;
      }
      const parsed = inventoryMinerSchema.safeParse(raw);
      if (!parsed.success) {
        this.opts.metrics?.inventoryErrors.inc({ source: 'api' });
        this.opts.log.warn({ entry: id }, 'API inventory entry skipped: invalid');
        continue;
      }
      const e = parsed.data;
      out.push({ id: e.id ?? id, host: e.address, port: e.port ?? d.port, tenant: e.tenant ?? d.tenant, site: e.site ?? d.site, credentials: e.credentials ?? d.credentials, labels: e.labels, source: 'api' });
    }
    this.apiMiners = out;
    this.emitIfChanged();
  }

  /** Subscribe to API changes, then reload the API entries: a change published while not subscribed would be missed. */
  private async listen(sub: Redis): Promise<void> {
    try {
      await sub.subscribe(this.opts.keys.inventoryChannel());
      await this.reloadApi();
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'inventory: API entries not loaded or not listening for changes (Redis unavailable); retried when Redis reconnects');
    }
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
    const miners = this.current();
    const key = JSON.stringify(miners);
    if (!force && key === this.lastKey) return;
    this.lastKey = key;
    const counts = { file: 0, api: 0, scan: 0 };
    for (const m of miners) counts[m.source]++;
    for (const [source, n] of Object.entries(counts)) this.opts.metrics?.inventoryMiners.set({ source }, n);
    void this.publishResolved(miners);
    for (const l of this.listeners) l(miners);
  }

  /** The API reads where each miner is (and which credential name it uses) from here. */
  private async publishResolved(miners: InventoryMiner[]): Promise<void> {
    const { redis, keys } = this.opts;
    if (!redis) return;
    try {
      const key = keys.resolvedInventory();
      const pipe = redis.multi().del(key);
      for (let i = 0; i < miners.length; i += 1_000) {
        const chunk = miners.slice(i, i + 1_000);
        pipe.hset(key, Object.fromEntries(chunk.map(m => [m.id, JSON.stringify(m)])));
      }
      await pipe.exec();
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'resolved inventory not published (Redis unavailable); retried on next change');
      this.lastKey = '';
    }
  }

  async close(): Promise<void> {
    this.abort.abort();
    for (const t of this.timers) clearInterval(t);
    for (const t of this.scanTimers.values()) clearTimeout(t);
    await this.subscriber?.quit().catch(() => undefined);
  }
}
