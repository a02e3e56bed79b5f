import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetError } from '../../core/errors.ts';
import { MinerClient } from '../../collector/miner-client.ts';
import { serviceDefinition } from '../../proto/loader.ts';
import { buildFirmwareImage, startSimulator, type SimulatedFleet } from '../../simulator/index.ts';

// Real gRPC over loopback against the simulator (each miner on its own 127.x address).
let fleet: SimulatedFleet;
const clients: MinerClient[] = [];

function clientFor(i: number, over: Partial<ConstructorParameters<typeof MinerClient>[0]> = {}): MinerClient {
  const m = fleet.miners[i]!;
  const c = new MinerClient({ minerId: m.id, host: m.host, port: m.port, credentials: { username: 'root', password: 'root' }, timeoutMs: 2_000, ...over });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  fleet = await startSimulator({ miners: 8, seed: 42, baseAddress: '127.42.0.1', rebootMs: 600, retuneMs: 400, warmupMs: 200, tokenTimeoutS: 1, models: 's19jpro:100' });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await fleet.stop();
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(FleetError);
    return (err as FleetError).code;
  }
}

describe('MinerClient against the simulator', () => {
  it('probes the API version without logging in', async () => {
    const c = clientFor(0);
    const v = await c.probe();
    expect(v).toMatchObject({ major: 1, minor: 11 });
    expect(c.hasToken).toBe(false);
  });

  it('logs in lazily and reads every telemetry RPC with the right units', async () => {
    const c = clientFor(0);
    const truth = fleet.truth(fleet.miners[0]!.id);
    const details = await c.unary('MinerService', 'GetMinerDetails', {});
    expect(c.hasToken).toBe(true);
    expect(details.uid).toBe(truth.uid);
    expect(details.mac_address).toBe(truth.mac_address);
    const stats = await c.unary('MinerService', 'GetMinerStats', {});
    const ghs = stats.miner_stats!.real_hashrate!.last_1m!.gigahash_per_second;
    expect(ghs).toBeGreaterThan(80_000); // S19j Pro ~104 TH/s in GH/s
    expect(ghs).toBeLessThan(115_000);
    expect(stats.power_stats!.approximated_consumption!.watt).toBeGreaterThan(2_000);
    const boards = await c.unary('MinerService', 'GetHashboards', {});
    expect(boards.hashboards).toHaveLength(3);
    expect(boards.hashboards[0]!.current_frequency!.hertz).toBeGreaterThan(1e8); // Hz, not MHz
    const cooling = await c.unary('CoolingService', 'GetCoolingState', {});
    expect(cooling.fans.length).toBe(4);
    const tuner = await c.unary('PerformanceService', 'GetTunerState', {});
    expect(tuner.overall_tuner_state).toMatch(/^TUNER_STATE_/);
    const pools = await c.unary('PoolService', 'GetPoolGroups', {});
    expect(pools.pool_groups.length).toBeGreaterThan(0);
    const cfg = await c.unary('ConfigurationService', 'GetMinerConfiguration', {});
    expect(cfg.tuner?.power_target?.watt).toBeGreaterThan(0);
    const cons = await c.unary('ConfigurationService', 'GetConstraints', {});
    expect(cons.tuner_constraints!.power_target!.max!.watt).toBeGreaterThan(cons.tuner_constraints!.power_target!.min!.watt);
    const net = await c.unary('NetworkService', 'GetNetworkInfo', {});
    expect(net.mac_address).toBe(truth.mac_address);
    const lic = await c.unary('LicenseService', 'GetLicenseState', {});
    expect(lic.state).toBeDefined();
    const errors = await c.unary('MinerService', 'GetErrors', {});
    expect(Array.isArray(errors.errors)).toBe(true);
    const up = await c.unary('UpgradeService', 'GetAutoUpgradeStatus', {});
    expect(typeof up.enabled).toBe('boolean');
    const mode = await c.unary('PerformanceService', 'GetActivePerformanceMode', {});
    expect(mode.mode).toBeDefined();
    const profiles = await c.unary('PerformanceService', 'ListTargetProfiles', {});
    expect(Array.isArray(profiles.power_target_profiles)).toBe(true);
  });

  it('changes state through control RPCs (power target, pools, cooling, hashboards, actions)', async () => {
    const c = clientFor(1);
    const id = fleet.miners[1]!.id;
    const set = await c.unary('PerformanceService', 'SetPowerTarget', { save_action: 'SAVE_ACTION_SAVE_AND_APPLY', power_target: { watt: 2500 } });
    expect(set.power_target!.watt).toBe(2500);
    expect(fleet.truth(id).power_target_w).toBe(2500);
    const inc = await c.unary('PerformanceService', 'IncrementPowerTarget', { save_action: 'SAVE_ACTION_SAVE_AND_APPLY', power_target_increment: { watt: 100 } });
    expect(inc.power_target!.watt).toBe(2600);
    const dec = await c.unary('PerformanceService', 'DecrementPowerTarget', { save_action: 'SAVE_ACTION_SAVE_AND_APPLY', power_target_decrement: { watt: 200 } });
    expect(dec.power_target!.watt).toBe(2400);
    const hr = await c.unary('PerformanceService', 'SetHashrateTarget', { save_action: 'SAVE_ACTION_SAVE_AND_APPLY', hashrate_target: { terahash_per_second: 90 } });
    expect(hr.hashrate_target!.terahash_per_second).toBe(90);
    expect(await code(c.unary('PerformanceService', 'SetPowerTarget', { save_action: 'SAVE_ACTION_SAVE_AND_APPLY', power_target: { watt: 99_999 } }))).toBe('miner_error');
    const dps = await c.unary('PerformanceService', 'SetDPS', { save_action: 'SAVE_ACTION_SAVE_AND_APPLY', enable: true });
    expect(dps.enabled).toBe(true);

    const pools = await c.unary('PoolService', 'SetPoolGroups', {
      save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
      pool_groups: [{ name: 'main', pools: [{ url: 'stratum+tcp://pool.example:3333', user: 'acct.w1', password: 'x' }] }],
    });
    expect(pools.pool_groups[0]!.pools[0]!.url).toBe('stratum+tcp://pool.example:3333');
    expect(fleet.truth(id).pools.map(p => p.url)).toEqual(['stratum+tcp://pool.example:3333']);

    const cool = await c.unary('CoolingService', 'SetCoolingMode', { save_action: 'SAVE_ACTION_SAVE_AND_APPLY', manual: { fan_speed_ratio: 0.8 } });
    expect(cool.mode).toBe('manual');

    const dis = await c.unary('MinerService', 'DisableHashboards', { save_action: 'SAVE_ACTION_SAVE_AND_APPLY', hashboard_ids: ['1'] });
    expect(dis.hashboards.find(h => h.id === '1')?.is_enabled).toBe(false);
    const en = await c.unary('MinerService', 'EnableHashboards', { save_action: 'SAVE_ACTION_SAVE_AND_APPLY', hashboard_ids: ['1'] });
    expect(en.hashboards.find(h => h.id === '1')?.is_enabled).toBe(true);

    expect((await c.unary('ActionsService', 'SetLocateDeviceStatus', { enable: true })).enabled).toBe(true);
    expect((await c.unary('ActionsService', 'GetLocateDeviceStatus', {})).enabled).toBe(true);
    expect((await c.unary('ActionsService', 'PauseMining', {})).already_paused).toBe(false);
    expect(fleet.truth(id).status).toBe('MINER_STATUS_PAUSED');
    expect((await c.unary('ActionsService', 'ResumeMining', {})).already_mining).toBe(false);
    expect((await c.unary('ActionsService', 'Stop', {})).already_stopped).toBe(false);
    expect(fleet.truth(id).status).toBe('MINER_STATUS_NOT_STARTED');
    expect((await c.unary('ActionsService', 'Start', {})).already_running).toBe(false);
    expect((await c.unary('ActionsService', 'Restart', {})).already_running).toBe(true);
  });

  it('re-logs in once when the session expired (sliding timeout) and keeps working', async () => {
    const c = clientFor(2);
    await c.unary('MinerService', 'GetMinerStats', {});
    await new Promise(r => setTimeout(r, 1_300)); // token timeout is 1 s in this fleet
    const stats = await c.unary('MinerService', 'GetMinerStats', {});
    expect(stats.miner_stats).not.toBeNull();
  });

  it('reports wrong credentials as auth_rejected', async () => {
    const c = clientFor(2, { credentials: { username: 'root', password: 'wrong' } });
    expect(await code(c.unary('MinerService', 'GetMinerStats', {}))).toBe('auth_rejected');
  });

  it('enforces deadlines: a slow miner gives timeout', async () => {
    const id = fleet.miners[3]!.id;
    fleet.injectFault(id, { kind: 'slow', delay_ms: 1_500 });
    const c = clientFor(3, { timeoutMs: 300 });
    expect(await code(c.unary('MinerService', 'GetMinerStats', {}))).toBe('timeout');
    fleet.clearFault(id, 'slow');
  });

  it('maps an unreachable miner and each telemetry fault', async () => {
    const id = fleet.miners[4]!.id;
    const c = clientFor(4, { timeoutMs: 1_000 });
    await c.unary('MinerService', 'GetMinerStats', {});
    fleet.injectFault(id, 'unreachable');
    expect(await code(c.unary('MinerService', 'GetMinerStats', {}))).toBe('unreachable');
    fleet.clearFault(id, 'unreachable');
    await fleet.settled(); // the address is bound again
    expect(await code(c.unary('MinerService', 'GetMinerStats', {}))).toBe('ok');

    fleet.injectFault(id, { kind: 'intermittent', failure_rate: 1 });
    expect(await code(c.unary('MinerService', 'GetMinerStats', {}))).toBe('unreachable');
    fleet.clearFault(id, 'intermittent');

    fleet.injectFault(id, { kind: 'hashboard_failure', board_index: 0 });
    // Telemetry answers are cached for up to a second, as a real miner's are refreshed periodically.
    await expect
      .poll(async () => (await c.unary('MinerService', 'GetHashboards', {})).hashboards[0]!.chips_count?.value, { timeout: 3_000, interval: 250 })
      .toBe(0);
    fleet.clearFault(id, 'hashboard_failure');

    fleet.injectFault(id, 'auth_reject');
    const fresh = clientFor(4);
    expect(await code(fresh.unary('MinerService', 'GetMinerStats', {}))).toBe('auth_rejected');
    fleet.clearFault(id, 'auth_reject');
  });

  it('streams status changes and stops on abort', async () => {
    const c = clientFor(5);
    const seen: string[] = [];
    const ctl = new AbortController();
    const done = c.watchStatus(s => seen.push(s), ctl.signal);
    await expect.poll(() => seen.length, { timeout: 2_000 }).toBeGreaterThan(0);
    expect(seen[0]).toBe('MINER_STATUS_NORMAL');
    await clientFor(5).unary('ActionsService', 'PauseMining', {});
    await expect.poll(() => seen.at(-1), { timeout: 3_000 }).toBe('MINER_STATUS_PAUSED');
    ctl.abort();
    await expect(done).resolves.toBeUndefined();
    await clientFor(5).unary('ActionsService', 'ResumeMining', {});
  });

  it('reads a bounded log tail', async () => {
    const c = clientFor(5);
    const log = await c.readLog('LOG_TYPE_BOSMINER', { maxBytes: 512 });
    expect(log.text.length).toBeGreaterThan(0);
    expect(Buffer.byteLength(log.text)).toBeLessThanOrEqual(512);
  });

  it('uploads firmware with progress; the miner reboots onto the new version', async () => {
    const id = fleet.miners[6]!.id;
    const c = clientFor(6, { timeoutMs: 1_000 });
    const version = '2026-06-20-0-1a2b3c4d-26.06-plus';
    const image = buildFirmwareImage({ version, sizeBytes: 600_000 });
    const progress: number[] = [];
    expect(await c.systemUpgrade(image, { chunkBytes: 100_000, onProgress: p => progress.push(p.bytesSent) })).toBe(true);
    expect(progress.at(-1)).toBe(image.length);
    await expect.poll(async () => (await c.unary('MinerService', 'GetMinerDetails', {}).catch(() => null))?.bos_version?.current, { timeout: 5_000, interval: 100 }).toBe(version);
    expect(fleet.truth(id).firmware).toBe(version);
  });

  it('rejects a corrupt image and leaves the miner as it was', async () => {
    const id = fleet.miners[7]!.id;
    const before = fleet.truth(id).firmware;
    const c = clientFor(7);
    const image = buildFirmwareImage({ version: '2026-06-20-0-1a2b3c4d-26.06-plus' });
    const corrupt = Buffer.from(image);
    corrupt.write('XXXX', 0);
    expect(await code(c.systemUpgrade(corrupt))).toBe('miner_error');
    expect(fleet.truth(id).firmware).toBe(before);
    expect(fleet.truth(id).reachable).toBe(true);
  });
});

// Older firmware cannot be had from the simulator (it speaks API 1.11), so two behaviours of
// old miners are served by a minimal in-test gRPC server: the token only in the response
// header (API < 1.1) and an API version that predates GetLog.
describe('MinerClient against older firmware', () => {
  let server: grpc.Server;
  let port = 0;
  beforeAll(async () => {
    server = new grpc.Server();
    server.addService(serviceDefinition('ApiVersionService'), {
      GetApiVersion: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { major: 1, minor: 0, patch: 0, pre: '', build: '' }),
    });
    server.addService(serviceDefinition('AuthenticationService'), {
      Login: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        const md = new grpc.Metadata();
        md.set('authorization', 'legacy-token-123');
        call.sendMetadata(md);
        cb(null, {});
      },
      SetPassword: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, {}),
    });
    server.addService(serviceDefinition('CoolingService'), {
      GetCoolingState: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        call.metadata.get('authorization')[0] === 'legacy-token-123' ? cb(null, { fans: [{ rpm: 4200 }] }) : cb({ code: grpc.status.UNAUTHENTICATED }),
      SetImmersionMode: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.UNIMPLEMENTED }),
      SetCoolingMode: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.UNIMPLEMENTED }),
    });
    port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  });
  afterAll(() => server.forceShutdown());

  it('takes the token from the authorization response header', async () => {
    const c = new MinerClient({ minerId: 'old', host: '127.0.0.1', port, credentials: { username: 'root', password: 'root' } });
    const state = await c.unary('CoolingService', 'GetCoolingState', {});
    expect(state.fans[0]!.rpm).toBe(4200);
    c.close();
  });

  it('says unsupported for RPCs newer than the miner, without calling them', async () => {
    const c = new MinerClient({ minerId: 'old', host: '127.0.0.1', port, credentials: { username: 'root', password: 'root' } });
    await c.probe();
    await expect(c.readLog('LOG_TYPE_BOSMINER')).rejects.toMatchObject({ code: 'unsupported', message: expect.stringMatching(/needs 1\.10/) });
    expect(await code(c.unary('CoolingService', 'SetCoolingMode', { save_action: 'SAVE_ACTION_SAVE_AND_APPLY' }))).toBe('unsupported');
    c.close();
  });
});
