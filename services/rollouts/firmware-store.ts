import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { FleetError } from '../../core/errors.ts';
import type { ApiInfra, Caller } from '../context.ts';
import { hasRole } from '../context.ts';
import {
  FirmwareMetadataError,
  METADATA_PREFIX_BYTES,
  readFirmwareMetadata,
  type FirmwareImageMetadata,
} from './firmware-image-metadata.ts';
import type { AppliedImage, FirmwareImage, FirmwarePort } from '../../store/ports/firmware.ts';

export type { AppliedImage, FirmwareImage } from '../../store/ports/firmware.ts';

/**
 * Firmware images for rollouts, over the store's firmware port (infra.store.firmware): the bytes
 * are content-addressed by SHA-256 (two tenants uploading the same image share one file), the
 * metadata is per tenant. The image's own metadata (firmware-image-metadata.ts) is read before
 * it is kept: a file that cannot be firmware is refused, and a declared version or platform that
 * disagrees with what the image contains is refused naming both. The store also remembers the
 * image a rollout last put on each miner, used to roll back.
 */

export const firmwareUploadSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._+-]{1,128}$/, {
    error: 'expected 1-128 characters of letters, digits, ".", "_", "+" or "-"',
  }),
  /** The version the image installs; may be left out when the image states it. */
  version: z
    .string()
    .regex(/^[A-Za-z0-9._+-]{1,128}$/, {
      error: 'expected the firmware version the image installs, e.g. 2026-06-01-0-1a2b3c4d-26.06-plus',
    })
    .optional(),
  /** The platform the image is built for (PLATFORM_…); checked against the image when it states one. */
  platform: z
    .string()
    .regex(/^PLATFORM_[A-Z0-9_]{1,64}$/, { error: 'expected a platform enum name, e.g. PLATFORM_AM3_AML' })
    .optional(),
});

export type FirmwareUpload = z.output<typeof firmwareUploadSchema>;

export interface FirmwareStoreOptions {
  /** Largest accepted image, in bytes. @defaultValue 1 GiB */
  maxImageBytes?: number;
}

export const sha256Schema = z
  .string()
  .regex(/^[a-f0-9]{64}$/, { error: 'expected a SHA-256 checksum (64 lower-case hex characters)' });

export class FirmwareStore {
  private readonly store: FirmwarePort;
  private readonly log: ApiInfra['log'];
  readonly maxImageBytes: number;

  constructor(infra: ApiInfra, options: FirmwareStoreOptions = {}) {
    this.store = infra.store.firmware;
    this.log = infra.log;
    this.maxImageBytes = options.maxImageBytes ?? 1024 ** 3;
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
    let tmp: string | null = null;
    const hash = createHash('sha256');
    let size = 0;
    const max = this.maxImageBytes;
    try {
      tmp = await this.store.stagingFile();
      const staged = tmp;
      if (Buffer.isBuffer(body)) {
        if (body.length > max)
          throw new FleetError('invalid_argument', `image is larger than the ${max} byte limit`);
        hash.update(body);
        size = body.length;
        const out = createWriteStream(staged);
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
          createWriteStream(staged),
        );
      }
      if (size === 0)
        throw new FleetError(
          'invalid_argument',
          'the image is empty; send the firmware file as the request body (application/octet-stream)',
        );
      const meta = await this.checkMetadata(staged, parsed.data);
      const sha256 = hash.digest('hex');
      const existing = await this.find(caller.tenant, sha256);
      if (existing) {
        if (existing.version !== meta.version) {
          throw new FleetError(
            'conflict',
            `this image is already stored as version ${existing.version} (${existing.name}); delete it first to change its version`,
            { details: { sha256 } },
          );
        }
        return { image: existing, created: false };
      }
      const image: FirmwareImage = {
        sha256,
        name: parsed.data.name,
        version: meta.version,
        platform: meta.platform,
        format: meta.format,
        version_source: meta.version_source,
        size_bytes: size,
        uploaded_ms: Date.now(),
        uploaded_by: caller.sub,
      };
      await this.store.keepImage(caller.tenant, image, staged);
      tmp = null;
      return { image, created: true };
    } catch (err) {
      if (err instanceof FleetError) throw err;
      throw new FleetError(
        'unavailable',
        'the firmware image could not be stored; check the firmware folder (FIRMWARE_DIR, or firmware/ in the data folder) is writable and has space',
        { cause: err },
      );
    } finally {
      if (tmp !== null)
        await rm(tmp, { force: true }).catch((err: unknown) =>
          this.log.warn({ file: tmp, err: (err as Error).message }, 'firmware: an unkept upload file could not be deleted'),
        );
    }
  }

  /** The image's own metadata against what the uploader declared; invalid_argument naming both on a mismatch. */
  private async checkMetadata(
    file: string,
    declared: FirmwareUpload,
  ): Promise<{
    version: string;
    platform: string | null;
    format: FirmwareImageMetadata['format'];
    version_source: 'image' | 'declared';
  }> {
    const fh = await open(file, 'r');
    let head: Buffer;
    try {
      const buf = Buffer.alloc(METADATA_PREFIX_BYTES);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
    let meta: FirmwareImageMetadata;
    try {
      meta = readFirmwareMetadata(head);
    } catch (err) {
      if (err instanceof FirmwareMetadataError) throw new FleetError('invalid_argument', err.message);
      throw err;
    }
    if (declared.version !== undefined && meta.version !== null && declared.version !== meta.version)
      throw new FleetError(
        'invalid_argument',
        `declared version ${declared.version} does not match the version the image contains, ${meta.version}`,
        { details: { declared_version: declared.version, image_version: meta.version } },
      );
    if (declared.platform !== undefined && meta.platform !== null && declared.platform !== meta.platform)
      throw new FleetError(
        'invalid_argument',
        `declared platform ${declared.platform} does not match the platform the image is built for, ${meta.platform}`,
        { details: { declared_platform: declared.platform, image_platform: meta.platform } },
      );
    const version = meta.version ?? declared.version;
    if (version === undefined)
      throw new FleetError(
        'invalid_argument',
        `this ${meta.format} image does not state its version; give the version it installs (version=…)`,
      );
    return {
      version,
      platform: meta.platform ?? declared.platform ?? null,
      format: meta.format,
      version_source: meta.version !== null ? 'image' : 'declared',
    };
  }

  private async find(tenant: string, sha256: string): Promise<FirmwareImage | null> {
    const image = await this.store.getImage(tenant, sha256);
    return image ? normalizeImage(image) : null;
  }

  async list(caller: Caller): Promise<FirmwareImage[]> {
    return (await this.store.listImages(caller.tenant)).map(normalizeImage);
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
    const all = await this.store.listImages(tenant);
    const hit = all.find(i => i.version === version);
    return hit ? normalizeImage(hit) : null;
  }

  /** The bytes of an image, checked against its checksum. */
  async read(image: FirmwareImage): Promise<Buffer> {
    let data: Buffer | null;
    try {
      data = await this.store.readImageBytes(image.sha256);
    } catch (err) {
      throw new FleetError(
        'unavailable',
        `the file of firmware image ${image.name} (${image.sha256}) cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        { cause: err },
      );
    }
    if (data === null)
      throw new FleetError(
        'precondition_failed',
        `the file of firmware image ${image.name} (${image.sha256}) is missing from the image folder; upload it again`,
      );
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
    await this.store.deleteImage(caller.tenant, sha256);
  }

  async applied(tenant: string, minerId: string): Promise<AppliedImage | null> {
    return this.store.appliedImage(tenant, minerId);
  }

  async recordApplied(tenant: string, minerId: string, image: FirmwareImage): Promise<void> {
    const v: AppliedImage = { sha256: image.sha256, version: image.version, applied_ms: Date.now() };
    await this.store.recordApplied(tenant, minerId, v);
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
    return this.store.hasImageBytes(sha256);
  }
}

/** Images stored before metadata was read have no platform/format: they read as "not stated". */
function normalizeImage(i: FirmwareImage): FirmwareImage {
  return {
    ...i,
    platform: i.platform ?? null,
    format: i.format ?? null,
    version_source: i.version_source ?? null,
  };
}
