// Every RPC of the API answers with plausible values in the API's units.
import { gunzipSync } from 'node:zlib';

import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type {
  GetConstraintsResponse,
  GetCoolingStateResponse,
  GetHashboardsResponse,
  GetMinerConfigurationResponse,
  GetMinerDetailsResponse,
  GetMinerEfficiencyProfileResponse,
  GetMinerStatsResponse,
  GetNetworkInfoResponse,
  GetPoolGroupsResponse,
  GetTunerStateResponse,
  PerformanceMode,
} from '../../proto/types.ts';
import { bosServices } from '../../proto/loader.ts';
import { FIRMWARE_VERSION_PATTERN } from '../../simulator/identity.ts';
import { startSimulator, type SimulatedFleet } from '../../simulator/index.ts';
import { connect, expectStatus, FAST, type MinerClients } from './helpers.ts';

function readStream(
  client: grpc.Client & Record<string, unknown>,
  method: string,
  request: object,
  md: grpc.Metadata,
): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const fn = client[method] as (
      req: object,
      md: grpc.Metadata,
    ) => grpc.ClientReadableStream<{ chunk_data: Buffer }>;
    const stream = fn.call(client, request, md);
    const chunks: Buffer[] = [];
    stream.on('data', (m: { chunk_data: Buffer }) => chunks.push(m.chunk_data));
    stream.on('error', reject);
    stream.on('end', () => resolve(chunks));
  });
}

describe('simulator RPCs (one S19j Pro)', () => {
  let fleet: SimulatedFleet;
  let c: MinerClients;

  beforeAll(async () => {
    fleet = await startSimulator({
      miners: 2,
      seed: 'rpcs',
      models: 's19jpro',
      baseAddress: '127.3.0.1',
      ...FAST,
    });
    c = connect(fleet.miners[0]!.address);
    await c.login();
  });
  afterAll(async () => {
    c.close();
    await fleet.stop();
  });

  it('GetMinerDetails: identity, firmware, uptimes, sticker hashrate', async () => {
    const { res } = await c.call<GetMinerDetailsResponse>('MinerService', 'GetMinerDetails');
    const info = fleet.miners[0]!;
    expect(res.uid).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(res.uid).toBe(info.uid);
    expect(res.miner_identity).toMatchObject({
      brand: 'MINER_BRAND_ANTMINER',
      miner_model: 'Antminer S19J Pro',
      model: 'MINER_MODEL_ANTMINER_S19J_PRO',
    });
    expect(res.bos_version?.current).toMatch(FIRMWARE_VERSION_PATTERN);
    expect(res.bos_version?.bos_plus).toBe(true);
    expect(res.mac_address).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(res.sticker_hashrate?.gigahash_per_second).toBe(104_000);
    expect(res.status).toBe('MINER_STATUS_NORMAL');
    expect(res.system_uptime_s).toBeGreaterThan(3600);
    expect(res.bosminer_uptime_s).toBeGreaterThan(0);
    expect(res.bosminer_uptime_s).toBeLessThanOrEqual(res.system_uptime_s);
    expect(res.serial_number).toBe(info.serialNumber);
    expect(res.psu_info?.model_name).toMatch(/^APW/);
    expect(res.platform).not.toBe('PLATFORM_UNSPECIFIED');
    expect(res.control_board_soc_family).not.toBe('CONTROL_BOARD_SOC_FAMILY_UNSPECIFIED');
  });

  it('GetMinerStats: GH/s windows, MH/s error, W and J/TH, share counters', async () => {
    const { res } = await c.call<GetMinerStatsResponse>('MinerService', 'GetMinerStats');
    const rh = res.miner_stats!.real_hashrate!;
    for (const w of [
      'last_5s',
      'last_15s',
      'last_30s',
      'last_1m',
      'last_5m',
      'last_15m',
      'last_30m',
      'last_1h',
      'last_24h',
      'since_restart',
    ] as const) {
      expect(rh[w]!.gigahash_per_second).toBeGreaterThan(90_000);
      expect(rh[w]!.gigahash_per_second).toBeLessThan(115_000);
    }
    const nominal = res.miner_stats!.nominal_hashrate!.gigahash_per_second;
    expect(nominal).toBeGreaterThanOrEqual(rh.last_1m!.gigahash_per_second);
    expect(res.miner_stats!.error_hashrate!.megahash_per_second).toBeGreaterThan(0);
    expect(res.miner_stats!.error_hashrate!.megahash_per_second).toBeLessThan(10_000);
    const power = res.power_stats!.approximated_consumption!.watt;
    expect(power).toBeGreaterThan(2_800);
    expect(power).toBeLessThan(3_300);
    expect(res.power_stats!.efficiency!.joule_per_terahash).toBeGreaterThan(26);
    expect(res.power_stats!.efficiency!.joule_per_terahash).toBeLessThan(33);
    const ps = res.pool_stats!;
    expect(ps.accepted_shares).toBeGreaterThan(1_000);
    expect(ps.rejected_shares / ps.accepted_shares).toBeCloseTo(0.003, 3);
    expect(ps.stale_shares / ps.accepted_shares).toBeCloseTo(0.001, 3);
    expect(ps.last_difficulty).toBeGreaterThan(0);
    expect(ps.last_share_time?.seconds).toBeGreaterThan(0);
  });

  it('GetHashboards: 3 boards, 126 chips, Hz, V, temperatures', async () => {
    const { res } = await c.call<GetHashboardsResponse>('MinerService', 'GetHashboards');
    expect(res.hashboards.map(b => b.id)).toEqual(['1', '2', '3']);
    for (const b of res.hashboards) {
      expect(b.enabled).toBe(true);
      expect(b.chips_count?.value).toBe(126);
      expect(b.current_frequency!.hertz).toBeGreaterThan(400e6);
      expect(b.current_frequency!.hertz).toBeLessThan(700e6);
      expect(b.current_voltage!.volt).toBeGreaterThan(12);
      expect(b.current_voltage!.volt).toBeLessThan(15);
      expect(b.highest_chip_temp!.temperature!.degree_c).toBeGreaterThan(55);
      expect(b.highest_chip_temp!.temperature!.degree_c).toBeLessThan(90);
      expect(b.board_temp!.degree_c).toBeLessThan(b.highest_chip_temp!.temperature!.degree_c);
      expect(b.lowest_inlet_temp!.degree_c).toBeLessThan(b.highest_outlet_temp!.degree_c);
      expect(b.chip_type).toBe('BM1362');
      expect(b.stats!.real_hashrate!.last_1m!.gigahash_per_second).toBeGreaterThan(30_000);
    }
  });

  it('GetErrors: empty for a healthy miner', async () => {
    const { res } = await c.call<{ errors: unknown[] }>('MinerService', 'GetErrors');
    expect(res.errors).toEqual([]);
  });

  it('GetLog streams plausible text for each log type; GetSupportArchive streams a ZIP or tar.gz', async () => {
    const miner = c.client('MinerService');
    for (const logType of ['LOG_TYPE_BOSMINER', 'LOG_TYPE_SYSLOG', 'LOG_TYPE_MONITOR', 'LOG_TYPE_DMESG']) {
      const text = Buffer.concat(await readStream(miner, 'GetLog', { log_type: logType }, c.md)).toString(
        'utf8',
      );
      expect(text.split('\n').length).toBeGreaterThan(50);
    }
    const bosminer = Buffer.concat(
      await readStream(miner, 'GetLog', { log_type: 'LOG_TYPE_BOSMINER' }, c.md),
    ).toString('utf8');
    expect(bosminer).toMatch(/TH\/s/);
    const zipChunks = await readStream(
      miner,
      'GetSupportArchive',
      { format: 'SUPPORT_ARCHIVE_FORMAT_ZIP' },
      c.md,
    );
    const zip = Buffer.concat(zipChunks);
    expect(zip.readUInt32LE(0)).toBe(0x04034b50);
    expect(zip.includes(Buffer.from('details.json'))).toBe(true);
    const tgz = Buffer.concat(
      await readStream(miner, 'GetSupportArchive', { format: 'SUPPORT_ARCHIVE_FORMAT_BOS' }, c.md),
    );
    const tar = gunzipSync(tgz);
    expect(tar.subarray(257, 262).toString()).toBe('ustar');
    await expect(
      readStream(miner, 'GetSupportArchive', { format: 'SUPPORT_ARCHIVE_FORMAT_ZIP_ENCRYPTED' }, c.md),
    ).rejects.toMatchObject({
      code: grpc.status.UNIMPLEMENTED,
    });
  });

  it('Enable/DisableHashboards toggle boards (unknown ids are INVALID_ARGUMENT)', async () => {
    const { res } = await c.call<{ hashboards: Array<{ id: string; is_enabled: boolean }> }>(
      'MinerService',
      'DisableHashboards',
      {
        save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
        hashboard_ids: ['2'],
      },
    );
    expect(res.hashboards).toEqual([
      { id: '1', is_enabled: true },
      { id: '2', is_enabled: false },
      { id: '3', is_enabled: true },
    ]);
    expect(fleet.truth(fleet.miners[0]!.id).boards_hashing).toBe(2);
    await c.call('MinerService', 'EnableHashboards', {
      save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
      hashboard_ids: ['2'],
    });
    expect(fleet.truth(fleet.miners[0]!.id).boards_hashing).toBe(3);
    await expectStatus(
      c.call('MinerService', 'DisableHashboards', { hashboard_ids: ['9'] }),
      grpc.status.INVALID_ARGUMENT,
    );
  });

  it('CoolingService: fans in rpm with PWM ratio; cooling modes', async () => {
    const { res } = await c.call<GetCoolingStateResponse>('CoolingService', 'GetCoolingState');
    expect(res.fans).toHaveLength(4);
    for (const f of res.fans) {
      expect(f.rpm).toBeGreaterThan(600);
      expect(f.rpm).toBeLessThan(6_500);
      expect(f.target_speed_ratio).toBeGreaterThan(0);
      expect(f.target_speed_ratio).toBeLessThanOrEqual(1);
    }
    expect(res.highest_temperature?.location).toBe('SENSOR_LOCATION_CHIP');
    const manual = await c.call<{ manual?: { fan_speed_ratio?: number } }>(
      'CoolingService',
      'SetCoolingMode',
      {
        save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
        manual: {
          fan_speed_ratio: 0.9,
          hot_temperature: { degree_c: 90 },
          dangerous_temperature: { degree_c: 100 },
        },
      },
    );
    expect(manual.res.manual?.fan_speed_ratio).toBe(0.9);
    const cfg = await c.call<GetMinerConfigurationResponse>('ConfigurationService', 'GetMinerConfiguration');
    expect(cfg.res.temperature?.mode).toBe('manual');
    await expectStatus(
      c.call('CoolingService', 'SetCoolingMode', {
        auto: { target_temperature: { degree_c: 95 }, hot_temperature: { degree_c: 90 } },
      }),
      grpc.status.INVALID_ARGUMENT,
    );
    const imm = await c.call<{ immersion_mode: boolean }>('CoolingService', 'SetImmersionMode', {
      enable_immersion_mode: true,
    });
    expect(imm.res.immersion_mode).toBe(true);
    const back = await c.call<{ auto?: object }>('CoolingService', 'SetCoolingMode', {
      save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
      auto: {},
    });
    expect(back.res.auto).toBeTruthy();
  });

  it('PerformanceService: tuner state, profiles, efficiency curve, targets, DPS, modes, quick ramping', async () => {
    const tuner = await c.call<GetTunerStateResponse>('PerformanceService', 'GetTunerState');
    expect(tuner.res.overall_tuner_state).toBe('TUNER_STATE_STABLE');
    expect(tuner.res.power_target_mode_state?.current_target?.watt).toBe(3_070);
    expect(tuner.res.power_target_mode_state?.profile?.target?.watt).toBe(3_070);

    const profiles = await c.call<{ power_target_profiles: unknown[] }>(
      'PerformanceService',
      'ListTargetProfiles',
    );
    expect(profiles.res.power_target_profiles.length).toBeGreaterThan(0);

    const curve = await c.call<GetMinerEfficiencyProfileResponse>(
      'PerformanceService',
      'GetMinerEfficiencyProfile',
    );
    expect(curve.res.points.length).toBeGreaterThanOrEqual(6);
    expect(curve.res.points.length).toBeLessThanOrEqual(20);
    const pts = curve.res.points;
    for (let i = 1; i < pts.length; i++) {
      expect(pts[i]!.power_target!.watt).toBeGreaterThan(pts[i - 1]!.power_target!.watt);
      expect(pts[i]!.hashrate!.terahash_per_second).toBeGreaterThan(
        pts[i - 1]!.hashrate!.terahash_per_second,
      );
      // J/TH gets worse as power goes up
      const eff = (p: (typeof pts)[number]): number => p.consumption!.watt / p.hashrate!.terahash_per_second;
      expect(eff(pts[i]!)).toBeGreaterThan(eff(pts[i - 1]!));
    }
    expect(pts[0]!.frequency!.hertz).toBeGreaterThan(1e8);

    const set = await c.call<{ power_target: { watt: number } }>('PerformanceService', 'SetPowerTarget', {
      save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
      power_target: { watt: 2_800 },
    });
    expect(set.res.power_target.watt).toBe(2_800);
    const inc = await c.call<{ power_target: { watt: number } }>(
      'PerformanceService',
      'IncrementPowerTarget',
      {
        save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
        power_target_increment: { watt: 100 },
      },
    );
    expect(inc.res.power_target.watt).toBe(2_900);
    const dec = await c.call<{ power_target: { watt: number } }>(
      'PerformanceService',
      'DecrementPowerTarget',
      {
        save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
        power_target_decrement: { watt: 400 },
      },
    );
    expect(dec.res.power_target.watt).toBe(2_500);
    const rel = await c.call<{ power_target: { watt: number } }>(
      'PerformanceService',
      'SetRelativePowerTarget',
      {
        save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
        percentage: 90,
        reference: 'RELATIVE_TARGET_REFERENCE_NOMINAL',
      },
    );
    expect(rel.res.power_target.watt).toBe(2_763);
    const def = await c.call<{ power_target: { watt: number } }>(
      'PerformanceService',
      'SetDefaultPowerTarget',
      { save_action: 'SAVE_ACTION_SAVE_AND_APPLY' },
    );
    expect(def.res.power_target.watt).toBe(3_070);
    const tooHigh = await expectStatus(
      c.call('PerformanceService', 'SetPowerTarget', {
        save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
        power_target: { watt: 9_000 },
      }),
      grpc.status.INVALID_ARGUMENT,
    );
    expect(tooHigh.details).toMatch(/1200–3900 W/);
    await expectStatus(
      c.call('PerformanceService', 'DecrementPowerTarget', { power_target_decrement: { watt: 2_500 } }),
      grpc.status.INVALID_ARGUMENT,
    );

    const hr = await c.call<{ hashrate_target: { terahash_per_second: number } }>(
      'PerformanceService',
      'SetHashrateTarget',
      {
        save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
        hashrate_target: { terahash_per_second: 95 },
      },
    );
    expect(hr.res.hashrate_target.terahash_per_second).toBe(95);
    const hinc = await c.call<{ hashrate_target: { terahash_per_second: number } }>(
      'PerformanceService',
      'IncrementHashrateTarget',
      {
        save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
        hashrate_target_increment: { terahash_per_second: 2 },
      },
    );
    expect(hinc.res.hashrate_target.terahash_per_second).toBe(97);
    const hdec = await c.call<{ hashrate_target: { terahash_per_second: number } }>(
      'PerformanceService',
      'DecrementHashrateTarget',
      {
        save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
        hashrate_target_decrement: { terahash_per_second: 7 },
      },
    );
    expect(hdec.res.hashrate_target.terahash_per_second).toBe(90);
    const hrel = await c.call<{ hashrate_target: { terahash_per_second: number } }>(
      'PerformanceService',
      'SetRelativeHashrateTarget',
      {
        save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
        percentage: 50,
        reference: 'RELATIVE_TARGET_REFERENCE_MAX',
      },
    );
    expect(hrel.res.hashrate_target.terahash_per_second).toBeGreaterThan(50);
    const hstate = await c.call<GetTunerStateResponse>('PerformanceService', 'GetTunerState');
    expect(hstate.res.mode_state).toBe('hashrate_target_mode_state');
    const hdef = await c.call<{ hashrate_target: { terahash_per_second: number } }>(
      'PerformanceService',
      'SetDefaultHashrateTarget',
      {},
    );
    expect(hdef.res.hashrate_target.terahash_per_second).toBeCloseTo(104, 0);
    await expectStatus(
      c.call('PerformanceService', 'SetHashrateTarget', { hashrate_target: { terahash_per_second: 500 } }),
      grpc.status.INVALID_ARGUMENT,
    );

    const dps = await c.call<{
      enabled: boolean;
      power_target: { min_power_target: { watt: number } };
      shutdown_duration: { hours: number };
    }>('PerformanceService', 'SetDPS', {
      save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
      enable: true,
      enable_shutdown: true,
      shutdown_duration: { hours: 4 },
      target: { power_target: { power_step: { watt: 200 }, min_power_target: { watt: 2_000 } } },
      mode: 'DPS_MODE_BOOST',
    });
    expect(dps.res.enabled).toBe(true);
    expect(dps.res.power_target.min_power_target.watt).toBe(2_000);
    expect(dps.res.shutdown_duration.hours).toBe(4);
    await expectStatus(
      c.call('PerformanceService', 'SetDPS', { shutdown_duration: { hours: 99 } }),
      grpc.status.INVALID_ARGUMENT,
    );

    const pm = await c.call<PerformanceMode>('PerformanceService', 'SetPerformanceMode', {
      save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
      mode: { tuner_mode: { power_target: { power_target: { watt: 3_000 } } } },
    });
    expect(pm.res.tuner_mode?.power_target?.power_target?.watt).toBe(3_000);
    const active = await c.call<PerformanceMode>('PerformanceService', 'GetActivePerformanceMode');
    expect(active.res.tuner_mode?.power_target?.power_target?.watt).toBe(3_000);
    const manual = await c.call<PerformanceMode>('PerformanceService', 'SetPerformanceMode', {
      save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
      mode: {
        manual_mode: { global_frequency: { hertz: 500e6 }, global_voltage: { volt: 13.4 }, hashboards: [] },
      },
    });
    expect(manual.res.manual_mode?.global_frequency?.hertz).toBe(500e6);
    const manualState = await c.call<GetTunerStateResponse>('PerformanceService', 'GetTunerState');
    expect(manualState.res.overall_tuner_state).toBe('TUNER_STATE_DISABLED');
    await expectStatus(
      c.call('PerformanceService', 'SetPerformanceMode', {
        mode: { manual_mode: { global_frequency: { hertz: 5e9 }, global_voltage: { volt: 13 } } },
      }),
      grpc.status.INVALID_ARGUMENT,
    );
    await c.call('PerformanceService', 'SetDefaultPowerTarget', {
      save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
    });

    await c.call('PerformanceService', 'RemoveTunedProfiles');
    const none = await c.call<{ power_target_profiles: unknown[] }>(
      'PerformanceService',
      'ListTargetProfiles',
    );
    expect(none.res.power_target_profiles).toEqual([]);

    const qr = await c.call<{ up_s: number; down_s: number }>('PerformanceService', 'SetQuickRamping', {
      up_s: 30,
      down_s: 10,
    });
    expect(qr.res).toEqual({ up_s: 30, down_s: 10 });
    const dqr = await c.call<{ up_s: number; down_s: number }>(
      'PerformanceService',
      'SetDefaultQuickRamping',
      {},
    );
    expect(dqr.res).toEqual({ up_s: 1, down_s: 1 });
    await expectStatus(
      c.call('PerformanceService', 'SetQuickRamping', { up_s: 9_999, down_s: 1 }),
      grpc.status.INVALID_ARGUMENT,
    );
  });

  it('PoolService: groups with live stats; create, update, remove, set', async () => {
    const { res } = await c.call<GetPoolGroupsResponse>('PoolService', 'GetPoolGroups');
    expect(res.pool_groups).toHaveLength(1);
    const g = res.pool_groups[0]!;
    expect(g.uid).toBeTruthy();
    expect(g.pools[0]).toMatchObject({ alive: true, active: true, enabled: true });
    expect(g.pools[0]!.url).toMatch(/^stratum\+tcp:\/\//);
    expect(g.pools[0]!.stats!.accepted_shares).toBeGreaterThan(0);
    expect(g.pools[1]).toMatchObject({ alive: true, active: false });

    const created = await c.call<{ group: { uid: string; name: string } }>('PoolService', 'CreatePoolGroup', {
      save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
      group: {
        name: 'backup',
        quota: { value: 1 },
        pools: [{ url: 'stratum+tcp://pool.example.com:3333', user: 'worker1', password: 'x' }],
      },
    });
    expect(created.res.group.uid).toBeTruthy();
    const updated = await c.call<{ group: { pools: Array<{ url: string }> } }>(
      'PoolService',
      'UpdatePoolGroup',
      {
        save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
        group: {
          uid: created.res.group.uid,
          name: 'backup',
          quota: { value: 2 },
          pools: [{ url: 'stratum+tcp://pool2.example.com:3333', user: 'worker1' }],
        },
      },
    );
    expect(updated.res.group.pools[0]!.url).toBe('stratum+tcp://pool2.example.com:3333');
    const two = await c.call<GetPoolGroupsResponse>('PoolService', 'GetPoolGroups');
    expect(two.res.pool_groups).toHaveLength(2);
    expect(two.res.pool_groups[1]!.quota?.value).toBe(2);
    expect(JSON.stringify(two.res)).not.toContain('"password"');
    await c.call('PoolService', 'RemovePoolGroup', {
      save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
      uid: created.res.group.uid,
    });
    await expectStatus(
      c.call('PoolService', 'RemovePoolGroup', { uid: created.res.group.uid }),
      grpc.status.NOT_FOUND,
    );
    await expectStatus(
      c.call('PoolService', 'CreatePoolGroup', {
        group: { name: 'bad', pools: [{ url: 'http://nope', user: 'w' }] },
      }),
      grpc.status.INVALID_ARGUMENT,
    );
    const set = await c.call<{ pool_groups: Array<{ uid: string; name: string }> }>(
      'PoolService',
      'SetPoolGroups',
      {
        save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
        pool_groups: [
          {
            name: 'main',
            quota: { value: 1 },
            pools: [{ url: 'stratum+tcp://eu.stratum.braiins.com:3333', user: 'acme.w1' }],
          },
        ],
      },
    );
    expect(set.res.pool_groups).toHaveLength(1);
    expect(set.res.pool_groups[0]!.uid).toBeTruthy();
    await expectStatus(
      c.call('PoolService', 'SetPoolGroups', {
        pool_groups: [{ uid: 'x', name: 'a', pools: [{ url: 'stratum+tcp://a.b:1', user: 'u' }] }],
      }),
      grpc.status.INVALID_ARGUMENT,
    );
  });

  it('ConfigurationService: configuration reflects changes; constraints per model', async () => {
    await c.call('PerformanceService', 'SetPowerTarget', {
      save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
      power_target: { watt: 2_900 },
    });
    const { res } = await c.call<GetMinerConfigurationResponse>(
      'ConfigurationService',
      'GetMinerConfiguration',
    );
    expect(res.tuner).toMatchObject({
      enabled: true,
      tuner_mode: 'TUNER_MODE_POWER_TARGET',
      power_target: { watt: 2_900 },
    });
    expect(res.pool_groups[0]!.name).toBe('main');
    expect(res.dps?.enabled).toBe(true);
    expect(res.hashboard_config?.hashboards.map(h => h.id)).toEqual(['1', '2', '3']);
    expect(res.temperature?.mode).toBeTruthy();
    const k = await c.call<GetConstraintsResponse>('ConfigurationService', 'GetConstraints');
    expect(k.res.tuner_constraints?.power_target).toMatchObject({
      min: { watt: 1_200 },
      max: { watt: 3_900 },
      default: { watt: 3_070 },
    });
    expect(k.res.hashboards_constraints?.hashboard_ids).toEqual(['1', '2', '3']);
    expect(k.res.cooling_constraints?.default_cooling_mode).toBe('COOLING_MODE_AUTO');
  });

  it('NetworkService: info, configuration, static/DHCP', async () => {
    const info = await c.call<GetNetworkInfoResponse>('NetworkService', 'GetNetworkInfo');
    expect(info.res.mac_address).toBe(fleet.miners[0]!.macAddress);
    expect(info.res.networks[0]!.address).toBe(fleet.miners[0]!.host);
    expect(info.res.protocol).toBe('NETWORK_PROTOCOL_DHCP');
    const set = await c.call<{ network: { hostname: string; static?: { address: string } } }>(
      'NetworkService',
      'SetNetworkConfiguration',
      {
        static: {
          address: '10.1.2.3',
          netmask: '255.255.255.0',
          gateway: '10.1.2.1',
          dns_servers: ['10.1.2.1'],
        },
        hostname: 'rack1-s19',
      },
    );
    expect(set.res.network).toMatchObject({ hostname: 'rack1-s19', static: { address: '10.1.2.3' } });
    const cfg = await c.call<{ network: { protocol: string } }>('NetworkService', 'GetNetworkConfiguration');
    expect(cfg.res.network.protocol).toBe('static');
    await expectStatus(
      c.call('NetworkService', 'SetNetworkConfiguration', {
        static: { address: '999.1.1.1', netmask: 'x', gateway: 'y' },
      }),
      grpc.status.INVALID_ARGUMENT,
    );
    await c.call('NetworkService', 'SetNetworkConfiguration', { dhcp: {}, hostname: 'rack1-s19' });
  });

  it('LicenseService and AdvancedSettingsService', async () => {
    const lic = await c.call<{ state: string; valid?: { dev_fee: { bsp: number } } }>(
      'LicenseService',
      'GetLicenseState',
    );
    expect(lic.res.state).toBe('valid');
    expect(lic.res.valid?.dev_fee.bsp).toBeGreaterThan(0);
    const applied = await c.call<{ successful: boolean }>('LicenseService', 'ApplyContractKey', {
      contract_key: 'ACME-2026-KEY',
    });
    expect(applied.res.successful).toBe(true);
    await expectStatus(
      c.call('LicenseService', 'ApplyContractKey', { contract_key: '' }),
      grpc.status.INVALID_ARGUMENT,
    );

    const schema = await c.call<{ schema: { fields: Record<string, unknown> } }>(
      'AdvancedSettingsService',
      'GetSettingsSchema',
    );
    expect(Object.keys(schema.res.schema.fields)).toContain('properties');
    const set = await c.call<{ applied: { fields: Record<string, { numberValue?: number }> } }>(
      'AdvancedSettingsService',
      'SetSettings',
      {
        settings: { fields: { min_fan_pwm: { numberValue: 20 } } },
      },
    );
    expect(set.res.applied.fields.min_fan_pwm?.numberValue).toBe(20);
    const got = await c.call<{ settings: { fields: Record<string, unknown> } }>(
      'AdvancedSettingsService',
      'GetSettings',
      {},
    );
    expect(Object.keys(got.res.settings.fields)).toEqual(['min_fan_pwm']);
    const all = await c.call<{ settings: { fields: Record<string, unknown> } }>(
      'AdvancedSettingsService',
      'GetSettings',
      { include_default: true },
    );
    expect(Object.keys(all.res.settings.fields).length).toBeGreaterThan(1);
    await expectStatus(
      c.call('AdvancedSettingsService', 'SetSettings', {
        settings: { fields: { min_fan_pwm: { numberValue: 500 } } },
      }),
      grpc.status.INVALID_ARGUMENT,
    );
    await expectStatus(
      c.call('AdvancedSettingsService', 'SetSettings', {
        settings: { fields: { no_such_key: { boolValue: true } } },
      }),
      grpc.status.INVALID_ARGUMENT,
    );
    const reset = await c.call<{ settings: { fields: Record<string, { numberValue?: number }> } }>(
      'AdvancedSettingsService',
      'ResetAllSettings',
    );
    expect(reset.res.settings.fields.min_fan_pwm?.numberValue).toBe(10);
  });

  it('UpgradeService auto-upgrade schedule; ActionsService locate', async () => {
    const upd = await c.call<{ enabled: boolean; next_execution?: { seconds: number } }>(
      'UpgradeService',
      'UpdateAutoUpgradeConfig',
      {
        enabled: true,
        schedule: { weekly: { day_of_week: 'DAY_OF_WEEK_SUNDAY', time: { hours: 3, minutes: 0 } } },
      },
    );
    expect(upd.res.enabled).toBe(true);
    const next = new Date(upd.res.next_execution!.seconds * 1000);
    expect(next.getUTCDay()).toBe(0);
    expect(next.getUTCHours()).toBe(3);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    const st = await c.call<{ enabled: boolean; schedule?: { weekly?: object } }>(
      'UpgradeService',
      'GetAutoUpgradeStatus',
    );
    expect(st.res.schedule?.weekly).toBeTruthy();

    const on = await c.call<{ enabled: boolean }>('ActionsService', 'SetLocateDeviceStatus', {
      enable: true,
    });
    expect(on.res.enabled).toBe(true);
    const get = await c.call<{ enabled: boolean }>('ActionsService', 'GetLocateDeviceStatus');
    expect(get.res.enabled).toBe(true);
  });

  it('implements every method of every service (no UNIMPLEMENTED for unary RPCs)', async () => {
    const services = bosServices();
    const unary: string[] = [];
    for (const [name, ctor] of Object.entries(services)) {
      for (const [method, def] of Object.entries(ctor.service as grpc.ServiceDefinition)) {
        if (!def.requestStream && !def.responseStream) unary.push(`${name}/${method}`);
      }
    }
    expect(unary.length).toBeGreaterThan(55);
    const other = connect(fleet.miners[1]!.address);
    await other.login();
    const destructive = new Set([
      'ActionsService/Reboot',
      'ActionsService/FactoryReset',
      'UpgradeService/RestoreStock',
    ]);
    try {
      for (const entry of unary) {
        if (destructive.has(entry)) continue;
        const [svc, method] = entry.split('/') as [Parameters<MinerClients['call']>[0], string];
        try {
          await other.call(svc, method, {});
        } catch (err) {
          expect((err as grpc.ServiceError).code, entry).not.toBe(grpc.status.UNIMPLEMENTED);
        }
      }
    } finally {
      other.close();
    }
  });
});
