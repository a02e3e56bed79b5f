// Firmware images and UpgradeService.SystemUpgrade: good images reboot the miner into the new
// version (or fail the scripted way); corrupt uploads are rejected and change nothing.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { GetMinerDetailsResponse } from '../../proto/types.ts';
import {
  FIRMWARE_CURRENT,
  FirmwareImageError,
  buildFirmwareImage,
  parseFirmwareImage,
  sha256Hex,
  startSimulator,
  upgradeMetadataFor,
  type SimulatedFleet,
} from '../../simulator/index.ts';
import { connect, expectStatus, FAST, sleep, waitFor, type MinerClients } from './helpers.ts';

const NEW_VERSION = '2026-06-20-0-1a2b3c4d-26.06-plus';

function upload(
  c: MinerClients,
  image: Buffer,
  meta: { size: number; hash: string } | null = upgradeMetadataFor(image),
  chunk = 64 * 1024,
): Promise<{ successful: boolean }> {
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
    if (meta) call.write({ metadata: { ...meta, discard_settings: false, disable_cleanup: false } });
    for (let off = 0; off < image.length; off += chunk)
      call.write({ data: image.subarray(off, off + chunk) });
    call.end();
  });
}

describe('firmware image format', () => {
  it('builds and parses images; rejects corrupt ones', () => {
    const img = buildFirmwareImage({ version: NEW_VERSION, sizeBytes: 10_000 });
    expect(img.length).toBe(10_000);
    expect(img.subarray(0, 13).toString()).toBe('BOSFLEET-FW1\n');
    expect(parseFirmwareImage(img)).toMatchObject({
      version: NEW_VERSION,
      behaviour: 'ok',
      sizeBytes: 10_000,
    });
    expect(
      parseFirmwareImage(buildFirmwareImage({ version: NEW_VERSION, behaviour: 'dead_hashboard' })).behaviour,
    ).toBe('dead_hashboard');
    expect(sha256Hex(img)).toBe(sha256Hex(buildFirmwareImage({ version: NEW_VERSION, sizeBytes: 10_000 })));
    const bad = Buffer.from(img);
    bad[0] = 0x58;
    expect(() => parseFirmwareImage(bad)).toThrow(FirmwareImageError);
    expect(() => parseFirmwareImage(Buffer.from('BOSFLEET-FW1\n{not json}\n'))).toThrow(/JSON/);
    expect(() => parseFirmwareImage(Buffer.from('BOSFLEET-FW1\n{"version":"26.06"}\n'))).toThrow(
      /bad version/,
    );
    expect(() => buildFirmwareImage({ version: 'v1.2.3' })).toThrow(FirmwareImageError);
    expect(() => buildFirmwareImage({ version: NEW_VERSION, sizeBytes: 10 })).toThrow(/sizeBytes/);
  });
});

describe('SystemUpgrade', () => {
  let fleet: SimulatedFleet;
  const clients: MinerClients[] = [];
  const open = async (index: number): Promise<MinerClients> => {
    const c = connect(fleet.miners[index]!.address);
    clients.push(c);
    await c.login();
    return c;
  };
  const version = async (c: MinerClients): Promise<string> =>
    (await c.call<GetMinerDetailsResponse>('MinerService', 'GetMinerDetails')).res.bos_version!.current;
  /** Waits until the miner answers again and logs in (sessions do not survive reboots). */
  const waitBack = async (c: MinerClients): Promise<void> => {
    await waitFor(async () => {
      await c.login();
      return true;
    }, 10_000);
  };

  beforeAll(async () => {
    fleet = await startSimulator({
      miners: 6,
      seed: 'fw',
      models: 's19jpro',
      baseAddress: '127.7.0.1',
      firmware: FIRMWARE_CURRENT,
      ...FAST,
    });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await fleet.stop();
  });

  it('a good image answers successful, the miner reboots and comes back on the new version', async () => {
    const c = await open(0);
    expect(await version(c)).toBe(FIRMWARE_CURRENT);
    const res = await upload(c, buildFirmwareImage({ version: NEW_VERSION, sizeBytes: 300_000 }));
    expect(res).toEqual({ successful: true });
    await waitFor(() => !fleet.truth('sim-0001').reachable, 2_000, 20);
    await expectStatus(
      c.call('ApiVersionService', 'GetApiVersion', {}, new grpc.Metadata(), 1_000),
      grpc.status.UNAVAILABLE,
    );
    await waitBack(c);
    expect(await version(c)).toBe(NEW_VERSION);
    const d = (await c.call<GetMinerDetailsResponse>('MinerService', 'GetMinerDetails')).res;
    expect(d.system_uptime_s).toBeLessThan(10);
    expect(d.status).toBe('MINER_STATUS_NORMAL');
  });

  it('corrupt uploads are INVALID_ARGUMENT and change nothing', async () => {
    const c = await open(1);
    const img = buildFirmwareImage({ version: NEW_VERSION, sizeBytes: 50_000 });
    const meta = upgradeMetadataFor(img);
    const wrongHash = await expectStatus(
      upload(c, img, { ...meta, hash: sha256Hex(Buffer.from('other')) }),
      grpc.status.INVALID_ARGUMENT,
    );
    expect(wrongHash.details).toMatch(/SHA-256 mismatch/);
    const wrongSize = await expectStatus(
      upload(c, img, { ...meta, size: meta.size + 1 }),
      grpc.status.INVALID_ARGUMENT,
    );
    expect(wrongSize.details).toMatch(/size mismatch/);
    const tooMuch = await expectStatus(
      upload(c, img, { ...meta, size: 1_000 }),
      grpc.status.INVALID_ARGUMENT,
    );
    expect(tooMuch.details).toMatch(/more than the declared/);
    const garbage = Buffer.alloc(4_096, 7);
    const badMagic = await expectStatus(upload(c, garbage), grpc.status.INVALID_ARGUMENT);
    expect(badMagic.details).toMatch(/corrupt firmware image: .*magic/);
    await expectStatus(upload(c, img, null), grpc.status.INVALID_ARGUMENT);
    await expectStatus(upload(c, Buffer.alloc(0), { size: 10, hash: 'xyz' }), grpc.status.INVALID_ARGUMENT);
    await sleep(300);
    expect(fleet.truth('sim-0002')).toMatchObject({ reachable: true, firmware: FIRMWARE_CURRENT });
    expect(await version(c)).toBe(FIRMWARE_CURRENT);
  });

  it('behaviour old_version: comes back on the old version', async () => {
    const c = await open(2);
    await upload(
      c,
      buildFirmwareImage({ version: NEW_VERSION, behaviour: 'old_version', sizeBytes: 20_000 }),
    );
    await waitFor(() => !fleet.truth('sim-0003').reachable, 2_000, 20);
    await waitBack(c);
    expect(await version(c)).toBe(FIRMWARE_CURRENT);
  });

  it('behaviour dead_hashboard: comes back upgraded with a dead hashboard', async () => {
    const c = await open(3);
    await upload(
      c,
      buildFirmwareImage({ version: NEW_VERSION, behaviour: 'dead_hashboard', sizeBytes: 20_000 }),
    );
    await waitFor(() => !fleet.truth('sim-0004').reachable, 2_000, 20);
    await waitBack(c);
    expect(await version(c)).toBe(NEW_VERSION);
    const t = fleet.truth('sim-0004');
    expect(t.boards_hashing).toBe(2);
    expect(t.faults.map(f => f.kind)).toContain('hashboard_failure');
  });

  it('behaviour never_returns: stays unreachable (until the unreachable fault is cleared)', async () => {
    const c = await open(4);
    await upload(
      c,
      buildFirmwareImage({ version: NEW_VERSION, behaviour: 'never_returns', sizeBytes: 20_000 }),
    );
    await waitFor(() => !fleet.truth('sim-0005').reachable, 2_000, 20);
    await sleep(FAST.rebootMs * 2.5);
    expect(fleet.truth('sim-0005').reachable).toBe(false);
    await expectStatus(
      c.call('ApiVersionService', 'GetApiVersion', {}, new grpc.Metadata(), 1_000),
      grpc.status.UNAVAILABLE,
    );
    fleet.clearFault('sim-0005', 'unreachable');
    await waitBack(c);
    expect(await version(c)).toBe(FIRMWARE_CURRENT);
  });

  it('a per-miner upgrade_failure fault overrides a good image', async () => {
    const c = await open(5);
    fleet.injectFault('sim-0006', { kind: 'upgrade_failure', mode: 'old_version' });
    expect(
      (await upload(c, buildFirmwareImage({ version: NEW_VERSION, sizeBytes: 20_000 }))).successful,
    ).toBe(true);
    await waitFor(() => !fleet.truth('sim-0006').reachable, 2_000, 20);
    await waitBack(c);
    expect(await version(c)).toBe(FIRMWARE_CURRENT);
  });
});
