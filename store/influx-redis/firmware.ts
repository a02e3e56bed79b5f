import type { Redis } from 'ioredis';
import type { Logger } from '../../runtime/logger.ts';
import { FirmwareFolder } from '../firmware-folder.ts';
import type { AppliedImage, FirmwareImage, FirmwarePort } from '../ports/firmware.ts';
import type { RedisKeys } from './redis-keys.ts';

/**
 * Firmware metadata in Redis, bytes in FIRMWARE_DIR (a folder every API replica shares):
 *  - custom('firmware', 'images', tenant): HASH sha256 -> JSON FirmwareImage;
 *  - custom('firmware', 'refs', sha256): SET of tenants holding those bytes;
 *  - custom('firmware', 'applied', tenant): HASH miner id -> JSON AppliedImage.
 */
export function redisFirmware(redis: Redis, keys: RedisKeys, firmwareDir: string, log?: Logger): FirmwarePort {
  const folder = new FirmwareFolder(firmwareDir);
  const imagesKey = (tenant: string): string => keys.custom('firmware', 'images', tenant);
  const refsKey = (sha: string): string => keys.custom('firmware', 'refs', sha);
  const appliedKey = (tenant: string): string => keys.custom('firmware', 'applied', tenant);

  return {
    stagingFile: () => folder.stagingFile(),

    async keepImage(tenant, image, stagedFile) {
      await folder.keep(image.sha256, stagedFile);
      await redis
        .multi()
        .hset(imagesKey(tenant), image.sha256, JSON.stringify(image))
        .sadd(refsKey(image.sha256), tenant)
        .exec();
    },

    async getImage(tenant, sha256) {
      const raw = await redis.hget(imagesKey(tenant), sha256);
      return raw ? (JSON.parse(raw) as FirmwareImage) : null;
    },

    async listImages(tenant) {
      return Object.values(await redis.hgetall(imagesKey(tenant)))
        .map(v => JSON.parse(v) as FirmwareImage)
        .sort((a, b) => b.uploaded_ms - a.uploaded_ms);
    },

    async deleteImage(tenant, sha256) {
      const res = await redis
        .multi()
        .hdel(imagesKey(tenant), sha256)
        .srem(refsKey(sha256), tenant)
        .scard(refsKey(sha256))
        .exec();
      const removed = Number(res?.[0]?.[1] ?? 0) > 0;
      const left = Number(res?.[2]?.[1] ?? 1);
      if (left === 0)
        await folder.remove(sha256).catch((err: unknown) =>
          log?.warn({ sha256, err: (err as Error).message }, 'firmware: the unused image file could not be deleted'),
        );
      return removed;
    },

    readImageBytes: sha256 => folder.read(sha256),
    hasImageBytes: sha256 => folder.has(sha256),

    async appliedImage(tenant, minerId) {
      const raw = await redis.hget(appliedKey(tenant), minerId);
      return raw ? (JSON.parse(raw) as AppliedImage) : null;
    },

    async recordApplied(tenant, minerId, applied) {
      await redis.hset(appliedKey(tenant), minerId, JSON.stringify(applied));
    },
  };
}
