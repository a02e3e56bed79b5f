// A simulated fleet: builds the miners (models, sites, racks, addresses, identities), serves them
// through one gRPC server, keeps each miner's listening address bound exactly while the miner is
// reachable, runs scheduled transitions (reboots, reboot loops, upgrades) on one timer, and exposes
// faults and ground truth to tests and tools.
import type { InventoryFile } from '../collector/inventory/schema.ts';
import { silentLogger, type Logger } from '../runtime/logger.ts';
import {
  assignFaults,
  describeFault,
  parseFault,
  type Fault,
  type FaultInput,
  type FaultKind,
} from './faults.ts';
import type { FirmwareBehaviour, ParsedFirmwareImage } from './firmware-image.ts';
import type { CallOrigin, GrpcServerStats, SimulatorServer } from './call-gate.ts';
import { SimulatorGrpcServer } from './grpc-server.ts';
import { SimulatorHttp2Server } from './http2-grpc-server.ts';
import type { SimulatorRuntime } from './handlers/types.ts';
import { makeIdentity } from './identity.ts';
import { buildInventory, minerPasswordEnv, writeInventoryFile } from './inventory-writer.ts';
import { MODELS, modelCounts, MODEL_KEYS, type ModelKey } from './models.ts';
import { allocateAddresses, resolveOptions, type ResolvedOptions, type SimulatorOptions } from './options.ts';
import { Rng, hash4, unit4 } from './random.ts';
import { Scheduler, type Cancel } from './scheduler.ts';
import { minerTruth, type MinerTruth } from './truth.ts';
import { VirtualMiner } from './virtual-miner.ts';

/** Delay between answering an RPC and acting on it (reboot, upgrade), so the answer gets out. */
const RESPONSE_FLUSH_MS = 100;
const BIND_BATCH = 500;

/** Public facts about one simulated miner. */
export interface SimulatedMiner {
  id: string;
  index: number;
  host: string;
  port: number;
  /** "host:port" to dial. */
  address: string;
  model: ModelKey;
  modelName: string;
  tenant: string;
  site: string;
  rack: string;
  uid: string;
  serialNumber: string;
  macAddress: string;
  hostname: string;
}

export interface FleetSummary {
  miners: number;
  models: Record<string, number>;
  sites: Record<string, number>;
  tenants: Record<string, number>;
  firstAddress: string;
  lastAddress: string;
  portMode: boolean;
  faults: Array<{ id: string; faults: string[] }>;
}

export class SimulatedFleet implements SimulatorRuntime {
  readonly options: ResolvedOptions;
  readonly logger: Logger;
  readonly miners: readonly SimulatedMiner[];
  /** Base URL of the admin HTTP endpoint when started with adminPort. */
  adminUrl: string | undefined;
  private readonly byId = new Map<string, VirtualMiner>();
  private readonly byAuthority = new Map<string, VirtualMiner>();
  private readonly byPort = new Map<number, VirtualMiner>();
  private readonly scheduler: Scheduler;
  private readonly grpc: SimulatorServer;
  private readonly bindChains = new Map<string, Promise<void>>();
  private readonly loopTimers = new Map<string, Cancel>();
  private readonly bootTimers = new Map<string, Cancel>();
  private readonly closers: Array<() => Promise<void>> = [];
  private stopped = false;

  constructor(options: SimulatorOptions = {}) {
    this.options = resolveOptions(options);
    this.logger = options.logger ?? silentLogger();
    const o = this.options;
    this.scheduler = new Scheduler(
      () => this.now(),
      err => this.logger.error({ err }, 'scheduled simulator transition failed'),
    );
    const serverOptions = {
      runtime: this,
      route: (origin: CallOrigin) => this.route(origin),
      cacheMs: o.cacheMs,
      logger: this.logger,
    };
    this.grpc =
      o.transport === 'grpc-js'
        ? new SimulatorGrpcServer(serverOptions)
        : new SimulatorHttp2Server(serverOptions);

    const now = this.now();
    const n = o.miners;
    const pad = Math.max(4, String(n).length);
    const counts = modelCounts(n, o.models);
    const modelList = new Rng(hash4(o.seed, 0x30d)).shuffle(
      MODEL_KEYS.flatMap(k => Array.from({ length: counts[k] }, () => k)),
    );
    const hosts = o.portMode ? [] : allocateAddresses(o.baseAddress, n);
    const siteAmbient = Array.from(
      { length: o.sites },
      (_, s) => o.ambientC - 3 + 8 * unit4(o.seed, s, 0xa3b),
    );
    const perSite = Math.ceil(n / o.sites);
    const miners: SimulatedMiner[] = [];
    for (let i = 0; i < n; i++) {
      const id = `sim-${String(i + 1).padStart(pad, '0')}`;
      const siteIndex = Math.min(o.sites - 1, Math.floor(i / perSite));
      const inSite = i - siteIndex * perSite;
      const rackIndex = Math.floor(inSite / o.rackSize);
      const rack = `r${String(rackIndex + 1).padStart(2, '0')}`;
      const tenant = `tenant-${((siteIndex * 1000 + rackIndex) % o.tenants) + 1}`;
      const site = `site-${siteIndex + 1}`;
      const host = o.portMode ? o.baseAddress : (hosts[i] as string);
      const port = o.portMode ? o.port + i : o.port;
      const spec = MODELS[modelList[i] as ModelKey];
      const identity = makeIdentity(o.seed, i, spec, o.firmware);
      const miner = new VirtualMiner({
        placement: {
          id,
          index: i,
          host,
          port,
          tenant,
          site,
          rack,
          siteAmbientC: siteAmbient[siteIndex] ?? o.ambientC,
        },
        spec,
        identity,
        seed: o.seed,
        password: o.passwords[id] ?? o.password,
        timings: {
          retuneMs: o.retuneMs,
          warmupMs: o.warmupMs,
          thermalTauMs: o.thermalTauMs,
          fanTauMs: o.fanTauMs,
          tokenTimeoutS: o.tokenTimeoutS,
          quickRamping: { ...o.quickRamping },
        },
        nowMs: now,
      });
      this.byId.set(id, miner);
      this.byAuthority.set(`${host}:${port}`, miner);
      if (o.portMode) this.byPort.set(port, miner);
      miner.on(e => {
        if (e.type === 'reachability') this.syncBinding(miner);
      });
      miners.push({
        id,
        index: i,
        host,
        port,
        address: `${host}:${port}`,
        model: spec.key,
        modelName: spec.name,
        tenant,
        site,
        rack,
        uid: identity.uid,
        serialNumber: identity.serialNumber,
        macAddress: identity.macAddress,
        hostname: identity.hostname,
      });
    }
    for (const id of Object.keys(o.passwords)) {
      if (!this.byId.has(id)) throw new Error(`password given for unknown miner '${id}'`);
    }
    this.miners = miners;
    this.applyStartFaults(now);
  }

  private applyStartFaults(now: number): void {
    const f = this.options.faults;
    const byMiner = Array.isArray(f)
      ? assignFaults(
          f,
          this.miners.map(m => m.id),
          this.options.seed,
        )
      : new Map(Object.entries(f).map(([id, list]) => [id, list.map(x => parseFault(x))]));
    for (const [id, faults] of byMiner) {
      const miner = this.miner(id);
      for (const fault of faults) {
        miner.addFault(now, fault);
        if (fault.kind === 'reboot_loop') this.scheduleLoop(miner);
      }
    }
  }

  /** Binds every reachable miner's address. */
  async listen(): Promise<void> {
    const all = [...this.byId.values()].filter(m => m.reachable);
    for (let i = 0; i < all.length; i += BIND_BATCH) {
      await Promise.all(
        all.slice(i, i + BIND_BATCH).map(m => this.grpc.bind(`${m.placement.host}:${m.placement.port}`)),
      );
    }
    this.logger.info({ miners: this.miners.length, bound: all.length }, 'simulated fleet listening');
  }

  // ---- SimulatorRuntime --------------------------------------------------------------------

  now(): number {
    return Date.now();
  }

  get defaultPassword(): string {
    return this.options.password;
  }

  reboot(miner: VirtualMiner, reason: string): void {
    this.scheduler.after(RESPONSE_FLUSH_MS, () => this.rebootNow(miner, reason, now => miner.boot(now)), { keepAlive: true });
  }

  /** Miners whose hashboard_failure came from a dead_hashboard image (undone by the next good one). */
  private readonly firmwareDeadBoards = new Set<string>();

  upgrade(miner: VirtualMiner, image: ParsedFirmwareImage, behaviour: FirmwareBehaviour): void {
    this.logger.info({ miner: miner.id, version: image.version, behaviour }, 'firmware upgrade accepted');
    this.scheduler.after(RESPONSE_FLUSH_MS, () =>
      this.rebootNow(miner, `upgrade to ${image.version}`, now => {
        switch (behaviour) {
          case 'ok':
            miner.upgradeFailures = [];
            // A board a bad image killed comes back with a good image (a fault injected by hand stays).
            if (this.firmwareDeadBoards.delete(miner.id)) miner.removeFault(now, 'hashboard_failure');
            miner.boot(now, { firmware: image.version });
            break;
          case 'old_version':
            miner.upgradeFailures.push({
              atMs: now,
              message: `Upgrade to ${image.version} failed: booted back into ${miner.firmware}`,
            });
            miner.boot(now);
            break;
          case 'dead_hashboard':
            if (!miner.fault('hashboard_failure')) this.firmwareDeadBoards.add(miner.id);
            miner.addFault(now, { kind: 'hashboard_failure' });
            miner.boot(now, { firmware: image.version });
            break;
          case 'never_returns':
            miner.addFault(now, { kind: 'unreachable' });
            miner.boot(now);
            break;
        }
      }),
    );
  }

  restoreStock(miner: VirtualMiner): void {
    this.scheduler.after(RESPONSE_FLUSH_MS, () =>
      this.rebootNow(miner, 'restore stock firmware', now => {
        miner.addFault(now, { kind: 'unreachable' });
        miner.boot(now, { firmware: 'stock' });
      }),
    );
  }

  private rebootNow(miner: VirtualMiner, reason: string, bootUp: (now: number) => void): void {
    if (this.stopped || !miner.isBooted) return;
    this.cancelTimer(this.loopTimers, miner.id);
    miner.shutdown(this.now());
    this.logger.info({ miner: miner.id, reason, reboot_ms: this.options.rebootMs }, 'miner rebooting');
    this.bootTimers.set(
      miner.id,
      this.scheduler.after(this.options.rebootMs, () => {
        this.bootTimers.delete(miner.id);
        bootUp(this.now());
        this.logger.info(
          { miner: miner.id, firmware: miner.firmware, reachable: miner.reachable },
          'miner back from reboot',
        );
        if (miner.fault('reboot_loop')) this.scheduleLoop(miner);
      }, { keepAlive: true }),
    );
  }

  private scheduleLoop(miner: VirtualMiner): void {
    this.cancelTimer(this.loopTimers, miner.id);
    const f = miner.fault('reboot_loop');
    if (!f) return;
    this.loopTimers.set(
      miner.id,
      this.scheduler.after(f.every_s * 1000, () => {
        this.loopTimers.delete(miner.id);
        this.rebootNow(miner, 'reboot loop', now => miner.boot(now));
      }),
    );
  }

  private cancelTimer(map: Map<string, Cancel>, id: string): void {
    map.get(id)?.();
    map.delete(id);
  }

  // ---- routing and binding -----------------------------------------------------------------

  private route(origin: CallOrigin): VirtualMiner | undefined {
    const authority = origin.authority;
    const hit = this.byAuthority.get(authority);
    if (hit) return hit;
    const port = Number(/:(\d+)$/.exec(authority)?.[1]);
    if (this.options.portMode && port) {
      const byPort = this.byPort.get(port);
      if (byPort) return byPort;
    }
    const local = origin.local();
    return local
      ? (this.byAuthority.get(`${local.address}:${local.port}`) ??
          (this.options.portMode ? this.byPort.get(local.port) : undefined))
      : undefined;
  }

  /** Brings the miner's listening address in line with its reachability (serialised per miner). */
  private syncBinding(miner: VirtualMiner): void {
    const address = `${miner.placement.host}:${miner.placement.port}`;
    const prev = this.bindChains.get(miner.id) ?? Promise.resolve();
    const next = prev
      .then(async () => {
        if (this.stopped) return;
        if (miner.reachable) await this.grpc.bind(address);
        else this.grpc.unbind(address);
      })
      .catch((err: unknown) =>
        this.logger.error({ err, miner: miner.id }, 'could not (un)bind miner address'),
      );
    this.bindChains.set(miner.id, next);
  }

  /** Resolves when every pending bind/unbind has been applied. */
  async settled(): Promise<void> {
    await Promise.all(this.bindChains.values());
  }

  // ---- public API --------------------------------------------------------------------------

  /** The miner's internal model (state, config, physics). Throws for unknown ids. */
  miner(id: string): VirtualMiner {
    const m = this.byId.get(id);
    if (!m) throw new Error(`no simulated miner with id '${id}'`);
    return m;
  }

  info(id: string): SimulatedMiner {
    const m = this.miners.find(x => x.id === id);
    if (!m) throw new Error(`no simulated miner with id '${id}'`);
    return m;
  }

  /** Noise-free current state of a miner, in our units. */
  truth(id: string): MinerTruth {
    return minerTruth(this.miner(id), this.now());
  }

  /** Injects a fault (object or bare kind); replaces an active fault of the same kind. */
  injectFault(id: string, fault: FaultInput | FaultKind): Fault {
    const miner = this.miner(id);
    const parsed = parseFault(fault);
    miner.addFault(this.now(), parsed);
    if (parsed.kind === 'reboot_loop') this.scheduleLoop(miner);
    this.logger.info({ miner: id, fault: describeFault(parsed) }, 'fault injected');
    return parsed;
  }

  /** Clears one fault kind, or every fault when `kind` is omitted. Returns whether any was active. */
  clearFault(id: string, kind?: FaultKind): boolean {
    const miner = this.miner(id);
    const kinds = kind ? [kind] : miner.listFaults().map(f => f.kind);
    let any = false;
    for (const k of kinds) {
      if (k === 'reboot_loop') this.cancelTimer(this.loopTimers, id);
      any = miner.removeFault(this.now(), k) || any;
    }
    if (any) this.logger.info({ miner: id, kinds }, 'fault cleared');
    return any;
  }

  faults(id: string): Fault[] {
    return this.miner(id).listFaults();
  }

  /** Reboots a miner now (unreachable for rebootMs). */
  rebootMiner(id: string): void {
    const miner = this.miner(id);
    this.rebootNow(miner, 'reboot from test/admin', now => miner.boot(now));
  }

  /** The inventory file (collector/inventory/schema.ts format) describing this fleet. */
  inventory(): InventoryFile {
    const extra: Record<string, string> = {};
    for (const id of Object.keys(this.options.passwords)) extra[`miner-${id}`] = minerPasswordEnv(id);
    return buildInventory(
      this.miners.map(m => ({
        id: m.id,
        host: m.host,
        port: m.port,
        tenant: m.tenant,
        site: m.site,
        rack: m.rack,
        modelName: m.modelName,
        modelKey: m.model,
        ...(this.options.passwords[m.id] !== undefined ? { credentials: `miner-${m.id}` } : {}),
      })),
      { defaultPort: this.options.port, extraCredentials: extra },
    );
  }

  async writeInventory(file: string): Promise<void> {
    await writeInventoryFile(file, this.inventory());
  }

  summary(): FleetSummary {
    const count = (key: (m: SimulatedMiner) => string): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const m of this.miners) out[key(m)] = (out[key(m)] ?? 0) + 1;
      return out;
    };
    return {
      miners: this.miners.length,
      models: count(m => m.model),
      sites: count(m => m.site),
      tenants: count(m => m.tenant),
      firstAddress: this.miners[0]?.address ?? '',
      lastAddress: this.miners.at(-1)?.address ?? '',
      portMode: this.options.portMode,
      faults: [...this.byId.values()]
        .filter(m => m.listFaults().length > 0)
        .map(m => ({ id: m.id, faults: m.listFaults().map(describeFault) })),
    };
  }

  grpcStats(): GrpcServerStats {
    return { ...this.grpc.stats };
  }

  /** Registers a resource closed by stop() (the admin HTTP server). */
  onStop(close: () => Promise<void>): void {
    this.closers.push(close);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.scheduler.stop();
    for (const close of this.closers.splice(0)) await close();
    await this.grpc.shutdown(1_000);
    this.logger.info('simulated fleet stopped');
  }
}
