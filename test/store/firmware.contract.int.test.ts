import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import type { FirmwareImage } from '../../store/ports/firmware.ts';
import { BACKENDS, openTestStore, type TestStore } from './backends.ts';

// The firmware port on both backends: per-tenant image metadata over shared, content-addressed
// image files, and the image each miner last received. Real Redis, real SQLite, real files.

async function ready(s: TestStore): Promise<TestStore> {
  if (s.backend === 'influx-redis' && !(await waitForRedis(s.redis, 10_000))) throw new Error('Redis is not reachable');
  return s;
}

function imageOf(bytes: Buffer, extra: Partial<FirmwareImage> = {}): FirmwareImage {
  return {
    sha256: createHash('sha256').update(bytes).digest('hex'),
    name: 'fw.img',
    version: '2026-06-01-0-1a2b3c4d-26.06-plus',
    platform: 'PLATFORM_AM3_AML',
    format: 'bos-fleet',
    version_source: 'image',
    size_bytes: bytes.length,
    uploaded_ms: 1_000,
    uploaded_by: 'admin',
    ...extra,
  };
}

describe.each(BACKENDS)('firmware port (%s)', backend => {
  let store: TestStore;

  beforeEach(async () => {
    store = await ready(await openTestStore(backend));
  });
  afterEach(async () => {
    await store?.destroy();
  });

  /** Stage bytes as an upload would, then keep them for the tenant. */
  async function keep(tenant: string, bytes: Buffer, extra: Partial<FirmwareImage> = {}): Promise<FirmwareImage> {
    const image = imageOf(bytes, extra);
    const staged = await store.firmware.stagingFile();
    fs.writeFileSync(staged, bytes);
    await store.firmware.keepImage(tenant, image, staged);
    expect(fs.existsSync(staged)).toBe(false);
    return image;
  }

  it('keeps images per tenant, newest first, with their bytes', async () => {
    const older = randomBytes(4_096);
    const newer = randomBytes(2_048);
    const a1 = await keep('acme', older, { name: 'old.img', uploaded_ms: 1_000 });
    const a2 = await keep('acme', newer, { name: 'new.img', uploaded_ms: 2_000, platform: null, format: 'tar' });
    expect(await store.firmware.getImage('acme', a1.sha256)).toEqual(a1);
    expect(await store.firmware.listImages('acme')).toEqual([a2, a1]);
    expect(await store.firmware.getImage('other', a1.sha256)).toBeNull();
    expect(await store.firmware.listImages('other')).toEqual([]);
    expect((await store.firmware.readImageBytes(a1.sha256))?.equals(older)).toBe(true);
    expect(await store.firmware.hasImageBytes(a2.sha256)).toBe(true);
    const unknown = 'f'.repeat(64);
    expect(await store.firmware.hasImageBytes(unknown)).toBe(false);
    expect(await store.firmware.readImageBytes(unknown)).toBeNull();
  });

  it('shares one copy of the same bytes between tenants and deletes it with the last holder', async () => {
    const bytes = randomBytes(8_192);
    const a = await keep('acme', bytes, { name: 'acme.img' });
    const b = await keep('other', bytes, { name: 'other.img', uploaded_by: 'admin-2' });
    expect(a.sha256).toBe(b.sha256);
    expect((await store.firmware.getImage('other', b.sha256))?.name).toBe('other.img');

    expect(await store.firmware.deleteImage('nobody', a.sha256)).toBe(false);
    expect(await store.firmware.deleteImage('acme', a.sha256)).toBe(true);
    expect(await store.firmware.getImage('acme', a.sha256)).toBeNull();
    expect(await store.firmware.getImage('other', a.sha256)).toEqual(b);
    expect((await store.firmware.readImageBytes(a.sha256))?.equals(bytes)).toBe(true);
    expect(await store.firmware.deleteImage('acme', a.sha256)).toBe(false);

    expect(await store.firmware.deleteImage('other', b.sha256)).toBe(true);
    expect(await store.firmware.hasImageBytes(a.sha256)).toBe(false);
    expect(await store.firmware.listImages('other')).toEqual([]);
  });

  it('remembers the image each miner last received, per tenant', async () => {
    expect(await store.firmware.appliedImage('acme', 'm1')).toBeNull();
    await store.firmware.recordApplied('acme', 'm1', { sha256: 'a'.repeat(64), version: 'v1', applied_ms: 10 });
    await store.firmware.recordApplied('acme', 'm1', { sha256: 'b'.repeat(64), version: 'v2', applied_ms: 20 });
    await store.firmware.recordApplied('other', 'm1', { sha256: 'c'.repeat(64), version: 'v9', applied_ms: 30 });
    expect(await store.firmware.appliedImage('acme', 'm1')).toEqual({ sha256: 'b'.repeat(64), version: 'v2', applied_ms: 20 });
    expect(await store.firmware.appliedImage('other', 'm1')).toMatchObject({ version: 'v9' });
    expect(await store.firmware.appliedImage('acme', 'm2')).toBeNull();
  });

  it('keeps images, their bytes and applied images across a restart', async () => {
    const bytes = randomBytes(16_384);
    const image = await keep('acme', bytes);
    await store.firmware.recordApplied('acme', 'm1', { sha256: image.sha256, version: image.version, applied_ms: 5 });
    await store.close();

    store = await ready(await store.reopen());
    expect(await store.firmware.listImages('acme')).toEqual([image]);
    expect((await store.firmware.readImageBytes(image.sha256))?.equals(bytes)).toBe(true);
    expect(await store.firmware.appliedImage('acme', 'm1')).toMatchObject({ sha256: image.sha256 });
  });

  it.runIf(backend === 'embedded')('keeps image bytes as files in the data folder, not in the database', async () => {
    if (store.backend !== 'embedded') return;
    const bytes = randomBytes(4 * 1024 * 1024);
    const image = await keep('acme', bytes);
    expect(fs.readFileSync(path.join(store.database.dataDir, 'firmware', `${image.sha256}.img`)).equals(bytes)).toBe(true);
    store.database.checkpoint();
    expect(fs.statSync(store.database.file).size).toBeLessThan(bytes.length / 4);
  });
});
