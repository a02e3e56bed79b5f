import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIRMWARE_PREVIOUS, buildFirmwareImage } from '../../../simulator/index.ts';
import { startHarness, type Harness } from '../control/harness.ts';

// Uploads are validated against the image's own metadata before they are stored (real Redis and
// FIRMWARE_DIR; the simulator's image format).
let h: Harness;
const NEW = '2026-06-01-0-1a2b3c4d-26.06-plus';

beforeAll(async () => {
  h = await startHarness({ sim: { miners: 1, seed: 71, firmware: FIRMWARE_PREVIOUS } });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('firmware upload validation', () => {
  it('refuses bytes that cannot be a firmware image, and stores nothing', async () => {
    await expect(
      h.plane.firmware.upload(h.admin, { name: 'noise.img', version: NEW }, randomBytes(3 * 1024 * 1024)),
    ).rejects.toMatchObject({
      code: 'invalid_argument',
      message: expect.stringMatching(/not a firmware image/),
    });
    expect(await h.plane.firmware.list(h.admin)).toEqual([]);
  });

  it('refuses a declared version that differs from the image, naming both', async () => {
    const err = await h.plane.firmware
      .upload(
        h.admin,
        { name: 'typo.img', version: '2026-06-01-0-1a2b3c4d-26.07-plus' },
        buildFirmwareImage({ version: NEW }),
      )
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_argument' });
    expect((err as Error).message).toContain('2026-06-01-0-1a2b3c4d-26.07-plus');
    expect((err as Error).message).toContain(NEW);
  });

  it('refuses a declared platform that differs from the image, naming both', async () => {
    const err = await h.plane.firmware
      .upload(
        h.admin,
        { name: 'p.img', version: NEW, platform: 'PLATFORM_AM3_AML' },
        buildFirmwareImage({ version: NEW, platform: 'PLATFORM_AM1_S9' }),
      )
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_argument' });
    expect((err as Error).message).toMatch(/PLATFORM_AM3_AML.*PLATFORM_AM1_S9/);
  });

  it('reads version and platform from the image and keeps the checksum', async () => {
    const bytes = buildFirmwareImage({ version: NEW, platform: 'PLATFORM_AM3_AML' });
    const { image, created } = await h.plane.firmware.upload(h.admin, { name: 'ok.img' }, bytes);
    expect(created).toBe(true);
    expect(image).toMatchObject({
      version: NEW,
      platform: 'PLATFORM_AM3_AML',
      format: 'bos-fleet',
      version_source: 'image',
      size_bytes: bytes.length,
    });
    expect(image.sha256).toMatch(/^[a-f0-9]{64}$/);
    expect((await h.plane.firmware.read(image)).equals(bytes)).toBe(true);
  });

  it('a tar archive is accepted with the declared version, which it cannot contradict', async () => {
    const tar = Buffer.alloc(1024);
    tar.write('sysupgrade-bos/', 0, 'latin1');
    tar.write('ustar\u000000', 257, 'latin1');
    const { image } = await h.plane.firmware.upload(h.admin, { name: 'bos.tar', version: NEW }, tar);
    expect(image).toMatchObject({ format: 'tar', version: NEW, version_source: 'declared', platform: null });
    await expect(
      h.plane.firmware.upload(h.admin, { name: 'bos2.tar' }, Buffer.concat([tar, Buffer.alloc(512)])),
    ).rejects.toMatchObject({
      code: 'invalid_argument',
      message: expect.stringMatching(/does not state its version/),
    });
  });
});
