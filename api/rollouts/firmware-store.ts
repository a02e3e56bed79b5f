import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { FleetError } from '../../collector/errors.ts';
import type { ApiInfra, Caller } from '../context.ts';
import { hasRole } from '../context.ts';

/**
 * Firmware images for rollouts. The bytes live in FIRMWARE_DIR named by their SHA-256
 * (`<sha256>.img`, content-addressed: two tenants uploading the same image share one file);
 * the metadata lives in Redis per tenant (keys.custom('firmware', 'images', tenant): HASH
 * sha256 -> JSON FirmwareImage), so every API replica sharing the directory sees the same
 * images. The expected firmware version is given by the uploader (`version`); the image
 * format itself is never parsed here.
 *
 * keys.custom('firmware', 'applied', tenant): HASH miner id -> JSON { sha256, version,
 * applied_ms }: the image a rollout last put on each miner, used to roll back.
 */

export const firmwareUploadSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9._+-]{1,128}$/, {
      error: 'expected 1-128 characters of letters, digits, ".", "_", "+" or "-"',
    }),
  version: z
    .string()
    .regex(/^[A-Za-z0-9._+-]{1,128}$/, {
      error: 'expected the firmware version the image installs, e.g. 2026-06-01-0-1a2b3c4d-26.06-plus',
    }),
});

export type FirmwareUpload = z.output<typeof firmwareUploadSchema>;

export interface FirmwareImage {
  sha256: string;
  name: string;
  version: string;
  size_bytes: number;
  uploaded_ms: number;
  uploaded_by: string;
}

export interface AppliedImage {
  sha256: string;
  version: string;
  applied_ms: number;
}

export interface FirmwareStoreOptions {
  /** Largest accepted image, in bytes. @defaultValue 1 GiB */
  maxImageBytes?: number;
}

export const sha256Schema = z
  .string()
  .regex(/^[a-f0-9]{64}$/, { error: 'expected a SHA-256 checksum (64 lower-case hex characters)' });

export class FirmwareStore {
  private readonly infra: ApiInfra;
  private readonly dir: string;
  readonly maxImageBytes: number;

  constructor(infra: ApiInfra, options: FirmwareStoreOptions = {}) {
    this.infra = infra;
    this.dir = path.resolve(infra.config.FIRMWARE_DIR);
    this.maxImageBytes = options.maxImageBytes ?? 1024 ** 3;
  }

  private imagesKey(tenant: string): string {
    return this.infra.keys.custom('firmware', 'images', tenant);
  }

  private refsKey(sha: string): string {
    return this.infra.keys.custom('firmware', 'refs', sha);
  }

  private appliedKey(tenant: string): string {
    return this.infra.keys.custom('firmware', 'applied', tenant);
  }

  filePath(sha256: string): string {
    return path.join(this.dir, `${sha256}.img`);
  }

  /**
   * Store an image from a stream (the HTTP body) or a buffer; hashes while writing, refuses
   * bodies over maxImageBytes. Uploading the same bytes again with the same version returns the
   * stored image; with another version it is a conflict.
   */
  async upload(
    caller: Caller,
    meta: FirmwareUpload,
    body: Readable | Buffer,
  ): Promise<{ image: FirmwareImage; created: boolean }> {
    if (!hasRole(caller, 'admin'))
      throw new FleetError('forbidden', 'uploading firmware needs the admin role');
    const parsed = firmwareUploadSchema.safeParse(meta);
    if (!parsed.success)
      throw new FleetError(
        'invalid_argument',
        `invalid firmware upload: ${parsed.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    await mkdir(this.dir, { recursive: true });
    const tmp = path.join(this.dir, `.upload-${randomUUID()}`);
    const hash = createHash('sha256');
    let size = 0;
    const max = this.maxImageBytes;
    try {
      if (Buffer.isBuffer(body)) {
        if (body.length > max)
          throw new FleetError('invalid_argument', `image is larger than the ${max} byte limit`);
        hash.update(body);
        size = body.length;
        const out = createWriteStream(tmp);
        await new Promise<void>((resolve, reject) => {
          out.on('error', reject);
          out.end(body, () => resolve());
        });
      } else {
        await pipeline(
          body,
          async function* (source: AsyncIterable<Buffer>) {
            for await (const chunk of source) {
              size += chunk.length;
              if (size > max)
                throw new FleetError('invalid_argument', `image is larger than the ${max} byte limit`);
              hash.update(chunk);
              yield chunk;
            }
          },
          createWriteStream(tmp),
        );
      }
      if (size === 0)
        throw new FleetError(
          'invalid_argument',
          'the image is empty; send the firmware file as the request body (application/octet-stream)',
        );
      const sha256 = hash.digest('hex');
      const existing = await this.find(caller.tenant, sha256);
      if (existing) {
        if (existing.version !== parsed.data.version) {
          throw new FleetError(
            'conflict',
            `this image is already stored as version ${existing.version} (${existing.name}); delete it first to change its version`,
            { details: { sha256 } },
          );
        }
        return { image: existing, created: false };
      }
      await rename(tmp, this.filePath(sha256));
      const image: FirmwareImage = {
        sha256,
        name: parsed.data.name,
        version: parsed.data.version,
        size_bytes: size,
        uploaded_ms: Date.now(),
        uploaded_by: caller.sub,
      };
      const p = this.infra.redis.multi();
      p.hset(this.imagesKey(caller.tenant), sha256, JSON.stringify(image));
      p.sadd(this.refsKey(sha256), caller.tenant);
      await p.exec();
      return { image, created: true };
    } catch (err) {
      if (err instanceof FleetError) throw err;
      throw new FleetError(
        'unavailable',
        'the firmware image could not be stored; check FIRMWARE_DIR is writable and has space',
        { cause: err },
      );
    } finally {
      await rm(tmp, { force: true }).catch(() => undefined);
    }
  }

  private async find(tenant: string, sha256: string): Promise<FirmwareImage | null> {
    const raw = await this.infra.redis.hget(this.imagesKey(tenant), sha256);
    return raw ? (JSON.parse(raw) as FirmwareImage) : null;
  }

  async list(caller: Caller): Promise<FirmwareImage[]> {
    const all = await this.infra.redis.hgetall(this.imagesKey(caller.tenant));
    return Object.values(all)
      .map(v => JSON.parse(v) as FirmwareImage)
      .sort((a, b) => b.uploaded_ms - a.uploaded_ms);
  }

  async get(caller: Caller, sha256: string): Promise<FirmwareImage> {
    const image = await this.find(caller.tenant, sha256);
    if (!image)
      throw new FleetError(
        'not_found',
        `no firmware image ${sha256}; GET /api/v1/firmware/images lists the stored images`,
        { details: { sha256 } },
      );
    return image;
  }

  /** The newest stored image of `version`, if any (rollback lookups). */
  async findByVersion(tenant: string, version: string): Promise<FirmwareImage | null> {
    const all = await this.infra.redis.hgetall(this.imagesKey(tenant));
    const hits = Object.values(all)
      .map(v => JSON.parse(v) as FirmwareImage)
      .filter(i => i.version === version)
      .sort((a, b) => b.uploaded_ms - a.uploaded_ms);
    return hits[0] ?? null;
  }

  /** The bytes of an image, checked against its checksum. */
  async read(image: FirmwareImage): Promise<Buffer> {
    let data: Buffer;
    try {
      data = await readFile(this.filePath(image.sha256));
    } catch (err) {
      throw new FleetError(
        'precondition_failed',
        `the file of firmware image ${image.name} (${image.sha256}) is missing from FIRMWARE_DIR; upload it again`,
        { cause: err },
      );
    }
    const sha = createHash('sha256').update(data).digest('hex');
    if (sha !== image.sha256)
      throw new FleetError(
        'precondition_failed',
        `the file of firmware image ${image.name} is corrupt (checksum mismatch); upload it again`,
      );
    return data;
  }

  async remove(caller: Caller, sha256: string): Promise<void> {
    if (!hasRole(caller, 'admin'))
      throw new FleetError('forbidden', 'deleting firmware needs the admin role');
    await this.get(caller, sha256);
    const p = this.infra.redis.multi();
    p.hdel(this.imagesKey(caller.tenant), sha256);
    p.srem(this.refsKey(sha256), caller.tenant);
    p.scard(this.refsKey(sha256));
    const res = await p.exec();
    const left = Number(res?.[2]?.[1] ?? 1);
    if (left === 0) await rm(this.filePath(sha256), { force: true }).catch(() => undefined);
  }

  async applied(tenant: string, minerId: string): Promise<AppliedImage | null> {
    const raw = await this.infra.redis.hget(this.appliedKey(tenant), minerId);
    return raw ? (JSON.parse(raw) as AppliedImage) : null;
  }

  async recordApplied(tenant: string, minerId: string, image: FirmwareImage): Promise<void> {
    const v: AppliedImage = { sha256: image.sha256, version: image.version, applied_ms: Date.now() };
    await this.infra.redis.hset(this.appliedKey(tenant), minerId, JSON.stringify(v));
  }

  /** The image to roll a miner back to: the one last applied if it matches the version, else any stored image of that version. */
  async previousImage(tenant: string, minerId: string, version: string): Promise<FirmwareImage | null> {
    const applied = await this.applied(tenant, minerId);
    if (applied && applied.version === version) {
      const img = await this.find(tenant, applied.sha256);
      if (img) return img;
    }
    return this.findByVersion(tenant, version);
  }

  /** Does the image file exist (readiness check)? */
  async hasFile(sha256: string): Promise<boolean> {
    return stat(this.filePath(sha256)).then(
      () => true,
      () => false,
    );
  }
}
