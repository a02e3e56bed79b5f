// What a miner does with uploads it cannot take: an upload it refuses (fault refuse_upload or an
// image for another platform) leaves it untouched and is reported by GetErrors; a miner on an API
// older than 1.10 has no SystemUpgrade; a miner that comes back on the old version reports
// SYSTEM_UPGRADE_FAILED.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { ApiVersion, GetErrorsResponse, GetMinerDetailsResponse } from '../../proto/types.ts';
import {
  FIRMWARE_CURRENT,
  buildFirmwareImage,
  parseFirmwareImage,
  startSimulator,
  upgradeMetadataFor,
  type SimulatedFleet,
} from '../../simulator/index.ts';
import { connect, expectStatus, FAST, sleep, waitFor, type MinerClients } from './helpers.ts';

const NEW_VERSION = '2026-06-20-0-1a2b3c4d-26.06-plus';

function upload(c: MinerClients, image: Buffer): Promise<{ successful: boolean }> {
  const client = c.client('UpgradeService') as unknown as grpc.Client & {
    SystemUpgrade(
      md: grpc.Metadata,
      opts: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, res: { successful: boolean }) => void,
    ): grpc.ClientWritableStream<object>;
  };
  return new Promise((resolve, reject) => {
    const call = client.SystemUpgrade(c.md, { deadline: Date.now() + 10_000 }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
    call.write({
      metadata: { ...upgradeMetadataFor(image), discard_settings: false, disable_cleanup: false },
    });
    call.write({ data: image });
    call.end();
  });
}

describe('firmware image platform', () => {
  it('the header carries an optional platform', () => {
    const img = buildFirmwareImage({ version: NEW_VERSION, platform: 'PLATFORM_AM3_BBB', sizeBytes: 4_000 });
    expect(parseFirmwareImage(img)).toMatchObject({ version: NEW_VERSION, platform: 'PLATFORM_AM3_BBB' });
    expect(parseFirmwareImage(buildFirmwareImage({ version: NEW_VERSION })).platform).toBeUndefined();
    expect(() => buildFirmwareImage({ version: NEW_VERSION, platform: 'am3' })).toThrow(/PLATFORM_/);
  });
});

describe('uploads a miner cannot take', () => {
  let fleet: SimulatedFleet;
  const clients: MinerClients[] = [];
  const open = async (index: number): Promise<MinerClients> => {
    const c = connect(fleet.miners[index]!.address);
    clients.push(c);
    await c.login();
    return c;
  };
  const errorCodes = async (c: MinerClients): Promise<string[]> =>
    (await c.call<GetErrorsResponse>('MinerService', 'GetErrors')).res.errors.flatMap(e =>
      e.error_codes.map(x => x.code),
    );
  const version = async (c: MinerClients): Promise<string> =>
    (await c.call<GetMinerDetailsResponse>('MinerService', 'GetMinerDetails')).res.bos_version!.current;

  beforeAll(async () => {
    fleet = await startSimulator({
      miners: 4,
      seed: 'fw-refuse',
      models: 's19jpro',
      baseAddress: '127.7.1.1',
      firmware: FIRMWARE_CURRENT,
      ...FAST,
    });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await fleet.stop();
  });

  it('refuse_upload: answers successful=false, no reboot, GetErrors reports SYSTEM_UPGRADE_FAILED', async () => {
    const c = await open(0);
    const uptime = fleet.truth('sim-0001').uptime_s;
    fleet.injectFault('sim-0001', { kind: 'upgrade_failure', mode: 'refuse_upload' });
    expect(await upload(c, buildFirmwareImage({ version: NEW_VERSION, sizeBytes: 20_000 }))).toEqual({
      successful: false,
    });
    await sleep(FAST.rebootMs * 1.5);
    expect(fleet.truth('sim-0001')).toMatchObject({ reachable: true, firmware: FIRMWARE_CURRENT });
    expect(fleet.truth('sim-0001').uptime_s).toBeGreaterThanOrEqual(uptime);
    expect(await errorCodes(c)).toContain('SYSTEM_UPGRADE_FAILED');
  });

  it('an image for another platform is refused the same way', async () => {
    const c = await open(1);
    const res = await upload(
      c,
      buildFirmwareImage({ version: NEW_VERSION, platform: 'PLATFORM_AM1_S9', sizeBytes: 20_000 }),
    );
    expect(res.successful).toBe(false);
    expect(await version(c)).toBe(FIRMWARE_CURRENT);
    const errs = (await c.call<GetErrorsResponse>('MinerService', 'GetErrors')).res.errors;
    expect(errs.map(e => e.message).join('\n')).toMatch(/PLATFORM_AM1_S9/);
  });

  it('a miner on API 1.2.0 reports it and has no SystemUpgrade', async () => {
    const c = await open(2);
    fleet.miner('sim-0003').apiVersion = { major: 1, minor: 2, patch: 0 };
    const v = (await c.call<ApiVersion>('ApiVersionService', 'GetApiVersion', {}, new grpc.Metadata())).res;
    expect([v.major, v.minor, v.patch].map(Number)).toEqual([1, 2, 0]);
    const err = await expectStatus(
      upload(c, buildFirmwareImage({ version: NEW_VERSION, sizeBytes: 20_000 })),
      grpc.status.UNIMPLEMENTED,
    );
    expect(err.details).toMatch(/needs API 1.10/);
    expect(fleet.truth('sim-0003').firmware).toBe(FIRMWARE_CURRENT);
  });

  it('old_version: back on the old version with SYSTEM_UPGRADE_FAILED; a good upgrade clears it', async () => {
    const c = await open(3);
    await upload(
      c,
      buildFirmwareImage({ version: NEW_VERSION, behaviour: 'old_version', sizeBytes: 20_000 }),
    );
    await waitFor(() => !fleet.truth('sim-0004').reachable, 2_000, 20);
    await waitFor(async () => {
      await c.login();
      return true;
    }, 10_000);
    expect(await version(c)).toBe(FIRMWARE_CURRENT);
    expect(await errorCodes(c)).toContain('SYSTEM_UPGRADE_FAILED');
    await upload(c, buildFirmwareImage({ version: NEW_VERSION, sizeBytes: 20_000 }));
    await waitFor(() => !fleet.truth('sim-0004').reachable, 2_000, 20);
    await waitFor(async () => {
      await c.login();
      return true;
    }, 10_000);
    expect(await version(c)).toBe(NEW_VERSION);
    expect(await errorCodes(c)).not.toContain('SYSTEM_UPGRADE_FAILED');
  });
});
