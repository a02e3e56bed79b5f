// Physics hangs together: sums, power ↔ hashrate, retuning, thermal lag, counters. Most checks
// drive a VirtualMiner with explicit timestamps (no waiting); one goes through gRPC.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type {
  GetHashboardsResponse,
  GetMinerStatsResponse,
  GetTunerStateResponse,
} from '../../proto/types.ts';
import { makeIdentity } from '../../simulator/identity.ts';
import { startSimulator, type SimulatedFleet } from '../../simulator/index.ts';
import { MODELS, type ModelKey } from '../../simulator/models.ts';
import { efficiencyCurve, hashrateForPower, powerForHashrate } from '../../simulator/physics.ts';
import { minerTruth } from '../../simulator/truth.ts';
import { VirtualMiner, WINDOW_FIELDS } from '../../simulator/virtual-miner.ts';
import { connect, FAST, sleep, waitFor, type MinerClients } from './helpers.ts';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

function makeMiner(
  model: ModelKey,
  index = 0,
  timings: Partial<VirtualMiner['timings']> = {},
  siteAmbientC = 25,
): VirtualMiner {
  const spec = MODELS[model];
  return new VirtualMiner({
    placement: {
      id: `t-${index}`,
      index,
      host: '127.9.0.1',
      port: 50051,
      tenant: 't',
      site: 's',
      rack: 'r01',
      siteAmbientC,
    },
    spec,
    identity: makeIdentity(7, index, spec),
    seed: 7,
    password: 'root',
    timings: {
      retuneMs: 8_000,
      warmupMs: 5_000,
      thermalTauMs: 45_000,
      fanTauMs: 8_000,
      tokenTimeoutS: 3600,
      quickRamping: { upS: 6, downS: 3 },
      ...timings,
    },
    nowMs: T0,
  });
}

describe('model physics', () => {
  it.each(['s19jpro', 's19xp', 's21', 's9'] as const)(
    '%s: sticker power gives the sticker hashrate; efficiency worsens with power',
    key => {
      const spec = MODELS[key];
      expect(hashrateForPower(spec, spec.nominalPowerW)).toBeCloseTo(spec.stickerGhs, 0);
      expect(powerForHashrate(spec, spec.stickerGhs)).toBeCloseTo(spec.nominalPowerW, 6);
      const low = spec.powerTarget.min;
      const high = spec.powerTarget.max;
      expect(low / hashrateForPower(spec, low)).toBeLessThan(high / hashrateForPower(spec, high));
      expect(efficiencyCurve(spec, 25).length).toBe(12);
    },
  );

  it('figures per model are realistic', () => {
    const s = (k: ModelKey) => MODELS[k];
    expect(s('s19jpro')).toMatchObject({ stickerGhs: 104_000, chipsPerBoard: 126, fans: 4 });
    expect(s('s21')).toMatchObject({ stickerGhs: 200_000, chipsPerBoard: 108, fans: 4 });
    expect(s('s9')).toMatchObject({
      stickerGhs: 14_000,
      chipsPerBoard: 63,
      fans: 2,
      boardIds: ['6', '7', '8'],
    });
    expect(s('s19xp').stickerGhs).toBe(141_000);
    for (const k of ['s19jpro', 's19xp', 's21', 's9'] as const) {
      expect(s(k).nominalFrequencyHz).toBeGreaterThan(450e6);
      expect(s(k).nominalFrequencyHz).toBeLessThan(700e6);
      expect(s(k).powerTarget.min).toBeLessThan(s(k).powerTarget.default);
      expect(s(k).powerTarget.default).toBeLessThan(s(k).powerTarget.max);
    }
  });
});

describe('VirtualMiner state over time', () => {
  it('per-board figures sum to the miner totals; nominal ≥ real; shares grow with hashrate', () => {
    const m = makeMiner('s19jpro');
    for (const t of [T0 + 1_000, T0 + 61_000, T0 + 3_600_000]) {
      const v = m.view(t);
      const sum = (f: (b: (typeof v.boards)[number]) => number): number =>
        v.boards.reduce((s, b) => s + f(b), 0);
      WINDOW_FIELDS.forEach((_, w) => expect(sum(b => b.realGhs[w] ?? 0)).toBeCloseTo(v.realGhs[w] ?? 0, 6));
      expect(sum(b => b.nominalGhs)).toBeCloseTo(v.nominalGhs, 6);
      expect(sum(b => b.errorMhs)).toBeCloseTo(v.errorMhs, 6);
      for (const w of v.realGhs) expect(w).toBeLessThanOrEqual(v.nominalGhs);
      for (const b of v.boards) b.realGhs.forEach(r => expect(r).toBeLessThanOrEqual(b.nominalGhs));
    }
    const fresh = makeMiner('s19jpro');
    const a = minerTruth(fresh, T0 + 10_000);
    const b = minerTruth(fresh, T0 + 70_000);
    const expected =
      (a.hashrate_instant_ghs * 60 * 1e9) / 2 ** 32 / (fresh.poolGroups[0]?.pools[0]?.lastDifficulty ?? 1);
    const grown =
      b.shares_accepted +
      b.shares_rejected +
      b.shares_stale -
      (a.shares_accepted + a.shares_rejected + a.shares_stale);
    expect(grown).toBeGreaterThan(expected * 0.9);
    expect(grown).toBeLessThan(expected * 1.1);
    expect(b.uptime_s - a.uptime_s).toBe(60);
  });

  it('readings are deterministic and noisy, truth is noise-free', () => {
    const a = makeMiner('s21', 3);
    const b = makeMiner('s21', 3);
    expect(a.view(T0 + 5_000).realGhs).toEqual(b.view(T0 + 5_000).realGhs);
    const t1 = a.view(T0 + 6_000).realGhs[0];
    const t2 = a.view(T0 + 7_000).realGhs[0];
    expect(t1).not.toBe(t2);
    expect(Math.abs((t1 ?? 0) / (t2 ?? 1) - 1)).toBeLessThan(0.03);
  });

  it('a power target change retunes: TUNING, then STABLE, hashrate and power follow', () => {
    const m = makeMiner('s19jpro', 0, { retuneMs: 10_000 });
    const before = minerTruth(m, T0 + 1_000);
    expect(before.tuner_state).toBe('TUNER_STATE_STABLE');
    m.setPowerTarget(T0 + 1_000, 2_000, true);
    const mid = minerTruth(m, T0 + 2_000);
    expect(mid.tuner_state).toBe('TUNER_STATE_TUNING');
    expect(mid.hashrate_nominal_ghs).toBeLessThan(before.hashrate_nominal_ghs);
    const after = minerTruth(m, T0 + 12_000);
    expect(after.tuner_state).toBe('TUNER_STATE_STABLE');
    expect(after.hashrate_nominal_ghs).toBeLessThan(mid.hashrate_nominal_ghs);
    const settled = minerTruth(m, T0 + 600_000);
    const ratio = settled.hashrate_ghs / before.hashrate_ghs;
    // Roughly proportional around nominal, a bit better than proportional below it.
    expect(ratio).toBeGreaterThan(2_000 / 3_070);
    expect(ratio).toBeLessThan(0.8);
    expect(settled.power_w).toBeGreaterThan(1_900);
    expect(settled.power_w).toBeLessThan(2_100);
    expect(settled.efficiency_jth).toBeLessThan(before.efficiency_jth);
    expect(settled.temp_chip_max_c).toBeLessThanOrEqual(before.temp_chip_max_c + 1);
  });

  it('temperatures lag load with a first-order response and fans answer temperature', () => {
    const m = makeMiner('s19jpro', 1, { quickRamping: { upS: 0, downS: 0 } });
    const hot = minerTruth(m, T0 + 1_000);
    m.pause(T0 + 1_000);
    const soon = minerTruth(m, T0 + 1_000 + 45_000);
    const late = minerTruth(m, T0 + 1_000 + 600_000);
    expect(soon.temp_chip_max_c).toBeLessThan(hot.temp_chip_max_c);
    expect(soon.temp_chip_max_c).toBeGreaterThan(late.temp_chip_max_c + 5);
    // after one time constant about 63 % of the way
    const frac = (hot.temp_chip_max_c - soon.temp_chip_max_c) / (hot.temp_chip_max_c - late.temp_chip_max_c);
    expect(frac).toBeGreaterThan(0.5);
    expect(frac).toBeLessThan(0.75);
    expect(late.temp_chip_max_c).toBeLessThan(late.ambient_c + 3);
    expect(late.fan_rpm_avg).toBeLessThan(hot.fan_rpm_avg);
    expect(late.power_w).toBeLessThan(200);
  });

  it('a hotter site makes fans work harder at the same load', () => {
    const spec = MODELS.s19jpro;
    const mk = (ambient: number): VirtualMiner =>
      new VirtualMiner({
        placement: {
          id: 'a',
          index: 0,
          host: 'h',
          port: 1,
          tenant: 't',
          site: 's',
          rack: 'r',
          siteAmbientC: ambient,
        },
        spec,
        identity: makeIdentity(1, 0, spec),
        seed: 1,
        password: 'root',
        timings: {
          retuneMs: 1,
          warmupMs: 1,
          thermalTauMs: 45_000,
          fanTauMs: 8_000,
          tokenTimeoutS: 1,
          quickRamping: { upS: 1, downS: 1 },
        },
        nowMs: T0,
      });
    expect(minerTruth(mk(35), T0).fan_rpm_avg).toBeGreaterThan(minerTruth(mk(18), T0).fan_rpm_avg);
  });

  it.each([15, 25, 32])('an overheat fault holds the chips between hot and dangerous in a %d °C room', ambient => {
    const m = makeMiner('s19jpro', 0, {}, ambient);
    m.addFault(T0, { kind: 'overheat' });
    const later = T0 + 10 * 60_000;
    m.advance(later);
    const t = minerTruth(m, later);
    expect(t.temp_chip_max_c).toBeGreaterThan(MODELS.s19jpro.cooling.hot);
    expect(t.temp_chip_max_c).toBeLessThan(MODELS.s19jpro.cooling.dangerous);
  });
});

describe('retuning over gRPC', () => {
  let fleet: SimulatedFleet;
  let c: MinerClients;

  beforeAll(async () => {
    fleet = await startSimulator({
      miners: 1,
      seed: 'physics',
      models: 's21',
      baseAddress: '127.4.0.1',
      ...FAST,
      retuneMs: 1_200,
      // No response cache: a cached answer from the previous second would defeat the same-second check below.
      cacheMs: 0,
    });
    c = connect(fleet.miners[0]!.address);
    await c.login();
  });
  afterAll(async () => {
    c.close();
    await fleet.stop();
  });

  it('per-board stats sum to the GetMinerStats totals', async () => {
    // Readings are one view per wall-clock second: compare two answers from the same second.
    const sameSecond = async () => {
      for (;;) {
        const startS = Math.floor(Date.now() / 1000);
        const pair = await Promise.all([
          c.call<GetMinerStatsResponse>('MinerService', 'GetMinerStats'),
          c.call<GetHashboardsResponse>('MinerService', 'GetHashboards'),
        ]);
        if (Math.floor(Date.now() / 1000) === startS) return pair;
      }
    };
    const [{ res: stats }, { res: boards }] = await sameSecond();
    const total = stats.miner_stats!.nominal_hashrate!.gigahash_per_second;
    const sum = boards.hashboards.reduce((s, b) => s + b.stats!.nominal_hashrate!.gigahash_per_second, 0);
    expect(sum).toBeCloseTo(total, 0);
    const real = boards.hashboards.reduce(
      (s, b) => s + b.stats!.real_hashrate!.last_1m!.gigahash_per_second,
      0,
    );
    expect(real).toBeCloseTo(stats.miner_stats!.real_hashrate!.last_1m!.gigahash_per_second, 0);
  });

  it('SetPowerTarget → TUNING, then STABLE; hashrate follows', async () => {
    const before = fleet.truth('sim-0001');
    await c.call('PerformanceService', 'SetPowerTarget', {
      save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
      power_target: { watt: 2_400 },
    });
    const { res: tuning } = await c.call<GetTunerStateResponse>('PerformanceService', 'GetTunerState');
    expect(tuning.overall_tuner_state).toBe('TUNER_STATE_TUNING');
    expect(tuning.power_target_mode_state?.current_target?.watt).toBe(2_400);
    await waitFor(async () => {
      const { res } = await c.call<GetTunerStateResponse>('PerformanceService', 'GetTunerState');
      return res.overall_tuner_state === 'TUNER_STATE_STABLE';
    }, 5_000);
    await sleep(200);
    const after = fleet.truth('sim-0001');
    expect(after.hashrate_nominal_ghs / before.hashrate_nominal_ghs).toBeCloseTo(
      hashrateForPower(MODELS.s21, 2_400) / hashrateForPower(MODELS.s21, 3_500),
      2,
    );
    // The 5 s window follows within a few of its time constants (it is a smoothed view).
    await waitFor(async () => {
      const { res: stats } = await c.call<GetMinerStatsResponse>('MinerService', 'GetMinerStats');
      return stats.miner_stats!.real_hashrate!.last_5s!.gigahash_per_second < before.hashrate_ghs * 0.9;
    }, 12_000);
    expect(after.power_target_w).toBe(2_400);
  });

  it('SAVE without apply changes the configuration but not the running target', async () => {
    await c.call('PerformanceService', 'SetPowerTarget', {
      save_action: 'SAVE_ACTION_SAVE',
      power_target: { watt: 3_000 },
    });
    const { res } = await c.call<GetTunerStateResponse>('PerformanceService', 'GetTunerState');
    expect(res.power_target_mode_state?.current_target?.watt).toBe(2_400);
    const cfg = await c.call<{ tuner: { power_target: { watt: number } } }>(
      'ConfigurationService',
      'GetMinerConfiguration',
    );
    expect(cfg.res.tuner.power_target.watt).toBe(3_000);
  });
});
