import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../runtime/logger.ts';
import type { ApiInfra, Caller } from '../../../services/context.ts';
import { FirmwareStore } from '../../../services/rollouts/firmware-store.ts';
import { buildFirmwareImage } from '../../../simulator/index.ts';
import { openEmbeddedStore, type EmbeddedStore } from '../../../store/embedded/index.ts';

// The firmware service over the embedded store (no servers): uploads land in
// <dataDir>/firmware, metadata in SQLite, and survive a restart. Only the fields FirmwareStore
// reads from ApiInfra are given.
const VERSION = '2026-06-01-0-1a2b3c4d-26.06-plus';
const admin: Caller = { sub: 'root', tenant: 'acme', roles: ['admin'] };

let dir: string;
let store: EmbeddedStore;
const serviceOver = (s: EmbeddedStore): FirmwareStore =>
  new FirmwareStore({ store: s, log: silentLogger() } as unknown as ApiInfra, { maxImageBytes: 1024 * 1024 });

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bosfleet-fw-embedded-'));
  store = openEmbeddedStore({ dataDir: dir, checkpointIntervalMs: 0 });
});
afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('firmware images on the embedded store', () => {
  it('uploads a stream, dedupes the same bytes, keeps it across a restart and deletes its file', async () => {
    const bytes = buildFirmwareImage({ version: VERSION, platform: 'PLATFORM_AM3_AML' });
    const fw = serviceOver(store);
    const { image, created } = await fw.upload(admin, { name: 'next.img' }, Readable.from([bytes.subarray(0, 100), bytes.subarray(100)]));
    expect(created).toBe(true);
    expect(image).toMatchObject({ version: VERSION, size_bytes: bytes.length });
    expect(await fw.upload(admin, { name: 'again.img' }, bytes)).toMatchObject({ created: false, image });
    // Nothing but the kept image is left in the folder (no staged uploads).
    expect(fs.readdirSync(path.join(dir, 'firmware'))).toEqual([`${image.sha256}.img`]);

    await store.close();
    store = openEmbeddedStore({ dataDir: dir, checkpointIntervalMs: 0 });
    const after = serviceOver(store);
    expect(await after.list(admin)).toEqual([image]);
    expect((await after.read(image)).equals(bytes)).toBe(true);
    expect(await after.findByVersion('acme', VERSION)).toEqual(image);

    await after.remove(admin, image.sha256);
    expect(await after.list(admin)).toEqual([]);
    expect(fs.readdirSync(path.join(dir, 'firmware'))).toEqual([]);
    await expect(after.get(admin, image.sha256)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('refuses an image over the size limit and leaves no file behind', async () => {
    const fw = serviceOver(store);
    const big = Buffer.concat([buildFirmwareImage({ version: VERSION }), Buffer.alloc(2 * 1024 * 1024)]);
    await expect(fw.upload(admin, { name: 'big.img' }, Readable.from([big]))).rejects.toMatchObject({
      code: 'invalid_argument',
    });
    expect(fs.readdirSync(path.join(dir, 'firmware'))).toEqual([]);
    expect(await fw.list(admin)).toEqual([]);
  });
});
