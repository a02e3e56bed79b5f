// One virtual Braiins OS miner: configuration, lifecycle and physics. No timers: state is a
// function of time, advanced lazily when someone reads it (advance(now) integrates work and share
// counters and relaxes fans and temperatures analytically). Readings carry deterministic noise
// keyed by (seed, miner, second), so a reading is stable within a second and reproducible.
import type { MinerStatus, TunerState } from '../proto/types.ts';
import { SessionStore } from './auth.ts';
import type { Fault, FaultKind } from './faults.ts';
import type { MinerIdentityInfo } from './identity.ts';
import {
  advancedSettingDefaults,
  defaultCooling,
  defaultDps,
  type AdvancedSettingValue,
  type AutoUpgradeConfig,
  type CoolingConfig,
  type DpsConfig,
  type LicenseState,
  type ManualPerformance,
  type NetworkConfig,
  type QuickRamping,
  type TunerConfig,
} from './miner-config.ts';
import type { ModelSpec } from './models.ts';
import {
  autoFanRatio,
  boardHashrateForFrequency,
  efficiencyCurve,
  boardTempFromChip,
  chipPowerForHashrate,
  chipTempEquilibrium,
  fanPowerW,
  frequencyForBoardHashrate,
  hashrateForPower,
  inletOutletTemps,
  nominalBoardPowerW,
  powerForHashrate,
  relax,
  voltageForFrequency,
  type CoolingKind,
  type EfficiencyPoint,
} from './physics.ts';
import {
  anyPoolAlive,
  creditWork,
  defaultPoolGroups,
  resetPoolCounters,
  UidSource,
  type PoolGroupRuntime,
} from './pools.ts';
import { hash4, noise, unit4 } from './random.ts';
import { WorkHistory } from './work-history.ts';
import { invalidArgument } from './rpc-error.ts';

/** Real-hashrate windows of the API (RealHashrate fields 1-9), in seconds. */
export const WINDOWS_S = [5, 15, 30, 60, 300, 900, 1_800, 3_600, 86_400] as const;
export const WINDOW_FIELDS = [
  'last_5s',
  'last_15s',
  'last_30s',
  'last_1m',
  'last_5m',
  'last_15m',
  'last_30m',
  'last_1h',
  'last_24h',
] as const;
/** Relative noise amplitude of each window (short windows are noisier). */
const WINDOW_NOISE = [0.008, 0.006, 0.005, 0.004, 0.002, 0.0015, 0.001, 0.001, 0.0005] as const;
const W_1M = 3;
const W_5M = 4;
/** How long power takes to come down to a lower target, ms. */
const POWER_DOWN_MS = 2_000;
/** HW-error hashrate as a fraction of nominal in good health (reported in MH/s: small). */
const ERROR_FRACTION = 2e-5;

export interface MinerPlacement {
  id: string;
  index: number;
  host: string;
  port: number;
  tenant: string;
  site: string;
  rack: string;
  /** Ambient temperature of the site, °C. */
  siteAmbientC: number;
}

export interface MinerTimings {
  /** How long a retune takes (tuner TUNING, hashrate ramps to the new point). */
  retuneMs: number;
  /** From bosminer start to full hashrate. */
  warmupMs: number;
  thermalTauMs: number;
  fanTauMs: number;
  tokenTimeoutS: number;
  quickRamping: QuickRamping;
}

interface Ramp {
  from: number;
  to: number;
  t0: number;
  t1: number;
}

function rampAt(r: Ramp, t: number): number {
  if (t <= r.t0 || r.t1 <= r.t0) return t >= r.t1 ? r.to : r.from;
  if (t >= r.t1) return r.to;
  return r.from + ((r.to - r.from) * (t - r.t0)) / (r.t1 - r.t0);
}

const constant = (v: number, t: number): Ramp => ({ from: v, to: v, t0: t, t1: t });

interface BoardState {
  index: number;
  id: string;
  chips: number;
  serial: string;
  /** Relative share of the miner's hashrate (chip quality × manual frequency); Σ = board count. */
  weight: number;
  /** Static chip-temperature offset of this board, K. */
  tempOffsetC: number;
  enabled: boolean;
  chipTempC: number;
  /** Cumulative work over time: the hashrate windows are true averages over it. */
  history: WorkHistory;
  /** ∫ real hashrate dt since bosminer start, GH·s. */
  workGh: number;
}

export interface BoardView {
  index: number;
  id: string;
  serial: string;
  enabled: boolean;
  hashing: boolean;
  chips: number;
  frequencyHz: number;
  voltageV: number;
  chipTempC: number;
  boardTempC: number;
  inletC: number;
  outletC: number;
  nominalGhs: number;
  /** Real hashrate per window (WINDOW_FIELDS order), GH/s. */
  realGhs: number[];
  sinceRestartGhs: number;
  errorMhs: number;
  powerW: number;
}

export interface FanView {
  position: number;
  rpm: number;
  ratio: number;
}

/** What the API reports at one instant (noisy), or the truth (noise-free). */
export interface MinerView {
  atMs: number;
  status: MinerStatus;
  tunerState: TunerState;
  systemUptimeS: number;
  bosminerUptimeS: number;
  ambientC: number;
  boards: BoardView[];
  fans: FanView[];
  realGhs: number[];
  sinceRestartGhs: number;
  instantGhs: number;
  nominalGhs: number;
  errorMhs: number;
  powerW: number;
  efficiencyJth: number;
  hottestBoard: number;
  maxChipTempC: number;
  maxBoardTempC: number;
}

export interface PowerTargetProfileRecord {
  createdMs: number;
  targetW: number;
  measuredGhs: number;
  estimatedPowerW: number;
}

export interface HashrateTargetProfileRecord {
  createdMs: number;
  targetThs: number;
  measuredGhs: number;
  estimatedPowerW: number;
}

export type MinerEvent =
  { type: 'status'; status: MinerStatus } | { type: 'reachability'; reachable: boolean };

export interface MinerInit {
  placement: MinerPlacement;
  spec: ModelSpec;
  identity: MinerIdentityInfo;
  seed: number;
  password: string;
  timings: MinerTimings;
  nowMs: number;
}

export interface BootOutcome {
  firmware?: string;
}

export class VirtualMiner {
  readonly placement: MinerPlacement;
  readonly spec: ModelSpec;
  readonly identity: MinerIdentityInfo;
  readonly seed: number;
  readonly timings: MinerTimings;
  readonly sessions: SessionStore;

  // ---- configuration -------------------------------------------------------------------
  password: string;
  firmware: string;
  cooling: CoolingConfig;
  /** Tuner configuration as saved; `activeTuner` is what runs (differs after a SAVE without apply). */
  tuner: TunerConfig;
  activeTuner: TunerConfig;
  performance: 'tuner' | 'manual' = 'tuner';
  manual: ManualPerformance;
  dps: DpsConfig;
  quickRamping: QuickRamping;
  network: NetworkConfig;
  autoUpgrade: AutoUpgradeConfig = { enabled: false };
  /** Public API version this miner's firmware speaks (older firmware lacks newer RPCs). */
  apiVersion: { major: number; minor: number; patch: number } = { major: 1, minor: 11, patch: 0 };
  /** Failed firmware upgrades GetErrors reports (SYSTEM_UPGRADE_FAILED) until an upgrade succeeds. */
  upgradeFailures: Array<{ atMs: number; message: string }> = [];
  advancedSettings: Record<string, AdvancedSettingValue> = advancedSettingDefaults();
  license: LicenseState = {
    kind: 'valid',
    type: 'LICENSE_TYPE_STANDARD',
    contractName: 'Braiins OS+ Standard',
    devFeeBsp: 250,
  };
  locate = false;
  poolGroups: PoolGroupRuntime[];
  readonly uids: UidSource;
  powerProfiles: PowerTargetProfileRecord[] = [];
  hashrateProfiles: HashrateTargetProfileRecord[] = [];

  // ---- runtime -------------------------------------------------------------------------
  private readonly faults = new Map<FaultKind, { fault: Fault; sinceMs: number }>();
  private booted = true;
  private bootAtMs: number;
  private minerStartAtMs: number | null;
  private statusValue: MinerStatus = 'MINER_STATUS_NORMAL';
  private level: Ramp;
  private op: Ramp;
  private tuneUntilMs = 0;
  private readonly boards: BoardState[];
  private fanRatio: number;
  private lastMs: number;
  /** Hashrate factor of this miner's silicon at a given power (0.98-1.03). */
  private readonly silicon: number;
  private readonly baseQuality: number;
  private readonly ambientOffsetC: number;
  private readonly ambientPhase: number;
  private readonly fanSpread: number[];

  // ---- caches --------------------------------------------------------------------------
  /** Bumped on every change of state that responses depend on. */
  version = 0;
  private viewCache: { bucket: number; version: number; view: MinerView } | undefined;
  readonly responseCache = new Map<string, { buf: Buffer; expiresMs: number; version: number }>();
  private readonly listeners = new Set<(e: MinerEvent) => void>();

  constructor(init: MinerInit) {
    const { placement, spec, identity, seed, timings, nowMs } = init;
    this.placement = placement;
    this.spec = spec;
    this.identity = identity;
    this.seed = seed;
    this.timings = timings;
    this.password = init.password;
    this.firmware = identity.firmware;
    this.sessions = new SessionStore(timings.tokenTimeoutS);
    const idx = placement.index;
    this.silicon = 0.98 + 0.05 * unit4(seed, idx, 0x51);
    this.baseQuality = 0.986 + 0.006 * unit4(seed, idx, 0x52);
    this.ambientOffsetC = -2 + 4 * unit4(seed, idx, 0x53);
    this.ambientPhase =
      unit4(seed, hash4(placement.site.length, placement.site.charCodeAt(placement.site.length - 1)), 0x54) *
      2 *
      Math.PI;
    this.fanSpread = Array.from({ length: spec.fans }, (_, i) => -0.03 + 0.06 * unit4(seed, idx, 0x60 + i));
    this.cooling = defaultCooling(spec);
    const target = spec.powerTarget.default;
    this.tuner = {
      enabled: true,
      mode: 'power',
      powerTargetW: target,
      hashrateTargetThs: Math.round(hashrateForPower(spec, target)) / 1_000,
    };
    this.activeTuner = { ...this.tuner };
    this.manual = {
      globalFrequencyHz: spec.nominalFrequencyHz,
      globalVoltageV: spec.nominalVoltageV,
      boards: new Map(),
    };
    this.dps = defaultDps(spec);
    this.quickRamping = { ...timings.quickRamping };
    this.network = { protocol: 'dhcp', hostname: identity.hostname };
    this.uids = new UidSource(hash4(seed, idx, 0x700));
    this.poolGroups = defaultPoolGroups(this.uids, `bosfleet.${placement.id.replace(/[^A-Za-z0-9]/g, '')}`);

    // A miner that has been up for a while: 2 h .. 40 d, mining since 45 s after boot.
    const upMs = Math.round((2 * 3600 + unit4(seed, idx, 0x55) * 40 * 86_400) * 1000);
    this.bootAtMs = nowMs - upMs;
    this.minerStartAtMs = this.bootAtMs + 45_000;
    this.lastMs = nowMs;
    const opGhs = this.targetOperatingGhs();
    this.op = constant(opGhs, nowMs);
    this.level = constant(1, nowMs);
    const weights = spec.boardIds.map((_, b) => 0.985 + 0.03 * unit4(seed, idx, 0x80 + b));
    const wSum = weights.reduce((s, w) => s + w, 0);
    this.boards = spec.boardIds.map((id, b) => ({
      index: b,
      id,
      chips: spec.chipsPerBoard,
      serial: identity.boardSerials[b] ?? `${spec.boardSerialPrefix}${b}`,
      weight: ((weights[b] ?? 1) * spec.boardIds.length) / wSum,
      tempOffsetC: -1.5 + 3 * unit4(seed, idx, 0x90 + b),
      enabled: true,
      chipTempC: 0,
      history: new WorkHistory(),
      workGh: 0,
    }));
    // Settle thermals and seed counters as if it had mined steadily since bosminer start.
    const ambient = this.ambientAt(nowMs);
    this.fanRatio = this.desiredFanRatio(nowMs, ambient);
    for (const board of this.boards) {
      board.chipTempC = this.chipTempTarget(board, nowMs, ambient);
    }
    const miningS = (nowMs - this.minerStartAtMs) / 1000;
    let gh = 0;
    for (const board of this.boards) {
      board.workGh = this.boardRealGhs(board, nowMs) * miningS;
      board.history.reset(this.minerStartAtMs);
      board.history.record(nowMs, board.workGh);
      gh += board.workGh;
    }
    creditWork(this.poolGroups, gh, this.instantRealGhs(nowMs), false, nowMs);
    this.recordPowerProfile(nowMs - 3_600_000);
  }

  // ---- identity & lifecycle ----------------------------------------------------------------

  get id(): string {
    return this.placement.id;
  }

  get index(): number {
    return this.placement.index;
  }

  get status(): MinerStatus {
    return this.statusValue;
  }

  /** Powered and booted (not in the middle of a reboot). */
  get isBooted(): boolean {
    return this.booted;
  }

  /** Answers on its address: booted and not cut off by the unreachable fault. */
  get reachable(): boolean {
    return this.booted && !this.faults.has('unreachable');
  }

  get isMining(): boolean {
    return this.booted && this.minerStartAtMs !== null;
  }

  on(listener: (e: MinerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Number of event subscribers (open status streams plus the fleet's own). */
  get subscriberCount(): number {
    return this.listeners.size;
  }

  private emit(e: MinerEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  /** Marks responses stale (call after any change). */
  changed(): void {
    this.version++;
    this.viewCache = undefined;
    this.responseCache.clear();
  }

  private setStatus(s: MinerStatus): void {
    if (s === this.statusValue) return;
    this.statusValue = s;
    this.emit({ type: 'status', status: s });
  }

  private setReachability(before: boolean): void {
    if (this.reachable !== before) this.emit({ type: 'reachability', reachable: this.reachable });
  }

  systemUptimeS(now: number): number {
    return this.booted ? Math.max(0, Math.floor((now - this.bootAtMs) / 1000)) : 0;
  }

  bosminerUptimeS(now: number): number {
    return this.isMining && this.minerStartAtMs !== null
      ? Math.max(0, Math.floor((now - this.minerStartAtMs) / 1000))
      : 0;
  }

  // ---- faults ------------------------------------------------------------------------------

  fault<K extends FaultKind>(kind: K): Extract<Fault, { kind: K }> | undefined {
    return this.faults.get(kind)?.fault as Extract<Fault, { kind: K }> | undefined;
  }

  faultSince(kind: FaultKind): number | undefined {
    return this.faults.get(kind)?.sinceMs;
  }

  listFaults(): Fault[] {
    return [...this.faults.values()].map(f => f.fault);
  }

  addFault(now: number, fault: Fault): void {
    this.advance(now);
    const before = this.reachable;
    const existing = this.faults.get(fault.kind);
    this.faults.set(fault.kind, { fault, sinceMs: existing?.sinceMs ?? now });
    if (fault.kind === 'auth_reject') this.sessions.clear();
    this.changed();
    this.setReachability(before);
  }

  removeFault(now: number, kind: FaultKind): boolean {
    if (!this.faults.has(kind)) return false;
    this.advance(now);
    const before = this.reachable;
    this.faults.delete(kind);
    this.changed();
    this.setReachability(before);
    return true;
  }

  /** Index of the board the hashboard_failure fault kills, or -1. */
  deadBoardIndex(): number {
    const f = this.fault('hashboard_failure');
    if (!f) return -1;
    const n = this.boards.length;
    return f.board_index !== undefined
      ? Math.min(f.board_index, n - 1)
      : hash4(this.seed, this.index, 0xb0a) % n;
  }

  get deadPool(): boolean {
    return this.faults.has('dead_pool');
  }

  // ---- physics -----------------------------------------------------------------------------

  /** Ambient at the miner, °C: site + rack position + a gentle daily swing. */
  ambientAt(t: number): number {
    return (
      this.placement.siteAmbientC +
      this.ambientOffsetC +
      1.5 * Math.sin((2 * Math.PI * t) / 86_400_000 + this.ambientPhase)
    );
  }

  /** Hashrate the current performance settings aim at with all boards hashing, GH/s. */
  targetOperatingGhs(): number {
    const spec = this.spec;
    if (this.performance === 'manual') {
      let total = 0;
      for (const id of spec.boardIds) {
        const hz = this.manual.boards.get(id)?.frequencyHz ?? this.manual.globalFrequencyHz;
        total += boardHashrateForFrequency(spec, hz);
      }
      return total * this.silicon;
    }
    const t = this.activeTuner;
    if (!t.enabled) return spec.stickerGhs * this.silicon;
    if (t.mode === 'hashrate') return t.hashrateTargetThs * 1_000;
    return hashrateForPower(spec, t.powerTargetW) * this.silicon;
  }

  /** Wall power the tuner expects at `ghs`, W. */
  expectedPowerW(ghs: number): number {
    return powerForHashrate(this.spec, ghs / this.silicon);
  }

  private boardHashing(board: BoardState): boolean {
    return this.isMining && board.enabled && board.index !== this.deadBoardIndex();
  }

  private boardNominalGhs(board: BoardState, t: number): number {
    if (!this.boardHashing(board)) return 0;
    return (rampAt(this.op, t) / this.boards.length) * board.weight * rampAt(this.level, t);
  }

  private quality(): number {
    if (!anyPoolAlive(this.poolGroups, this.deadPool)) return 0;
    const low = this.fault('low_hashrate');
    return low ? Math.min(low.ratio, this.baseQuality) : this.baseQuality;
  }

  private boardRealGhs(board: BoardState, t: number): number {
    return this.boardNominalGhs(board, t) * this.quality();
  }

  private instantRealGhs(t: number): number {
    let s = 0;
    for (const b of this.boards) s += this.boardRealGhs(b, t);
    return s;
  }

  private boardPowerW(board: BoardState, t: number): number {
    if (!this.boardHashing(board)) return 0;
    const chips = chipPowerForHashrate(this.spec, rampAt(this.op, t) / this.silicon);
    const idleFactor = anyPoolAlive(this.poolGroups, this.deadPool) ? 1 : 0.2;
    return (chips / this.boards.length) * board.weight * rampAt(this.level, t) * idleFactor;
  }

  private coolingKind(): CoolingKind {
    return this.cooling.mode === 'immersion' ? 'immersion' : this.cooling.mode === 'hydro' ? 'hydro' : 'air';
  }

  private desiredFanRatio(t: number, ambient: number): number {
    if (!this.booted) return 0;
    const c = this.cooling;
    if (c.mode === 'immersion' || c.mode === 'hydro') return 0;
    if (c.mode === 'manual') return c.fanSpeedRatio;
    const min = (c.minFanSpeed ?? 10) / 100;
    const max = (c.maxFanSpeed ?? 100) / 100;
    if (this.faults.has('overheat')) return max;
    let load = 0;
    let hottest = -Infinity;
    for (const b of this.boards) {
      load = Math.max(load, this.boardPowerW(b, t) / nominalBoardPowerW(this.spec));
      hottest = Math.max(hottest, b.chipTempC);
    }
    if (hottest > c.hotC) return max;
    return autoFanRatio(ambient, load, c.targetC, min, max);
  }

  private chipTempTarget(board: BoardState, t: number, ambient: number): number {
    const load = this.boardPowerW(board, t) / nominalBoardPowerW(this.spec);
    let eq =
      chipTempEquilibrium(ambient, load, this.fanRatio, this.coolingKind()) +
      board.tempOffsetC * Math.min(1, load);
    if (this.faults.has('overheat') && load > 0) {
      const c = this.cooling;
      const over = (c.hotC + c.dangerousC) / 2 + board.tempOffsetC;
      // at full load the chips settle between hot and dangerous whatever the room's temperature
      // (ambient + (over - 25) fell below hot in a cold room, so the fault came and went)
      eq = Math.max(eq, ambient + (over - ambient) * Math.max(load, 0.35));
    }
    return eq;
  }

  /** Integrates state from the last update to `now` (exact for the piecewise-linear ramps). */
  advance(now: number): void {
    if (now <= this.lastMs) return;
    let a = this.lastMs;
    const breaks = [this.level.t1, this.op.t1].filter(t => t > a && t < now).sort((x, y) => x - y);
    for (const b of breaks) {
      this.integrate(a, b);
      a = b;
    }
    this.integrate(a, now);
    this.lastMs = now;
  }

  private integrate(a: number, b: number): void {
    const dtMs = b - a;
    if (dtMs <= 0) return;
    const dtS = dtMs / 1000;
    let gh = 0;
    for (const board of this.boards) {
      const xa = this.boardRealGhs(board, a);
      const xb = this.boardRealGhs(board, b);
      const inc = ((xa + xb) / 2) * dtS;
      board.workGh += inc;
      gh += inc;
      board.history.record(b, board.workGh);
    }
    creditWork(this.poolGroups, gh, this.instantRealGhs(b), this.deadPool, b);
    const ambient = this.ambientAt(b);
    this.fanRatio = relax(this.fanRatio, this.desiredFanRatio(b, ambient), dtMs, this.timings.fanTauMs);
    for (const board of this.boards) {
      board.chipTempC = relax(
        board.chipTempC,
        this.chipTempTarget(board, b, ambient),
        dtMs,
        this.timings.thermalTauMs,
      );
    }
  }

  /** Tuner state at `now`. */
  tunerState(now: number): TunerState {
    if (this.performance === 'manual' || !this.activeTuner.enabled || !this.isMining)
      return 'TUNER_STATE_DISABLED';
    return now < this.tuneUntilMs ? 'TUNER_STATE_TUNING' : 'TUNER_STATE_STABLE';
  }

  /** The API's view at `now`: noisy readings, cached per second (until something changes). */
  view(now: number): MinerView {
    const bucket = Math.floor(now / 1000);
    const c = this.viewCache;
    if (c && c.bucket === bucket && c.version === this.version) return c.view;
    const view = this.computeView(now, true);
    this.viewCache = { bucket, version: this.version, view };
    return view;
  }

  /** Noise-free state at `now` (ground truth for tests). */
  trueView(now: number): MinerView {
    return this.computeView(now, false);
  }

  private computeView(now: number, noisy: boolean): MinerView {
    this.advance(now);
    const spec = this.spec;
    const bucket = Math.floor(now / 1000);
    const seed = this.seed;
    const idx = this.index;
    const nz = (channel: number, amplitude: number): number =>
      noisy ? 1 + amplitude * noise(seed, idx, bucket, channel) : 1;
    const ambient = this.ambientAt(now);
    const upS = this.bosminerUptimeS(now);
    const upMs = this.isMining && this.minerStartAtMs !== null ? now - this.minerStartAtMs : 0;
    const low = this.fault('low_hashrate');
    const boards: BoardView[] = this.boards.map(board => {
      const b = board.index;
      const hashing = this.boardHashing(board);
      const nominal = this.boardNominalGhs(board, now);
      const realGhs = WINDOWS_S.map((win, w) => {
        const v = board.history.meanGhs(now, win * 1000) * nz(100 + b * 16 + w, WINDOW_NOISE[w] as number);
        return this.isMining ? Math.max(0, v) : 0;
      });
      const powered = hashing && rampAt(this.level, now) > 0;
      const hz = powered ? this.boardFrequencyHz(board, now) : 0;
      const volts = powered ? this.boardVoltageV(board, hz) : 0;
      const chip = board.chipTempC + (noisy ? 0.4 * noise(seed, idx, bucket, 10 + b) : 0);
      const { inlet, outlet } = inletOutletTemps(ambient, chip);
      const errFraction = low ? Math.max(0, 1 - low.ratio) : ERROR_FRACTION;
      return {
        index: b,
        id: board.id,
        serial: board.serial,
        enabled: board.enabled,
        hashing: hashing && nominal > 0,
        chips: b === this.deadBoardIndex() ? 0 : board.chips,
        frequencyHz: Math.round(hz * nz(80 + b, 0.0005)),
        voltageV: volts * nz(70 + b, 0.001),
        chipTempC: chip,
        boardTempC: boardTempFromChip(ambient, chip) + (noisy ? 0.3 * noise(seed, idx, bucket, 20 + b) : 0),
        inletC: inlet,
        outletC: outlet,
        nominalGhs: nominal,
        realGhs,
        sinceRestartGhs: upS > 0 ? board.workGh / (upMs / 1000) : 0,
        errorMhs: nominal * 1_000 * errFraction * nz(90 + b, 0.3),
        powerW: this.boardPowerW(board, now),
      };
    });
    const fans: FanView[] =
      this.spec.fans > 0 && this.coolingKind() === 'air'
        ? this.fanSpread.map((spread, i) => ({
            position: i,
            ratio: this.fanRatio,
            rpm: Math.max(0, Math.round(spec.fanMaxRpm * this.fanRatio * (1 + spread) * nz(40 + i, 0.012))),
          }))
        : Array.from({ length: spec.fans }, (_, i) => ({ position: i, ratio: 0, rpm: 0 }));
    const sum = (f: (b: BoardView) => number): number => boards.reduce((s, b) => s + f(b), 0);
    const realGhs = WINDOWS_S.map((_, w) => sum(b => b.realGhs[w] ?? 0));
    const chipPower = sum(b => b.powerW);
    const powerW = this.booted
      ? (this.spec.controllerW + fanPowerW(spec, this.fanRatio) + chipPower) * nz(60, 0.006)
      : 0;
    const oneMin = realGhs[W_1M] ?? 0;
    let hottestBoard = 0;
    boards.forEach((b, i) => {
      if (b.chipTempC > (boards[hottestBoard]?.chipTempC ?? -Infinity)) hottestBoard = i;
    });
    return {
      atMs: now,
      status: this.statusValue,
      tunerState: this.tunerState(now),
      systemUptimeS: this.systemUptimeS(now),
      bosminerUptimeS: upS,
      ambientC: ambient,
      boards,
      fans,
      realGhs,
      sinceRestartGhs: sum(b => b.sinceRestartGhs),
      instantGhs: this.instantRealGhs(now),
      nominalGhs: sum(b => b.nominalGhs),
      errorMhs: sum(b => b.errorMhs),
      powerW,
      efficiencyJth: oneMin > 0 ? powerW / (oneMin / 1_000) : 0,
      hottestBoard,
      maxChipTempC: Math.max(...boards.map(b => b.chipTempC)),
      maxBoardTempC: Math.max(...boards.map(b => b.boardTempC)),
    };
  }

  /** Average chip frequency of a hashing board at `t`, Hz. */
  private boardFrequencyHz(board: BoardState, t: number): number {
    if (this.performance === 'manual')
      return this.manual.boards.get(board.id)?.frequencyHz ?? this.manual.globalFrequencyHz;
    const perBoard = ((rampAt(this.op, t) / this.boards.length) * board.weight) / this.silicon;
    return frequencyForBoardHashrate(this.spec, perBoard);
  }

  private boardVoltageV(board: BoardState, hz: number): number {
    if (this.performance === 'manual')
      return this.manual.boards.get(board.id)?.voltageV ?? this.manual.globalVoltageV;
    return voltageForFrequency(this.spec, hz);
  }

  /** Index of the 1-minute and 5-minute windows in MinerView.realGhs. */
  static readonly W_1M = W_1M;
  static readonly W_5M = W_5M;

  // ---- actions -----------------------------------------------------------------------------

  private rampLevel(now: number, to: number, seconds: number): void {
    const from = rampAt(this.level, now);
    const span = Math.abs(to - from) * seconds * 1000;
    this.level = { from, to, t0: now, t1: now + span };
  }

  /** PauseMining: status PAUSED, hashrate ramps down over quick-ramping down_s. */
  pause(now: number): boolean {
    this.advance(now);
    if (this.statusValue === 'MINER_STATUS_PAUSED') return true;
    if (!this.isMining) return false;
    this.rampLevel(now, 0, this.quickRamping.downS);
    this.setStatus('MINER_STATUS_PAUSED');
    this.changed();
    return false;
  }

  /** ResumeMining: NORMAL, ramps up over up_s. Returns true when it was already mining. */
  resume(now: number): boolean {
    this.advance(now);
    if (this.statusValue !== 'MINER_STATUS_PAUSED') return this.isMining;
    this.rampLevel(now, 1, this.quickRamping.upS);
    this.setStatus('MINER_STATUS_NORMAL');
    this.changed();
    return false;
  }

  /** Stop bosminer: NOT_STARTED, no hashing, bosminer uptime 0. Returns true if already stopped. */
  stop(now: number): boolean {
    this.advance(now);
    if (this.minerStartAtMs === null) return true;
    this.minerStartAtMs = null;
    this.level = constant(0, now);
    this.resetCounters(now);
    this.setStatus('MINER_STATUS_NOT_STARTED');
    this.changed();
    return false;
  }

  /** Start bosminer. Returns true if it was already running. */
  start(now: number): boolean {
    this.advance(now);
    if (this.minerStartAtMs !== null) return true;
    this.startMining(now);
    this.changed();
    return false;
  }

  /** Restart bosminer (counters and bosminer uptime reset). Returns whether it was running. */
  restartMining(now: number): boolean {
    this.advance(now);
    const wasRunning = this.minerStartAtMs !== null;
    this.startMining(now);
    this.changed();
    return wasRunning;
  }

  private startMining(now: number): void {
    this.minerStartAtMs = now;
    this.resetCounters(now);
    this.activeTuner = { ...this.tuner };
    const target = this.targetOperatingGhs();
    this.op = constant(target, now);
    this.level = { from: 0, to: 1, t0: now, t1: now + this.timings.warmupMs };
    if (this.performance === 'tuner' && this.activeTuner.enabled && !this.hasProfileFor(this.activeTuner)) {
      this.tuneUntilMs = now + this.timings.warmupMs + this.timings.retuneMs;
      this.recordProfileLater(now + this.timings.warmupMs + this.timings.retuneMs);
    }
    this.setStatus('MINER_STATUS_NORMAL');
  }

  private resetCounters(now: number): void {
    for (const b of this.boards) {
      b.workGh = 0;
      b.history.reset(now);
    }
    resetPoolCounters(this.poolGroups);
  }

  /** The control board goes down (reboot in progress, or never coming back). */
  shutdown(now: number): void {
    this.advance(now);
    const before = this.reachable;
    this.booted = false;
    this.minerStartAtMs = null;
    this.level = constant(0, now);
    this.op = constant(this.op.to, now);
    this.tuneUntilMs = 0;
    this.resetCounters(now);
    this.sessions.clear();
    this.changed();
    this.setReachability(before);
  }

  /** The control board is back: new boot time, bosminer starts, status NORMAL. */
  boot(now: number, outcome: BootOutcome = {}): void {
    this.advance(now);
    const before = this.reachable;
    if (outcome.firmware) this.firmware = outcome.firmware;
    this.booted = true;
    this.bootAtMs = now;
    this.fanRatio = 1;
    this.startMining(now);
    this.changed();
    this.setReachability(before);
  }

  /** FactoryReset: configuration back to defaults (the reboot is the caller's job). */
  factoryReset(now: number, defaultPassword: string): void {
    this.advance(now);
    const spec = this.spec;
    this.cooling = defaultCooling(spec);
    this.tuner = {
      enabled: true,
      mode: 'power',
      powerTargetW: spec.powerTarget.default,
      hashrateTargetThs: Math.round(hashrateForPower(spec, spec.powerTarget.default)) / 1_000,
    };
    this.performance = 'tuner';
    this.manual = {
      globalFrequencyHz: spec.nominalFrequencyHz,
      globalVoltageV: spec.nominalVoltageV,
      boards: new Map(),
    };
    this.dps = defaultDps(spec);
    this.quickRamping = { ...this.timings.quickRamping };
    this.network = { protocol: 'dhcp', hostname: this.identity.hostname };
    this.autoUpgrade = { enabled: false };
    this.advancedSettings = advancedSettingDefaults();
    this.poolGroups = defaultPoolGroups(this.uids, `bosfleet.${this.id.replace(/[^A-Za-z0-9]/g, '')}`);
    this.powerProfiles = [];
    this.hashrateProfiles = [];
    this.password = defaultPassword;
    for (const b of this.boards) b.enabled = true;
    this.changed();
  }

  // ---- tuner -------------------------------------------------------------------------------

  private hasProfileFor(t: TunerConfig): boolean {
    return t.mode === 'power'
      ? this.powerProfiles.some(p => p.targetW === t.powerTargetW)
      : this.hashrateProfiles.some(p => p.targetThs === t.hashrateTargetThs);
  }

  private pendingProfileAt: number | null = null;

  private recordProfileLater(at: number): void {
    this.pendingProfileAt = at;
  }

  /** Adds a tuned profile for the active target once tuning has finished (lazy). */
  private settleProfiles(now: number): void {
    if (this.pendingProfileAt !== null && now >= this.pendingProfileAt) {
      this.recordPowerProfile(this.pendingProfileAt);
      this.pendingProfileAt = null;
    }
  }

  private recordPowerProfile(createdMs: number): void {
    const t = this.activeTuner;
    const ghs = this.targetOperatingGhs() * this.baseQuality;
    const power = Math.round(this.expectedPowerW(this.targetOperatingGhs()));
    if (t.mode === 'power') {
      this.powerProfiles = this.powerProfiles.filter(p => p.targetW !== t.powerTargetW);
      this.powerProfiles.push({
        createdMs,
        targetW: t.powerTargetW,
        measuredGhs: ghs,
        estimatedPowerW: power,
      });
      this.powerProfiles.sort((x, y) => x.targetW - y.targetW);
    } else {
      this.hashrateProfiles = this.hashrateProfiles.filter(p => p.targetThs !== t.hashrateTargetThs);
      this.hashrateProfiles.push({
        createdMs,
        targetThs: t.hashrateTargetThs,
        measuredGhs: ghs,
        estimatedPowerW: power,
      });
      this.hashrateProfiles.sort((x, y) => x.targetThs - y.targetThs);
    }
  }

  /** Profiles after lazily recording the one a finished tuning produced. */
  profiles(now: number): { power: PowerTargetProfileRecord[]; hashrate: HashrateTargetProfileRecord[] } {
    this.settleProfiles(now);
    return { power: this.powerProfiles, hashrate: this.hashrateProfiles };
  }

  removeTunedProfiles(now: number): void {
    this.settleProfiles(now);
    this.powerProfiles = [];
    this.hashrateProfiles = [];
    this.changed();
  }

  /** The model's efficiency curve for this miner's silicon at the current ambient. */
  efficiencyCurve(now: number): EfficiencyPoint[] {
    return efficiencyCurve(this.spec, this.ambientAt(now)).map(p => ({
      ...p,
      hashrateGhs: p.hashrateGhs * this.silicon,
    }));
  }

  /** Hashrate target limits derived from the power limits, TH/s. */
  hashrateLimitsThs(): { min: number; max: number; default: number } {
    const p = this.spec.powerTarget;
    const ths = (w: number): number => Math.round(hashrateForPower(this.spec, w)) / 1_000;
    return { min: ths(p.min), max: ths(p.max), default: ths(p.default) };
  }

  /** Applies tuner settings: retunes over retuneMs (TUNING), hashrate ramps to the new point. */
  private retune(now: number): void {
    this.settleProfiles(now);
    const target = this.targetOperatingGhs();
    const from = rampAt(this.op, now);
    if (Math.abs(target - from) < 1e-9 && this.performance === 'tuner' && now >= this.tuneUntilMs) {
      return;
    }
    // Down is prompt (bosminer cuts frequency at once to respect a lower power budget); up, and
    // the fine tuning around the new point (TUNING), take the whole retune.
    const rampMs = target < from ? Math.min(this.timings.retuneMs, POWER_DOWN_MS) : this.timings.retuneMs;
    this.op = { from, to: target, t0: now, t1: now + rampMs };
    if (this.performance === 'tuner' && this.activeTuner.enabled) {
      this.tuneUntilMs = now + this.timings.retuneMs;
      this.recordProfileLater(this.tuneUntilMs);
    } else {
      this.tuneUntilMs = 0;
    }
  }

  setPowerTarget(now: number, watts: number, apply: boolean): number {
    const { min, max } = this.spec.powerTarget;
    if (!Number.isFinite(watts) || watts < min || watts > max) {
      throw invalidArgument(
        `power target ${watts} W is out of range: expected ${min}–${max} W for ${this.spec.name}`,
      );
    }
    this.advance(now);
    this.tuner = { ...this.tuner, enabled: true, mode: 'power', powerTargetW: Math.round(watts) };
    if (apply) {
      this.performance = 'tuner';
      this.activeTuner = { ...this.tuner };
      if (this.isMining) this.retune(now);
    }
    this.changed();
    return this.tuner.powerTargetW;
  }

  setHashrateTarget(now: number, ths: number, apply: boolean): number {
    const { min, max } = this.hashrateLimitsThs();
    if (!Number.isFinite(ths) || ths < min || ths > max) {
      throw invalidArgument(
        `hashrate target ${ths} TH/s is out of range: expected ${min}–${max} TH/s for ${this.spec.name}`,
      );
    }
    this.advance(now);
    this.tuner = {
      ...this.tuner,
      enabled: true,
      mode: 'hashrate',
      hashrateTargetThs: Math.round(ths * 1000) / 1000,
    };
    if (apply) {
      this.performance = 'tuner';
      this.activeTuner = { ...this.tuner };
      if (this.isMining) this.retune(now);
    }
    this.changed();
    return this.tuner.hashrateTargetThs;
  }

  /** Manual performance mode: fixed frequency/voltage, tuner DISABLED. */
  setManualPerformance(now: number, manual: ManualPerformance, apply: boolean): void {
    const { frequencyHz: f, voltageV: v } = this.spec;
    const check = (hz: number, volt: number, where: string): void => {
      if (!(hz >= f.min && hz <= f.max))
        throw invalidArgument(`${where}: frequency ${hz} Hz is out of range ${f.min}–${f.max} Hz`);
      if (!(volt >= v.min && volt <= v.max))
        throw invalidArgument(`${where}: voltage ${volt} V is out of range ${v.min}–${v.max} V`);
    };
    check(manual.globalFrequencyHz, manual.globalVoltageV, 'global');
    for (const [id, s] of manual.boards) {
      if (!this.spec.boardIds.includes(id)) throw invalidArgument(`unknown hashboard id '${id}'`);
      check(
        s.frequencyHz ?? manual.globalFrequencyHz,
        s.voltageV ?? manual.globalVoltageV,
        `hashboard ${id}`,
      );
    }
    this.advance(now);
    this.manual = manual;
    if (apply) {
      this.performance = 'manual';
      if (this.isMining) this.retune(now);
    }
    this.changed();
  }

  setQuickRamping(now: number, upS: number, downS: number): void {
    for (const [name, v] of [
      ['up_s', upS],
      ['down_s', downS],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 600)
        throw invalidArgument(`${name} must be an integer 0–600 s, got ${v}`);
    }
    this.advance(now);
    this.quickRamping = { upS, downS };
    this.changed();
  }

  // ---- cooling & hashboards ------------------------------------------------------------------

  setCooling(now: number, cfg: CoolingConfig): void {
    const check = (name: string, v: number): void => {
      if (!Number.isFinite(v) || v < 0 || v > 200)
        throw invalidArgument(`${name} ${v} °C is out of range 0–200 °C`);
    };
    check('target_temperature', cfg.targetC);
    check('hot_temperature', cfg.hotC);
    check('dangerous_temperature', cfg.dangerousC);
    if (!(cfg.targetC < cfg.hotC && cfg.hotC < cfg.dangerousC)) {
      throw invalidArgument(
        `temperatures must satisfy target < hot < dangerous (got ${cfg.targetC} / ${cfg.hotC} / ${cfg.dangerousC} °C)`,
      );
    }
    if (cfg.mode === 'manual' && !(cfg.fanSpeedRatio >= 0 && cfg.fanSpeedRatio <= 1)) {
      throw invalidArgument(`fan_speed_ratio must be within 0–1, got ${cfg.fanSpeedRatio}`);
    }
    if (cfg.mode === 'auto') {
      const min = cfg.minFanSpeed ?? 10;
      const max = cfg.maxFanSpeed ?? 100;
      if (!(min >= 0 && max <= 100 && min <= max))
        throw invalidArgument(`fan speeds must satisfy 0 ≤ min ≤ max ≤ 100 (got ${min} / ${max})`);
    }
    this.advance(now);
    this.cooling = cfg;
    this.changed();
  }

  hashboardIds(): string[] {
    return this.boards.map(b => b.id);
  }

  /** Enables or disables boards by id; unknown ids throw INVALID_ARGUMENT. */
  setBoardsEnabled(
    now: number,
    ids: readonly string[],
    enabled: boolean,
  ): Array<{ id: string; is_enabled: boolean }> {
    for (const id of ids) {
      if (!this.boards.some(b => b.id === id))
        throw invalidArgument(`unknown hashboard id '${id}' (have ${this.hashboardIds().join(', ')})`);
    }
    this.advance(now);
    for (const b of this.boards) if (ids.includes(b.id)) b.enabled = enabled;
    this.changed();
    return this.boards.map(b => ({ id: b.id, is_enabled: b.enabled }));
  }

  boardEnabledStates(): Array<{ id: string; enabled: boolean }> {
    return this.boards.map(b => ({ id: b.id, enabled: b.enabled }));
  }

  /** Replaces the pool groups (already validated) and applies them. */
  setPoolGroups(now: number, groups: PoolGroupRuntime[], restart: boolean): void {
    this.advance(now);
    this.poolGroups = groups;
    if (restart && this.isMining) this.startMining(now);
    this.changed();
  }

  /** Current active power target (what the tuner runs), W. */
  activePowerTargetW(): number {
    if (this.activeTuner.mode === 'power') return this.activeTuner.powerTargetW;
    return Math.round(this.expectedPowerW(this.activeTuner.hashrateTargetThs * 1000));
  }
}
