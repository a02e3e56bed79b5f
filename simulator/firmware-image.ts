// The firmware image format the simulator accepts through UpgradeService.SystemUpgrade.
//
//   BOSFLEET-FW1\n                                   magic (13 bytes)
//   {"version":"2026-06-…-26.06-plus","platform":"PLATFORM_AM3_AML","behaviour":"ok"}\n
//                                                    JSON header line (UTF-8); platform optional
//   <payload bytes>                                  filler up to sizeBytes
//
// The uploader sends SystemUpgradeMetadata{size, hash = SHA-256 hex of the whole image} and then
// the image in data chunks. The simulator checks size, hash, magic and header; `behaviour`
// scripts what the miner does after the reboot (come back upgraded, never come back, come back
// on the old version, come back with a dead hashboard).
import { createHash } from 'node:crypto';

import { isFirmwareVersion } from './identity.ts';
import { hash4, hashString } from './random.ts';

export const FIRMWARE_MAGIC = 'BOSFLEET-FW1\n';

export const FIRMWARE_BEHAVIOURS = ['ok', 'never_returns', 'old_version', 'dead_hashboard'] as const;
export type FirmwareBehaviour = (typeof FIRMWARE_BEHAVIOURS)[number];

export interface FirmwareImageHeader {
  version: string;
  /** Platform enum name the image is built for (PLATFORM_…); absent = any platform. */
  platform?: string;
  behaviour: FirmwareBehaviour;
}

export interface BuildFirmwareImageOptions {
  /** Firmware version string `YYYY-MM-DD-<n>-<8 hex>-<YY.MM[.x]>-plus`. */
  version: string;
  behaviour?: FirmwareBehaviour;
  /** Platform enum name (PLATFORM_…) written into the header; omitted = any platform. */
  platform?: string;
  /** Total image size in bytes (default 256 KiB); must leave room for magic and header. */
  sizeBytes?: number;
}

export interface ParsedFirmwareImage extends FirmwareImageHeader {
  sizeBytes: number;
  payloadBytes: number;
}

export class FirmwareImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FirmwareImageError';
  }
}

const MAX_HEADER_BYTES = 4_096;

/** Builds a test firmware image; the payload is deterministic filler derived from the version. */
export function buildFirmwareImage(options: BuildFirmwareImageOptions): Buffer {
  const behaviour = options.behaviour ?? 'ok';
  if (!isFirmwareVersion(options.version)) {
    throw new FirmwareImageError(
      `version '${options.version}' is not YYYY-MM-DD-<n>-<8 hex>-<YY.MM[.x]>-plus`,
    );
  }
  if (!(FIRMWARE_BEHAVIOURS as readonly string[]).includes(behaviour)) {
    throw new FirmwareImageError(`unknown behaviour '${behaviour}'`);
  }
  if (options.platform !== undefined && !/^PLATFORM_[A-Z0-9_]+$/.test(options.platform))
    throw new FirmwareImageError(`platform '${options.platform}' is not a PLATFORM_… enum name`);
  const header =
    options.platform !== undefined
      ? { version: options.version, platform: options.platform, behaviour }
      : { version: options.version, behaviour };
  const head = Buffer.from(
    `${FIRMWARE_MAGIC}${JSON.stringify(header)}\n`,
    'utf8',
  );
  const size = options.sizeBytes ?? 256 * 1024;
  if (!Number.isInteger(size) || size < head.length) {
    throw new FirmwareImageError(`sizeBytes must be an integer ≥ ${head.length}`);
  }
  const image = Buffer.alloc(size);
  head.copy(image, 0);
  const seed = hashString(options.version);
  for (let off = head.length, i = 0; off < size; off += 4, i++) {
    const word = hash4(seed, i);
    for (let b = 0; b < 4 && off + b < size; b++) image[off + b] = (word >>> (8 * b)) & 0xff;
  }
  return image;
}

/** Parses and validates magic and header; throws FirmwareImageError when the image is corrupt. */
export function parseFirmwareImage(image: Uint8Array): ParsedFirmwareImage {
  const buf = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  const magic = Buffer.from(FIRMWARE_MAGIC, 'utf8');
  if (buf.length < magic.length || !buf.subarray(0, magic.length).equals(magic)) {
    throw new FirmwareImageError('not a firmware image: bad magic');
  }
  const end = buf.indexOf(0x0a, magic.length);
  if (end < 0 || end - magic.length > MAX_HEADER_BYTES)
    throw new FirmwareImageError('firmware header line missing');
  let header: unknown;
  try {
    header = JSON.parse(buf.subarray(magic.length, end).toString('utf8'));
  } catch {
    throw new FirmwareImageError('firmware header is not valid JSON');
  }
  if (typeof header !== 'object' || header === null)
    throw new FirmwareImageError('firmware header is not an object');
  const {
    version,
    platform,
    behaviour = 'ok',
  } = header as { version?: unknown; platform?: unknown; behaviour?: unknown };
  if (platform !== undefined && (typeof platform !== 'string' || !/^PLATFORM_[A-Z0-9_]+$/.test(platform)))
    throw new FirmwareImageError(`firmware header has a bad platform: ${JSON.stringify(platform)}`);
  if (typeof version !== 'string' || !isFirmwareVersion(version)) {
    throw new FirmwareImageError(`firmware header has a bad version: ${JSON.stringify(version)}`);
  }
  if (typeof behaviour !== 'string' || !(FIRMWARE_BEHAVIOURS as readonly string[]).includes(behaviour)) {
    throw new FirmwareImageError(`firmware header has an unknown behaviour: ${JSON.stringify(behaviour)}`);
  }
  return {
    version,
    ...(platform !== undefined ? { platform } : {}),
    behaviour: behaviour as FirmwareBehaviour,
    sizeBytes: buf.length,
    payloadBytes: buf.length - end - 1,
  };
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The SystemUpgradeMetadata an uploader sends before the image. */
export function upgradeMetadataFor(image: Uint8Array): { size: number; hash: string } {
  return { size: image.byteLength, hash: sha256Hex(image) };
}
