// Actions behave like the firmware's: pause/resume ramps, stop/start, restart, reboot (the miner
// becomes unreachable, then comes back with uptime reset), and the status stream follows.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { GetMinerDetailsResponse, GetMinerStatsResponse } from '../../proto/types.ts';
import { startSimulator, type SimulatedFleet } from '../../simulator/index.ts';
import { connect, expectStatus, FAST, sleep, waitFor, type MinerClients } from './helpers.ts';

interface StatusStream {
  statuses: string[];
  ended: Promise<grpc.ServiceError | null>;
  cancel(): void;
}

function subscribe(c: MinerClients): StatusStream {
  const client = c.client('MinerService') as unknown as grpc.Client & {
    GetMinerStatus(req: object, md: grpc.Metadata): grpc.ClientReadableStream<{ status: string }>;
  };
  const stream = client.GetMinerStatus({}, c.md);
  const statuses: string[] = [];
  stream.on('data', (m: { status: string }) => statuses.push(m.status));
  const ended = new Promise<grpc.ServiceError | null>(resolve => {
    stream.on('error', (err: grpc.ServiceError) => resolve(err));
    stream.on('end', () => resolve(null));
  });
  return { statuses, ended, cancel: () => stream.cancel() };
}

describe('simulator actions', () => {
  let fleet: SimulatedFleet;
  let c: MinerClients;
  const id = 'sim-0001';

  beforeAll(async () => {
    fleet = await startSimulator({
      miners: 2,
      seed: 'actions',
      models: 's19jpro',
      baseAddress: '127.5.0.1',
      ...FAST,
    });
    c = connect(fleet.miners[0]!.address);
    await c.login();
  });
  afterAll(async () => {
    c.close();
    await fleet.stop();
  });

  const details = async (): Promise<GetMinerDetailsResponse> =>
    (await c.call<GetMinerDetailsResponse>('MinerService', 'GetMinerDetails')).res;

  it('status stream: current status on subscribe, PAUSED after pause, NORMAL after resume; ends on cancel', async () => {
    const s = subscribe(c);
    await waitFor(() => s.statuses.length >= 1, 3_000);
    expect(s.statuses).toEqual(['MINER_STATUS_NORMAL']);

    const { res: paused } = await c.call<{ already_paused: boolean }>('ActionsService', 'PauseMining');
    expect(paused.already_paused).toBe(false);
    await waitFor(() => s.statuses.includes('MINER_STATUS_PAUSED'), 3_000);
    expect((await details()).status).toBe('MINER_STATUS_PAUSED');
    const { res: again } = await c.call<{ already_paused: boolean }>('ActionsService', 'PauseMining');
    expect(again.already_paused).toBe(true);

    // Hashrate ramps to 0 over quick-ramping down_s (1 s); power drops to about idle.
    await sleep(1_200);
    const t = fleet.truth(id);
    expect(t.hashrate_instant_ghs).toBe(0);
    expect(t.power_w).toBeLessThan(250);
    expect(t.status).toBe('MINER_STATUS_PAUSED');
    await waitFor(async () => {
      const { res } = await c.call<GetMinerStatsResponse>('MinerService', 'GetMinerStats');
      return (
        res.miner_stats!.real_hashrate!.last_5s!.gigahash_per_second < 80_000 &&
        res.power_stats!.approximated_consumption!.watt < 250
      );
    }, 10_000);

    const { res: resumed } = await c.call<{ already_mining: boolean }>('ActionsService', 'ResumeMining');
    expect(resumed.already_mining).toBe(false);
    await waitFor(() => s.statuses.at(-1) === 'MINER_STATUS_NORMAL', 3_000);
    expect(s.statuses).toEqual(['MINER_STATUS_NORMAL', 'MINER_STATUS_PAUSED', 'MINER_STATUS_NORMAL']);
    await sleep(1_100);
    expect(fleet.truth(id).hashrate_instant_ghs).toBeGreaterThan(90_000);

    const subscribers = fleet.miner(id).subscriberCount;
    s.cancel();
    const err = await s.ended;
    expect(err?.code).toBe(grpc.status.CANCELLED);
    await waitFor(() => fleet.miner(id).subscriberCount === subscribers - 1, 3_000);
  });

  it('stop → NOT_STARTED with bosminer uptime 0; start → NORMAL', async () => {
    const { res: stopped } = await c.call<{ already_stopped: boolean }>('ActionsService', 'Stop');
    expect(stopped.already_stopped).toBe(false);
    let d = await details();
    expect(d.status).toBe('MINER_STATUS_NOT_STARTED');
    expect(d.bosminer_uptime_s).toBe(0);
    expect(d.system_uptime_s).toBeGreaterThan(0);
    const { res: stats } = await c.call<GetMinerStatsResponse>('MinerService', 'GetMinerStats');
    expect(stats.miner_stats!.real_hashrate!.last_1m!.gigahash_per_second).toBe(0);
    expect((await c.call<{ already_stopped: boolean }>('ActionsService', 'Stop')).res.already_stopped).toBe(
      true,
    );

    const { res: started } = await c.call<{ already_running: boolean }>('ActionsService', 'Start');
    expect(started.already_running).toBe(false);
    d = await details();
    expect(d.status).toBe('MINER_STATUS_NORMAL');
    await sleep(1_100);
    expect((await details()).bosminer_uptime_s).toBeGreaterThanOrEqual(1);
    expect(fleet.truth(id).hashrate_instant_ghs).toBeGreaterThan(90_000);
  });

  it('restart resets bosminer uptime and share counters but not the system uptime', async () => {
    const before = fleet.truth(id);
    const { res } = await c.call<{ already_running: boolean }>('ActionsService', 'Restart');
    expect(res.already_running).toBe(true);
    const after = fleet.truth(id);
    expect(after.bosminer_uptime_s).toBe(0);
    expect(after.shares_accepted).toBe(0);
    expect(after.uptime_s).toBeGreaterThanOrEqual(before.uptime_s);
  });

  it('reboot: UNAVAILABLE (connection refused) and the status stream ends, then back with uptime reset and status NORMAL', async () => {
    await c.login();
    const s = subscribe(c);
    await waitFor(() => s.statuses.length >= 1, 3_000);
    const uptimeBefore = (await details()).system_uptime_s;
    expect(uptimeBefore).toBeGreaterThan(3_600);
    await c.call('ActionsService', 'Reboot');
    const streamErr = await s.ended;
    expect(streamErr?.code).toBe(grpc.status.UNAVAILABLE);
    expect(fleet.truth(id).reachable).toBe(false);
    await expectStatus(
      c.call('ApiVersionService', 'GetApiVersion', {}, new grpc.Metadata(), 2_000),
      grpc.status.UNAVAILABLE,
    );

    await waitFor(async () => {
      await c.call('ApiVersionService', 'GetApiVersion', {}, new grpc.Metadata(), 1_000);
      return true;
    }, 10_000);
    // Sessions do not survive a reboot.
    await expectStatus(c.call('MinerService', 'GetMinerDetails'), grpc.status.UNAUTHENTICATED);
    await c.login();
    const d = await details();
    expect(d.status).toBe('MINER_STATUS_NORMAL');
    expect(d.system_uptime_s).toBeLessThan(10);
    expect(d.bosminer_uptime_s).toBeLessThanOrEqual(d.system_uptime_s);
  });

  it('factory reset restores defaults (password, power target) and reboots', async () => {
    const other = connect(fleet.miners[1]!.address);
    try {
      await other.login();
      await other.call('PerformanceService', 'SetPowerTarget', {
        save_action: 'SAVE_ACTION_SAVE_AND_APPLY',
        power_target: { watt: 2_500 },
      });
      await other.call('AuthenticationService', 'SetPassword', { password: 'changed' });
      await other.call('ActionsService', 'FactoryReset');
      await waitFor(() => !fleet.truth('sim-0002').reachable, 2_000);
      await waitFor(async () => {
        await other.login('root');
        return true;
      }, 10_000);
      const { res } = await other.call<{ tuner: { power_target: { watt: number } } }>(
        'ConfigurationService',
        'GetMinerConfiguration',
      );
      expect(res.tuner.power_target.watt).toBe(3_070);
    } finally {
      other.close();
    }
  });
});
