// Options of a simulated fleet, their defaults and validation, and the address plan.
import type { Logger } from '../runtime/logger.ts';
import { parseFaultSpec, type FaultInput, type FaultKind, type FaultSpecItem } from './faults.ts';
import { isFirmwareVersion } from './identity.ts';
import { DEFAULT_MODEL_MIX, isModelKey, parseModelMix, type ModelKey } from './models.ts';
import { seedFrom } from './random.ts';

export interface SimulatorOptions {
  /** Number of miners (default 10). */
  miners?: number;
  /** Seed for identities, model/site assignment, fault picks and noise (default 1). */
  seed?: number | string;
  /** Model mix: "s19jpro:60,s21:30,s9:10" or weights by key (default s19jpro 50, s21 30, s19xp 15, s9 5). */
  models?: string | Partial<Record<ModelKey, number>>;
  /** Number of sites (default 1): site-1, site-2, … in contiguous blocks. */
  sites?: number;
  /** Number of tenants (default 1): tenant-1, … assigned per rack. */
  tenants?: number;
  /** Miners per rack (default 40). */
  rackSize?: number;
  /** First miner address (default 127.1.0.1); later miners count up, skipping .0 and .255. */
  baseAddress?: string;
  /** gRPC port (default 50051); in port mode the first port. */
  port?: number;
  /** All miners on one address (baseAddress, default 127.0.0.1) with consecutive ports. */
  portMode?: boolean;
  /** Login password of every miner (default "root"). */
  password?: string;
  /** Per-miner passwords by miner id. */
  passwords?: Record<string, string>;
  /** How long a reboot keeps a miner unreachable, ms (default 20 000). */
  rebootMs?: number;
  /** How long a retune takes (tuner TUNING), ms (default 8 000). */
  retuneMs?: number;
  /** From bosminer start to full hashrate, ms (default 5 000). */
  warmupMs?: number;
  /** Chip temperature time constant, ms (default 45 000). */
  thermalTauMs?: number;
  /** Fan speed time constant, ms (default 8 000). */
  fanTauMs?: number;
  /** Session inactivity timeout, s (default 3600). */
  tokenTimeoutS?: number;
  /** Default quick ramping (pause/resume ramps), s (default up 6, down 3). */
  quickRamping?: { upS: number; downS: number };
  /** Faults at start: a --faults spec string, parsed items, or faults by miner id. */
  faults?: string | FaultSpecItem[] | Record<string, Array<FaultInput | FaultKind>>;
  /** Firmware every miner runs (default: 85 % current release, 15 % previous). */
  firmware?: string;
  /** Reuse of encoded read-only responses, ms (default 1 000; 0 disables). */
  cacheMs?: number;
  /** Base ambient temperature of the sites, °C (default 25; each site varies by -3…+5). */
  ambientC?: number;
  /** Start the admin HTTP endpoint on 127.0.0.1:adminPort (0 = any free port). */
  adminPort?: number;
  /**
   * Server side of the gRPC API (default http2): `http2` speaks gRPC on plain node:http2 at a
   * fraction of the CPU; `grpc-js` is @grpc/grpc-js's server.
   */
  transport?: SimulatorTransport;
  logger?: Logger;
}

export const SIMULATOR_TRANSPORTS = ['http2', 'grpc-js'] as const;
export type SimulatorTransport = (typeof SIMULATOR_TRANSPORTS)[number];

export function isSimulatorTransport(v: unknown): v is SimulatorTransport {
  return (SIMULATOR_TRANSPORTS as readonly unknown[]).includes(v);
}

export interface ResolvedOptions {
  miners: number;
  seed: number;
  seedText: string;
  models: Record<ModelKey, number>;
  sites: number;
  tenants: number;
  rackSize: number;
  baseAddress: string;
  port: number;
  portMode: boolean;
  password: string;
  passwords: Record<string, string>;
  rebootMs: number;
  retuneMs: number;
  warmupMs: number;
  thermalTauMs: number;
  fanTauMs: number;
  tokenTimeoutS: number;
  quickRamping: { upS: number; downS: number };
  faults: FaultSpecItem[] | Record<string, Array<FaultInput | FaultKind>>;
  firmware?: string;
  cacheMs: number;
  ambientC: number;
  adminPort?: number;
  transport: SimulatorTransport;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function ipv4ToInt(address: string): number {
  const m = IPV4.exec(address);
  if (!m) throw new Error(`'${address}' is not an IPv4 address`);
  const parts = m.slice(1).map(Number);
  if (parts.some(p => p > 255)) throw new Error(`'${address}' is not an IPv4 address`);
  return (
    (((parts[0] as number) << 24) |
      ((parts[1] as number) << 16) |
      ((parts[2] as number) << 8) |
      (parts[3] as number)) >>>
    0
  );
}

export function intToIpv4(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** `count` consecutive host addresses from `base`, skipping .0 and .255. */
export function allocateAddresses(base: string, count: number): string[] {
  const out: string[] = [];
  let n = ipv4ToInt(base);
  while (out.length < count) {
    const last = n & 255;
    if (last !== 0 && last !== 255) out.push(intToIpv4(n));
    n = (n + 1) >>> 0;
    if (n === 0) throw new Error('ran out of IPv4 addresses');
  }
  return out;
}

function int(name: string, v: number | undefined, def: number, min: number, max: number): number {
  const x = v ?? def;
  if (!Number.isInteger(x) || x < min || x > max)
    throw new Error(`${name} must be an integer between ${min} and ${max}, got ${String(v)}`);
  return x;
}

function positive(name: string, v: number): number {
  if (!(Number.isFinite(v) && v > 0)) throw new Error(`${name} must be a positive number, got ${v}`);
  return v;
}

export function resolveOptions(o: SimulatorOptions): ResolvedOptions {
  const miners = int('miners', o.miners, 10, 1, 100_000);
  const portMode = o.portMode ?? false;
  const port = int('port', o.port, 50_051, 1, 65_535);
  if (portMode && port + miners - 1 > 65_535)
    throw new Error(`port mode needs ports ${port}–${port + miners - 1}: beyond 65535`);
  const baseAddress = o.baseAddress ?? (portMode ? '127.0.0.1' : '127.1.0.1');
  ipv4ToInt(baseAddress);
  if (!portMode) {
    const last = allocateAddresses(baseAddress, miners).at(-1) ?? baseAddress;
    if (!baseAddress.startsWith('127.') || !last.startsWith('127.')) {
      throw new Error(
        `addresses ${baseAddress}–${last} leave 127.0.0.0/8; pick another --base-address or use --port-mode`,
      );
    }
  }
  let models: Record<ModelKey, number>;
  if (typeof o.models === 'string') models = parseModelMix(o.models);
  else if (o.models) {
    models = { s19jpro: 0, s19xp: 0, s21: 0, s9: 0 };
    for (const [k, w] of Object.entries(o.models)) {
      if (!isModelKey(k)) throw new Error(`unknown model '${k}'`);
      models[k] = w ?? 0;
    }
    if (Object.values(models).every(w => !(w > 0))) throw new Error('the model mix has no positive weight');
  } else models = { ...DEFAULT_MODEL_MIX };
  if (o.firmware !== undefined && !isFirmwareVersion(o.firmware)) {
    throw new Error(`firmware '${o.firmware}' is not YYYY-MM-DD-<n>-<8 hex>-<YY.MM[.x]>-plus`);
  }
  const quick = o.quickRamping ?? { upS: 6, downS: 3 };
  for (const v of [quick.upS, quick.downS])
    if (!(v >= 0 && v <= 600)) throw new Error('quickRamping values must be within 0–600 s');
  const transport = o.transport ?? 'http2';
  if (!isSimulatorTransport(transport))
    throw new Error(
      `transport must be one of ${SIMULATOR_TRANSPORTS.join(', ')}, got '${String(transport)}'`,
    );
  const seedText = String(o.seed ?? 1);
  return {
    miners,
    seed: seedFrom(o.seed ?? 1),
    seedText,
    models,
    sites: int('sites', o.sites, 1, 1, 1_000),
    tenants: int('tenants', o.tenants, 1, 1, 1_000),
    rackSize: int('rackSize', o.rackSize, 40, 1, 10_000),
    baseAddress,
    port,
    portMode,
    password: o.password ?? 'root',
    passwords: { ...(o.passwords ?? {}) },
    rebootMs: int('rebootMs', o.rebootMs, 20_000, 0, 3_600_000),
    retuneMs: int('retuneMs', o.retuneMs, 8_000, 0, 3_600_000),
    warmupMs: int('warmupMs', o.warmupMs, 5_000, 0, 3_600_000),
    thermalTauMs: int('thermalTauMs', o.thermalTauMs, 45_000, 0, 3_600_000),
    fanTauMs: int('fanTauMs', o.fanTauMs, 8_000, 0, 3_600_000),
    tokenTimeoutS: positive('tokenTimeoutS', o.tokenTimeoutS ?? 3_600),
    quickRamping: { upS: quick.upS, downS: quick.downS },
    faults: typeof o.faults === 'string' ? parseFaultSpec(o.faults) : (o.faults ?? []),
    ...(o.firmware !== undefined ? { firmware: o.firmware } : {}),
    cacheMs: int('cacheMs', o.cacheMs, 1_000, 0, 60_000),
    ambientC: o.ambientC ?? 25,
    ...(o.adminPort !== undefined ? { adminPort: int('adminPort', o.adminPort, 0, 0, 65_535) } : {}),
    transport,
  };
}
